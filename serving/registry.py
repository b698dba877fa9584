"""The endpoint registry: which OpenAI-compatible server serves each role, per profile, as things stand.

It only reads (the local servers' records, the settings); starting a server is `serving.lifecycle`'s job.
"""

from __future__ import annotations

import functools

from serving.llama_server import LocalModelServer
from serving.roles import SPARK_PROFILES, Endpoint, Managed, Role
from serving.settings import ServingSettings

__all__ = ["SPARK_PROFILES", "Endpoint", "Managed", "Role", "endpoint", "endpoints"]


def _local_profile(settings: ServingSettings) -> dict[Role, Endpoint]:
    server = LocalModelServer(settings)
    coder = LocalModelServer(settings, "coder") if settings.coder_model_path else server  # its own, when set
    running = functools.cache(_running_url)  # one read per server; none for a role configured by URL
    url = None if settings.supervisor_url else running(server)
    coder_url = None if settings.coder_url else running(coder)
    name = settings.local_model_name
    coder_name = coder.model_name if settings.coder_model_path else name
    return {
        Role.SUPERVISOR: Endpoint(role=Role.SUPERVISOR, base_url=url, model=name, managed="llama-cpp"),
        Role.CODER: Endpoint(role=Role.CODER, base_url=coder_url, model=coder_name, managed="llama-cpp"),
        Role.VISION: Endpoint(role=Role.VISION, base_url=None, model="(none: no local VLM)"),
        Role.EMBEDDINGS: Endpoint(
            role=Role.EMBEDDINGS,
            base_url=None,
            model=str(settings.embedding_path or "all-MiniLM-L6-v2"),
            managed="in-process",
        ),
    }


def _running_url(server: LocalModelServer) -> str | None:
    state = server.state()
    return state.base_url if state else None


def endpoints(settings: ServingSettings) -> dict[Role, Endpoint]:
    """Every role's endpoint for the active profile, with `SPARK_AGENTS_<ROLE>_*` overrides applied."""
    if settings.profile == "local":
        table = _local_profile(settings)
    else:
        table = {
            role: Endpoint(role=role, base_url=url, model=model)
            for role, (url, model) in SPARK_PROFILES[settings.profile].items()
        }
    for role, ep in list(table.items()):
        ep.timeout = settings.request_timeout
        url = getattr(settings, f"{role.value}_url")
        model = getattr(settings, f"{role.value}_model")
        key = getattr(settings, f"{role.value}_api_key")
        if url or model or key:
            table[role] = ep.model_copy(
                update={
                    "base_url": url or ep.base_url,
                    "model": model or ep.model,
                    "api_key": key or ep.api_key,
                    "managed": "external" if url else ep.managed,
                }
            )
    return table


def endpoint(role: Role | str, settings: ServingSettings) -> Endpoint:
    return endpoints(settings)[Role(role)]
