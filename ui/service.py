"""The Streamlit app's one way to the assistant: the resident service (`api.client.ServiceClient`).

The app holds no runtime and opens no store: turns, threads, documents, graphs, the model servers' health and
the memory plan are requests to the service, so the app, the CLI and an IDE's gateway can all be used at once,
and a service elsewhere (`SPARK_AGENTS_SERVICE_URL`) is the machine every page describes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import streamlit as st

from api.client import ServiceClient
from api.service import ServiceSettings
from core.wire import ApprovalAnswer, Event, ThreadInfo, TurnRequest
from rag.models import Progress, Source
from serving.health import RoleHealth
from serving.plan_model import Plan


def client() -> ServiceClient:
    """One client per app process and data directory (its HTTP connection pool is thread-safe)."""
    return _client(ServiceSettings().model_dump_json())


@st.cache_resource(show_spinner="Connecting to the Spark Agents service…")
def _client(settings_json: str) -> ServiceClient:
    return ServiceClient(ServiceSettings.model_validate_json(settings_json), notice=None)


def run_turn(
    message: str,
    *,
    thread_id: str | None,
    attachments: list[Path],
    sources: list[str] | None,
    agent: str | None,
    approval: ApprovalAnswer | None = None,
) -> Iterator[Event]:
    request = TurnRequest(
        message=message, thread_id=thread_id, attachments=attachments, sources=sources, agent=agent, approval=approval
    )
    return client().turn(request)


def threads() -> list[ThreadInfo]:
    return [ThreadInfo.model_validate(t) for t in client().request("GET", "/api/threads")]


def thread_history(thread_id: str) -> list[dict[str, Any]]:
    """The thread's messages, each answer with its trace and citations."""
    return list(thread_detail(thread_id)["messages"])


def thread_detail(thread_id: str) -> dict[str, Any]:
    """The thread's messages and the approval its last turn waits on (`pending_approval`, or None)."""
    return dict(client().request("GET", f"/api/threads/{thread_id}"))


def rename_thread(thread_id: str, title: str) -> None:
    client().request("PATCH", f"/api/threads/{thread_id}", json={"title": title})


def delete_thread(thread_id: str) -> None:
    client().request("DELETE", f"/api/threads/{thread_id}")


def list_sources() -> list[Source]:
    result = client().tool("rag", "list_sources")
    return [Source.model_validate(s) for s in (result.structured or {}).get("sources", [])]


def _progress(on_progress: Callable[[Progress], None] | None) -> Callable[[dict[str, Any]], None]:
    """The service's progress items as the ingestion `Progress` the page draws."""

    def progress(item: dict[str, Any]) -> None:
        if on_progress is not None:
            total = int(item.get("total") or 0)
            done = int(item.get("done") or 0)
            on_progress(Progress(stage="read", done=done, total=total, path=item.get("message")))

    return progress


def upload(
    files: list[tuple[str, bytes]], on_progress: Callable[[Progress], None] | None = None
) -> list[dict[str, Any]]:
    """Upload documents to the service and ingest them; one outcome per file (`rag.uploads.UploadOutcome`)."""
    result = client().upload(files, _progress(on_progress))
    return list((result.structured or {}).get("files", []))


def delete_source(source_id: str) -> None:
    client().tool("rag", "delete_source", {"source_id": source_id})


def extract_graph(**arguments: Any) -> dict[str, Any]:
    """The kg server's extract_graph report (from `text` or a `source_id`)."""
    return client().tool("kg", "extract_graph", arguments).structured or {}


def identity() -> dict[str, Any]:
    """The service's profile, data directory and pid (`/health`): the machine the pages describe."""
    return dict(client().request("GET", "/health"))


def models() -> list[RoleHealth]:
    """Each role's endpoint, health and model, checked by the service on its machine."""
    return [RoleHealth.model_validate(r) for r in client().request("GET", "/api/models")]


def plan(profile: str | None, budget_gb: float | None) -> Plan:
    """The memory plan as the service computes it (its profile by default; its catalogue and model files)."""
    params = {k: v for k, v in {"profile": profile, "budget_gb": budget_gb}.items() if v is not None}
    return Plan.model_validate(client().request("GET", "/api/plan", params=params))


def graph(route: str, **params: Any) -> Any:
    """One `/api/graph/{route}` read of the service's default collection (`api.graphs`)."""
    return client().request("GET", f"/api/graph/{route}", params={k: v for k, v in params.items() if v is not None})
