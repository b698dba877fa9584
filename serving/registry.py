"""The endpoint registry: which OpenAI-compatible server serves each role, per profile, as things stand.

It only reads (the local servers' records, the settings); starting a server is `serving.lifecycle`'s job.
"""

from __future__ import annotations

from serving.llama_server import LocalModelServer
from serving.roles import SPARK_PROFILES, Endpoint, Managed, Role
from serving.settings import ServingSettings

__all__ = ["SPARK_PROFILES", "Endpoint", "Managed", "Role", "endpoint", "endpoints"]


def _local(role: Role, settings: ServingSettings) -> Endpoint:
    """A role's endpoint on the local profile: the supervisor and the coder on llama.cpp servers this project
    starts (the coder on the supervisor's unless it has a model of its own), no VLM, embeddings in-process."""
    if role in (Role.SUPERVISOR, Role.CODER):
        own_coder = role is Role.CODER and settings.coder_model_path
        server = LocalModelServer(settings, "coder") if own_coder else LocalModelServer(settings)
        name = server.model_name if own_coder else settings.local_model_name
        # The server's record is read only when no URL replaces what it says.
        state = None if getattr(settings, f"{role.value}_url") else server.state()
        return Endpoint(role=role, base_url=state.base_url if state else None, model=name, managed="llama-cpp")
    if role is Role.VISION:
        return Endpoint(role=role, base_url=None, model="(none: no local VLM)")
    model = str(settings.embedding_path or "all-MiniLM-L6-v2")
    return Endpoint(role=role, base_url=None, model=model, managed="in-process")


def endpoint(role: Role | str, settings: ServingSettings) -> Endpoint:
    """One role's endpoint for the active profile, with its `SPARK_AGENTS_<ROLE>_*` overrides applied."""
    role = Role(role)
    if settings.profile == "local":
        ep = _local(role, settings)
    else:
        url, model = SPARK_PROFILES[settings.profile][role]
        ep = Endpoint(role=role, base_url=url, model=model)
    ep.timeout = settings.request_timeout
    url = getattr(settings, f"{role.value}_url")
    model = getattr(settings, f"{role.value}_model")
    key = getattr(settings, f"{role.value}_api_key")
    if url or model or key:
        ep = ep.model_copy(
            update={
                "base_url": url or ep.base_url,
                "model": model or ep.model,
                "api_key": key or ep.api_key,
                "managed": "external" if url else ep.managed,
            }
        )
    return ep


def endpoints(settings: ServingSettings) -> dict[Role, Endpoint]:
    """Every role's endpoint for the active profile."""
    return {role: endpoint(role, settings) for role in Role}
