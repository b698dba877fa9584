"""The native API: what the front ends need from the resident service, beside the OpenAI endpoints.

- `POST /api/turns` runs a turn and streams its typed events (`core.wire`) as SSE, one JSON event a
  `data:` line — the same serialization `spark-agents ask --json` prints. A turn that pauses for the user's
  approval streams an `approval` event and a final event naming it; `{"approval": {"id", "approved",
  "scope"}}` in a later request answers it, and the rest of that turn streams.
- `/api/threads` lists, shows (each turn with its trace and citations), renames and deletes threads.
- `POST /api/tools/{server}/{tool}` calls a capability tool (documents, graphs, code, vision) through the
  service's persistent MCP sessions, so the service's servers are the only owners of the stores;
  `?stream=true` streams the tool's progress notifications first.
- `GET /api/resources/{server}?uri=` reads a capability server's MCP resource and
  `POST /api/completions/{server}` asks it for completions, through the same sessions (the MCP gateway's
  resources and completions).
- `/api/models` (each role's health) and `/api/plan` (the memory plan).

Every route needs `Authorization: Bearer <token>`: the home's token file for local clients, or
`SPARK_AGENTS_API_TOKEN` when one is set.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Body, Depends, File, Query, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from agents.capabilities import SERVERS
from agents.mcp_pool import MCPRequestError
from agents.runtime import Runtime
from api.errors import ApiError
from api.runtime import RuntimeSlot
from core.uploads import discard_document, save_document
from core.wire import ApprovalRequest, ThreadInfo, ToolResult, TurnRequest
from rag.models import IngestReport
from rag.uploads import outcomes
from serving import health
from serving.plan import make_plan
from serving.settings import ServingSettings

RESOURCE_NOT_FOUND = -32002  # MCP's error code for a resource that does not exist


class ThreadDetail(BaseModel):
    thread: ThreadInfo
    messages: list[dict[str, Any]] = Field(description="user and assistant messages; answers carry trace and citations")
    pending_approval: ApprovalRequest | None = Field(None, description="the call the thread's last turn waits on")


class Rename(BaseModel):
    title: str = Field(min_length=1, max_length=200)


def _sse(payload: str) -> bytes:
    return f"data: {payload}\n\n".encode()


def native_router(
    authorize: Callable[..., None],
    stream_turn: Callable[..., AsyncIterator[Any]],
    slot: RuntimeSlot,
    serving: ServingSettings,
) -> APIRouter:
    """The `/api` routes; `authorize` checks the bearer token, `stream_turn(gen)` drives a turn generator
    (the API's shared run driver, which frees the run when the client goes away), `slot` holds the runtime."""
    router = APIRouter(prefix="/api", dependencies=[Depends(authorize)], tags=["native"])

    @router.post("/turns", responses={200: {"content": {"text/event-stream": {}}}})
    async def turn(body: TurnRequest) -> StreamingResponse:
        """One turn; its events stream as SSE (`data: {"type": "token" | "handoff" | ... }`)."""
        thread_id = body.thread_id or uuid.uuid4().hex[:12]
        gen = slot.turn(body.model_copy(update={"thread_id": thread_id}))

        async def events() -> AsyncIterator[bytes]:
            async for event in stream_turn(gen):
                yield _sse(event.model_dump_json())

        return StreamingResponse(events(), media_type="text/event-stream", headers={"X-Thread-Id": thread_id})

    @router.get("/threads", response_model=list[ThreadInfo])
    async def threads() -> list[ThreadInfo]:
        runtime = await slot.get()
        return await anyio.to_thread.run_sync(runtime.threads.list)

    @router.get("/threads/{thread_id}", response_model=ThreadDetail)
    async def thread(thread_id: str) -> ThreadDetail:
        runtime = await slot.get()
        info = await anyio.to_thread.run_sync(runtime.threads.get, thread_id)
        messages = await runtime.ahistory(thread_id)
        pending = await anyio.to_thread.run_sync(runtime.threads.pending, thread_id)
        return ThreadDetail(thread=info, messages=messages, pending_approval=pending.request if pending else None)

    @router.patch("/threads/{thread_id}", response_model=ThreadInfo)
    async def rename(thread_id: str, body: Rename) -> ThreadInfo:
        runtime = await slot.get()
        await anyio.to_thread.run_sync(runtime.threads.rename, thread_id, body.title)
        return await anyio.to_thread.run_sync(runtime.threads.get, thread_id)

    @router.delete("/threads/{thread_id}", status_code=204)
    async def delete(thread_id: str) -> None:
        runtime = await slot.get()
        await runtime.adelete_thread(thread_id)

    @router.post("/tools/{server}/{tool}", response_model=ToolResult)
    async def call_tool(
        server: str,
        tool: str,
        arguments: Annotated[dict[str, Any], Body(default_factory=dict)],
        stream: Annotated[bool, Query(description="stream progress notifications, then the result")] = False,
    ) -> Any:
        """Call a capability server's tool (`rag`, `kg`, `code`, `vision`) with its JSON arguments."""

        if server not in SERVERS:
            raise ApiError(404, f"unknown server {server!r}; use one of: {', '.join(SERVERS)}", code="not_found")
        return await _tool_response(await slot.get(), server, tool, arguments, stream)

    @router.get("/resources/{server}")
    async def read_resource(
        server: str, uri: Annotated[str, Query(min_length=1, description="the resource's URI")]
    ) -> dict[str, Any]:
        """Read a capability server's MCP resource (the MCP `resources/read` result: `contents`)."""
        return await _mcp_request(slot, server, lambda pool: pool.read_resource(server, uri))

    @router.post("/completions/{server}")
    async def complete(server: str, params: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        """A capability server's MCP completion (`params`: `ref`, `argument`, `context` as in `completion/complete`)."""
        return await _mcp_request(slot, server, lambda pool: pool.complete(server, params))

    @router.post("/documents", response_model=ToolResult)
    async def upload_documents(
        files: Annotated[list[UploadFile], File(description="the documents (PDF, Word, HTML, Markdown, text)")],
        stream: Annotated[bool, Query(description="stream the ingestion's progress, then the result")] = False,
    ) -> Any:
        """Upload documents and ingest them. Each is stored under `<home>/uploads/documents/` in a generated
        folder with its sanitised name (its title). The result is the rag server's ingestion report plus
        `files`: per uploaded file, in order, whether it became a source and why not; uploads that did not
        (refused, or the same bytes as a stored source) are removed again."""

        home = serving.home
        saved = []
        for f in files:
            name = f.filename or "document"
            try:
                saved.append((name, await anyio.to_thread.run_sync(save_document, name, await f.read(), home)))
            except OSError as e:
                for _, path in saved:
                    discard_document(path)
                raise ApiError(507, f"could not store {name!r} ({e.strerror or e})", code="storage_full") from None
        return await _tool_response(
            await slot.get(),
            "rag",
            "ingest_documents",
            {"paths": [str(p) for _, p in saved]},
            stream,
            _upload_outcomes(saved),
        )

    @router.get("/plan")
    async def plan(
        profile: Annotated[str | None, Query(description="a profile (default: the service's own)")] = None,
        budget_gb: Annotated[float | None, Query(gt=0, description="memory budget in GB")] = None,
    ) -> Any:
        """The memory plan: each server's weights, KV cache, buffers and overhead against the budget."""

        result = await anyio.to_thread.run_sync(
            lambda: make_plan(profile or serving.profile, budget_gb, settings=serving)
        )
        return result.to_json()

    @router.get("/models")
    async def models() -> list[dict[str, Any]]:
        """Each role's endpoint, health and model."""

        rows = await anyio.to_thread.run_sync(health.status, serving)
        return [r.model_dump(mode="json") for r in rows]

    return router


async def _mcp_request(
    slot: RuntimeSlot, server: str, use: Callable[[Any], Coroutine[Any, Any, dict[str, Any]]]
) -> dict[str, Any]:
    """One MCP request through the service's session to `server`; the server's MCP error is 404 (a resource
    that does not exist) or 400, with its message."""

    if server not in SERVERS:
        raise ApiError(404, f"unknown server {server!r}; use one of: {', '.join(SERVERS)}", code="not_found")
    runtime = await slot.get()
    try:
        return await use(runtime.pool)
    except MCPRequestError as e:
        status, code = (404, "not_found") if e.code == RESOURCE_NOT_FOUND else (400, "bad_request")
        raise ApiError(status, str(e), code=code) from None


def _upload_outcomes(saved: list[tuple[str, Path]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Adds `files` (one outcome per upload) to an ingestion's result, and removes the uploads not kept."""

    def finish(item: dict[str, Any]) -> dict[str, Any]:
        if item["is_error"]:
            kept: set[Path] = set()
        else:
            files = outcomes(saved, IngestReport.model_validate(item["structured"]))
            item["structured"] = {**item["structured"], "files": [o.model_dump() for o in files]}
            kept = {path for (_, path), o in zip(saved, files, strict=True) if o.keep}
        for _, path in saved:
            if path not in kept:
                discard_document(path)
        return item

    return finish


async def _tool_response(
    runtime: Runtime,
    server: str,
    tool: str,
    arguments: dict[str, Any],
    stream: bool,
    finish: Callable[[dict[str, Any]], dict[str, Any]] = lambda item: item,
) -> Any:
    """One tool call through the service's MCP pool: its result, or (`stream`) its progress notifications
    and then its result as SSE. `finish` may amend the result item (text, structured, is_error)."""
    if not stream:
        return ToolResult(**finish((await runtime.pool.call(server, tool, arguments)).model_dump()))
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def progress(done: float, total: float | None, message: str | None) -> None:
        queue.put_nowait({"type": "progress", "done": done, "total": total, "message": message})

    async def run() -> None:
        try:
            outcome = await runtime.pool.call(server, tool, arguments, progress)
            item = {"type": "result", **finish(outcome.model_dump())}
        except Exception as e:  # noqa: BLE001 - reported in the stream as the tool's error
            item = {"type": "result", **finish({"text": str(e), "structured": None, "is_error": True})}
        await queue.put(item)

    async def items() -> AsyncIterator[bytes]:
        task = asyncio.create_task(run())
        try:
            while True:
                item = await queue.get()
                yield _sse(json.dumps(item, ensure_ascii=False))
                if item["type"] == "result":
                    return
        finally:
            if not task.done():
                task.cancel()

    return StreamingResponse(items(), media_type="text/event-stream")
