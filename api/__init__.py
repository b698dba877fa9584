"""The resident service: its HTTP app (the OpenAI-compatible endpoints in `api.app`, the native API in
`api.native`), its lifecycle (`api.service`) and the thin client every front end uses (`api.client`).

Names are imported on first use, so a thin client importing `api.client` does not load FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from api.app import create_app
    from api.catalog import BASE_MODEL, MODEL_DESCRIPTIONS, MODELS
    from api.conversation import compose_message
    from api.errors import ApiError
    from api.images import save_images
    from api.schemas import ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChatMessage
    from api.settings import ApiSettings

_EXPORTS = {
    "create_app": "api.app",
    "ApiSettings": "api.settings",
    "BASE_MODEL": "api.catalog",
    "MODELS": "api.catalog",
    "MODEL_DESCRIPTIONS": "api.catalog",
    "ApiError": "api.errors",
    "compose_message": "api.conversation",
    "save_images": "api.images",
    "ChatCompletion": "api.schemas",
    "ChatCompletionChunk": "api.schemas",
    "ChatCompletionRequest": "api.schemas",
    "ChatMessage": "api.schemas",
}
__all__ = [
    "BASE_MODEL",
    "MODELS",
    "MODEL_DESCRIPTIONS",
    "ApiError",
    "ApiSettings",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatMessage",
    "compose_message",
    "create_app",
    "save_images",
]

__getattr__ = lazy_exports(__name__, _EXPORTS)
