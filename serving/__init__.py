"""Model serving: the endpoint registry per role and profile, the local llama.cpp server, health checks,
embeddings, the model catalog, the memory plan and the compose generator.

Names load on first use, so `import serving` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from serving.embeddings import Embedder, get_embedder
    from serving.errors import ModelServerError, ModelServerUnavailable, ServerStartError
    from serving.health import RoleHealth, status
    from serving.lifecycle import ensure_endpoint
    from serving.llama_server import LocalModelServer
    from serving.registry import Endpoint, Role, endpoint, endpoints
    from serving.settings import ServingSettings

_WHERE = {
    "ServingSettings": "serving.settings",
    "LocalModelServer": "serving.llama_server",
    "Embedder": "serving.embeddings",
    "get_embedder": "serving.embeddings",
    "RoleHealth": "serving.health",
    "status": "serving.health",
    **dict.fromkeys(["Endpoint", "Role", "endpoint", "endpoints"], "serving.registry"),
    "ensure_endpoint": "serving.lifecycle",
    **dict.fromkeys(["ModelServerError", "ModelServerUnavailable", "ServerStartError"], "serving.errors"),
}
__all__ = [
    "Embedder",
    "Endpoint",
    "LocalModelServer",
    "ModelServerError",
    "ModelServerUnavailable",
    "Role",
    "RoleHealth",
    "ServerStartError",
    "ServingSettings",
    "endpoint",
    "endpoints",
    "ensure_endpoint",
    "get_embedder",
    "status",
]
__getattr__ = lazy_exports(__name__, _WHERE)
