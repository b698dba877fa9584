"""The endpoint registry: which OpenAI-compatible server serves each role, per profile, as things stand.

It only reads (the local servers' records, the settings); starting a server is `serving.lifecycle`'s job.
"""

from __future__ import annotations

from serving.llama_server import LocalModelServer
from serving.roles import SPARK_PROFILES, Endpoint, Managed, Role
from serving.settings import ServingSettings

__all__ = ["SPARK_PROFILES", "Endpoint", "Managed", "Role", "endpoint", "endpoints"]


def _local_profile(settings: ServingSettings) -> dict[Role, Endpoint]:
    state = LocalModelServer(settings).state()
    url = state.base_url if state else None
    name = settings.local_model_name
    coder_url, coder_name = url, name
    if settings.coder_model_path:  # the coder has a llama.cpp server of its own
        coder = LocalModelServer(settings, "coder")
        coder_state = coder.state()
        coder_url, coder_name = (coder_state.base_url if coder_state else None), coder.model_name
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
