"""Health of each role's endpoint, as `spark-agents models status` shows it."""

from __future__ import annotations

from pathlib import Path

import httpx
from pydantic import BaseModel

from serving.registry import Endpoint, Role, endpoints
from serving.settings import ServingSettings


class RoleHealth(BaseModel):
    role: Role
    status: str  # "up" | "down" | "not configured"
    url: str | None
    model: str
    detail: str = ""

    @property
    def up(self) -> bool:
        return self.status == "up"


def check(ep: Endpoint, settings: ServingSettings) -> RoleHealth:
    """Ask the server itself: `/health` (llama.cpp, trtllm-serve), else `/v1/models` (any OpenAI server)."""
    if ep.managed == "in-process":
        ok = Path(ep.model).exists()
        return RoleHealth(
            role=ep.role,
            status="up" if ok else "down",
            url="in-process",
            model=ep.model,
            detail="sentence-transformers, loaded on first use" if ok else "model folder missing",
        )
    if ep.base_url is None:
        detail = "not started: run `spark-agents models up`" if ep.managed == "llama-cpp" else ""
        return RoleHealth(
            role=ep.role, status="down" if detail else "not configured", url=None, model=ep.model, detail=detail
        )
    root = ep.base_url.rstrip("/").removesuffix("/v1")
    headers = {"Authorization": f"Bearer {ep.api_key}"} if ep.api_key else {}
    try:
        with httpx.Client(timeout=settings.health_timeout, headers=headers) as client:
            r = client.get(f"{root}/health")
            if r.status_code == 404:
                r = client.get(f"{ep.base_url.rstrip('/')}/models")
    except httpx.HTTPError as e:
        return RoleHealth(role=ep.role, status="down", url=ep.base_url, model=ep.model, detail=type(e).__name__)
    if r.status_code == 200:
        return RoleHealth(role=ep.role, status="up", url=ep.base_url, model=ep.model)
    detail = "loading" if r.status_code == 503 else f"HTTP {r.status_code}"
    return RoleHealth(role=ep.role, status="down", url=ep.base_url, model=ep.model, detail=detail)


def status(settings: ServingSettings) -> list[RoleHealth]:
    return [check(ep, settings) for ep in endpoints(settings).values()]
