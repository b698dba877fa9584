"""The roles a model serves and where the spark profiles serve them: a leaf that every serving module may import."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel


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
    timeout: float = 120.0  # seconds a request may take (SPARK_AGENTS_REQUEST_TIMEOUT, set by `endpoints`)

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
