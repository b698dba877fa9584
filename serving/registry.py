"""The endpoint registry: which OpenAI-compatible server serves each role, per profile."""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel

from serving.llama_server import LocalModelServer
from serving.settings import ServingSettings

log = logging.getLogger(__name__)


class Role(StrEnum):
    SUPERVISOR = "supervisor"
    CODER = "coder"
    VISION = "vision"
    EMBEDDINGS = "embeddings"


Managed = Literal["llama-cpp", "in-process", "external"]


class Endpoint(BaseModel):
    """Where one role is served. `base_url` is None when the role is not configured (or not started)."""

    role: Role
    base_url: str | None
    model: str
    api_key: str | None = None
    managed: Managed = "external"

    @property
    def configured(self) -> bool:
        return self.base_url is not None or self.managed == "in-process"


# The DGX Spark stacks (ports match compose.yaml).
SPARK_PROFILES: dict[str, dict[Role, tuple[str, str]]] = {
    "spark-120b": {
        Role.SUPERVISOR: ("http://127.0.0.1:8000/v1", "gpt-oss-120b"),
        Role.CODER: ("http://127.0.0.1:8001/v1", "deepseek-coder-6.7b-instruct"),
        Role.VISION: ("http://127.0.0.1:8002/v1", "Qwen2.5-VL-7B-Instruct"),
        Role.EMBEDDINGS: ("http://127.0.0.1:8003/v1", "Qwen3-Embedding-4B"),
    },
    "spark-20b": {
        Role.SUPERVISOR: ("http://127.0.0.1:8000/v1", "gpt-oss-20b"),
        Role.CODER: ("http://127.0.0.1:8001/v1", "deepseek-coder-6.7b-instruct"),
        Role.VISION: ("http://127.0.0.1:8002/v1", "Qwen2.5-VL-7B-Instruct"),
        Role.EMBEDDINGS: ("http://127.0.0.1:8003/v1", "Qwen3-Embedding-4B"),
    },
}


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


def endpoints(settings: ServingSettings | None = None) -> dict[Role, Endpoint]:
    """Every role's endpoint for the active profile, with `SPARK_AGENTS_<ROLE>_*` overrides applied."""
    settings = settings or ServingSettings()
    if settings.profile == "local":
        table = _local_profile(settings)
    else:
        table = {
            role: Endpoint(role=role, base_url=url, model=model)
            for role, (url, model) in SPARK_PROFILES[settings.profile].items()
        }
    for role, ep in list(table.items()):
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


def endpoint(role: Role | str, settings: ServingSettings | None = None) -> Endpoint:
    return endpoints(settings)[Role(role)]


def ensure_endpoint(role: Role | str, settings: ServingSettings | None = None) -> Endpoint:
    """The role's endpoint, starting the local llama.cpp server first when the profile manages it."""
    settings = settings or ServingSettings()
    ep = endpoint(role, settings)
    if ep.managed == "llama-cpp" and ep.base_url is None:
        from serving.lifecycle import ready

        log.info("starting the local model server for %s (llama.cpp)", ep.role.value)
        print(f"Starting the local model server for {ep.role.value} (llama.cpp)…", file=sys.stderr, flush=True)
        ep = ready(role, settings)
    return ep
