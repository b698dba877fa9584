"""Driving a turn's event generator and answering with it: as SSE `chat.completion.chunk`s or one JSON answer.

The runtime (`api.runtime.RuntimeSlot.turn`) yields the events on the server's own event loop; the iterator
is always closed (freeing the run) when the answer is done, fails, or the client goes away. What the answer
*is* comes from `core.collector.TurnCollector`, as for every other adapter.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from openai.types.chat.chat_completion import Choice
from openai.types.chat.chat_completion_chunk import Choice as ChunkChoice
from openai.types.chat.chat_completion_chunk import ChoiceDelta
from openai.types.chat.chat_completion_message import ChatCompletionMessage

from api.errors import error_response
from api.schemas import ChatCompletion, ChatCompletionChunk, ChunkInfo, SparkAgentsInfo
from core.collector import TurnCollector
from core.errors import SparkAgentsError
from core.wire import Event

log = logging.getLogger(__name__)

Turn = AsyncGenerator[Event, None]  # a turn's events, from api.runtime.RuntimeSlot.turn
NO_ANSWER = "the run ended without an answer"


@dataclass(frozen=True)
class Reply:
    """What every response of one chat turn names: the completion id and time, the model, the thread."""

    model: str
    thread_id: str
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex[:20]}")
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Thread-Id": self.thread_id}


class _Run:
    """One turn's event iterator, always closed, which frees the run.

    `app.state.active_runs` counts the open runs (`/health` shows it); one limiter per app, sized by
    `run_threads`, caps how many run at once. The runtime runs on this same loop: no thread in between.
    """

    def __init__(self, app: FastAPI, turn: Turn) -> None:
        self.app, self.turn = app, turn

    async def __aenter__(self) -> _Run:
        if getattr(self.app.state, "run_limiter", None) is None:
            self.app.state.run_limiter = anyio.CapacityLimiter(self.app.state.settings.run_threads)
        await self.app.state.run_limiter.acquire_on_behalf_of(self)
        self.app.state.active_runs += 1
        return self

    async def events(self) -> AsyncIterator[Event]:
        async for event in self.turn:
            yield event

    async def __aexit__(self, *exc: object) -> None:
        with anyio.CancelScope(shield=True):
            try:
                await self.turn.aclose()
            except Exception:  # noqa: BLE001 - closing is best effort; the run is gone either way
                log.exception("closing a run failed")
            finally:
                self.app.state.active_runs -= 1
                self.app.state.run_limiter.release_on_behalf_of(self)


async def run_events(app: FastAPI, turn: Turn) -> AsyncIterator[Event]:
    """A turn's events, driven like the chat endpoints drive theirs (for routes that stream raw events)."""
    async with _Run(app, turn) as run:
        async for event in run.events():
            yield event


async def complete_response(app: FastAPI, request: Request, gen: Turn, reply: Reply) -> JSONResponse:
    """The whole turn as one `chat.completion` (502 with the run's error when it fails)."""
    turn = TurnCollector(reply.thread_id)
    async with _Run(app, gen) as run:
        try:
            async for event in run.events():
                if await request.is_disconnected():  # nobody is waiting: free the run
                    return error_response(499, "client closed the request", "invalid_request_error")
                turn.add(event)
                if turn.done:
                    break
        except SparkAgentsError as e:
            return _run_failed(str(e), reply)
    if turn.error is not None:
        return _run_failed(turn.error, reply)
    if turn.final is None:
        return _run_failed(NO_ANSWER, reply)
    answer = ChatCompletion(
        id=reply.id,
        object="chat.completion",
        created=reply.created,
        model=reply.model,
        choices=[
            Choice(
                index=0,
                message=ChatCompletionMessage(role="assistant", content=turn.answer),
                finish_reason="stop",
            )
        ],
        spark_agents=SparkAgentsInfo(
            thread_id=turn.thread_id or reply.thread_id, citations=turn.citations, events=turn.trace()
        ),
    )
    return JSONResponse(answer.model_dump(exclude_unset=True), headers=reply.headers)


def _run_failed(message: str, reply: Reply) -> JSONResponse:
    return error_response(502, message, "upstream_error", "run_failed", **reply.headers)


def stream_response(app: FastAPI, gen: Turn, reply: Reply, emit_events: bool) -> StreamingResponse:
    """The turn as SSE: a role chunk, content chunks, event chunks (when `emit_events`), a last chunk with
    the thread and citations, then `[DONE]`; a failure ends the stream with an `error` payload instead."""
    return StreamingResponse(
        _sse_events(app, gen, reply, emit_events), media_type="text/event-stream", headers=reply.headers
    )


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


def _chunk(reply: Reply, delta: ChoiceDelta, finish: str | None = None, info: ChunkInfo | None = None) -> bytes:
    chunk = ChatCompletionChunk(
        id=reply.id,
        object="chat.completion.chunk",
        created=reply.created,
        model=reply.model,
        choices=[ChunkChoice(index=0, delta=delta, finish_reason=finish)],
        **({"spark_agents": info} if info is not None else {}),
    )
    return _sse(chunk.model_dump(exclude_unset=True))


def _error(message: str, type_: str) -> bytes:
    return _sse({"error": {"message": message, "type": type_, "code": "run_failed"}})


async def _sse_events(app: FastAPI, gen: Turn, reply: Reply, emit_events: bool) -> AsyncIterator[bytes]:
    turn = TurnCollector(reply.thread_id)
    async with _Run(app, gen) as run:
        yield _chunk(reply, ChoiceDelta(role="assistant", content=""))
        try:
            async for event in run.events():
                turn.add(event)
                if event.type == "token":
                    if event.text:
                        yield _chunk(reply, ChoiceDelta(content=event.text))
                elif event.type == "final":
                    if turn.approval is not None:  # a paused turn: say what waits and how to answer
                        yield _chunk(reply, ChoiceDelta(content=("\n\n" if turn.streamed else "") + event.text))
                    elif not turn.streamed and turn.answer:
                        yield _chunk(reply, ChoiceDelta(content=turn.answer))
                    info = ChunkInfo(thread_id=turn.thread_id or reply.thread_id, citations=turn.citations)
                    yield _chunk(reply, ChoiceDelta(), "stop", info)
                    yield b"data: [DONE]\n\n"
                    return
                elif event.type == "error":
                    yield _error(event.message, "upstream_error")
                    return
                elif emit_events:
                    yield _chunk(reply, ChoiceDelta(), None, ChunkInfo(event=event.model_dump(mode="json")))
        except SparkAgentsError as e:
            yield _error(str(e), "upstream_error")
            return
        except Exception as e:  # noqa: BLE001 - reported in the stream, logged with its traceback
            log.exception("run failed mid-stream")
            yield _error(f"internal error ({type(e).__name__}); see the server log", "server_error")
            return
        yield _error(NO_ANSWER, "upstream_error")
