"""The runtime: the graph, the checkpointer, the MCP sessions and the thread records of one data directory.

A `Runtime` lives on the event loop that starts it: the resident service starts one in its app lifespan, on
the server's own loop, so a turn's events reach the HTTP response with no thread in between. Synchronous
callers in the same process (tests, benches, scripts) use a `BlockingRuntime`, which runs one on a loop of
its own. Closing a turn's iterator early (a client that went away) cancels the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.errors import GraphRecursionError
from langgraph.types import Command

from agents.capabilities import CAPABILITIES, server_modules
from agents.fit import check_fits
from agents.graph import Deps, build_graph
from agents.mcp_pool import MCPPool
from agents.policy import own_request
from agents.router import SemanticRouter
from agents.settings import AgentSettings
from agents.sources import with_source_chunks
from agents.threads import PendingApproval, ThreadStore, TurnRecord
from core.collector import TurnCollector
from core.errors import SparkAgentsError
from core.wire import (
    ApprovalAnswer,
    ApprovalEvent,
    ApprovalRequest,
    ErrorEvent,
    Event,
    FinalEvent,
    TurnRequest,
    parse_answer,
)
from serving.chat_stream import ModelClients
from serving.embeddings import get_embedder
from serving.lifecycle import ensure_endpoint
from serving.registry import Role, endpoint
from serving.settings import ServingSettings

T = TypeVar("T")

log = logging.getLogger(__name__)
_DONE = object()


class Runtime:
    """Built with its configuration, then `await start()` on the loop it will serve; `await aclose()` ends it."""

    def __init__(self, serving: ServingSettings, settings: AgentSettings) -> None:
        self.serving = serving
        self.settings = settings
        self.threads = ThreadStore(self.serving.home / "threads.db")
        self.router = SemanticRouter(lambda: get_embedder(serving))
        self.models = ModelClients()
        self.pool: MCPPool
        self.graph: Any
        self.checkpointer: Any
        self._saver_cm: Any = None

    async def start(self) -> Runtime:
        if self.settings.routing != "llm":  # the model routes alone in `llm` mode: no router to warm
            threading.Thread(target=self.router.warm, name="router-warm-up", daemon=True).start()
        try:
            await self._setup()
        except BaseException:
            await self.aclose()  # a runtime that cannot start leaves no session or file open
            raise
        return self

    async def _setup(self) -> None:
        self.pool = MCPPool(self.settings, self.serving.log_dir, prepare=with_source_chunks, modules=server_modules())
        if self.settings.checkpoint_url and self.settings.checkpoint_url.startswith("postgres"):
            try:
                from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
            except ImportError as e:
                raise SparkAgentsError(
                    'SPARK_AGENTS_AGENT_CHECKPOINT_URL is Postgres: `pip install "spark-agents[postgres]"`.'
                ) from e
            try:
                self._saver_cm = AsyncPostgresSaver.from_conn_string(self.settings.checkpoint_url)
                saver = await self._saver_cm.__aenter__()
                await saver.setup()
            except Exception as e:  # psycopg's errors: unreachable, refused, bad credentials, ...
                where = self.settings.checkpoint_url.rsplit("@", 1)[-1]  # never print a password
                reason = str(e).splitlines()[0] if str(e) else type(e).__name__
                raise SparkAgentsError(
                    f"Cannot open the Postgres checkpointer at {where} (SPARK_AGENTS_AGENT_CHECKPOINT_URL): {reason}"
                ) from None
        else:
            from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

            path = self.serving.home / "checkpoints.sqlite"
            path.parent.mkdir(parents=True, exist_ok=True)
            self._saver_cm = AsyncSqliteSaver.from_conn_string(str(path))
            saver = await self._saver_cm.__aenter__()
            await saver.setup()  # WAL; then no fsync per commit: a process crash loses nothing committed,
            await saver.conn.execute("PRAGMA synchronous=NORMAL")  # only a power cut can lose the last turn
        self.checkpointer = saver
        self.graph = build_graph(
            Deps(pool=self.pool, router=self.router, settings=self.settings, serving=self.serving, models=self.models),
            saver,
        )

    # --- turns -------------------------------------------------------------------------------------
    async def astream(self, request: TurnRequest) -> AsyncIterator[Event]:
        """Run one turn and yield its events; the last is a FinalEvent or an ErrorEvent.

        A new thread is made when `request.thread_id` is None (FinalEvent.thread_id names it); `agent` forces
        one specialist instead of routing. A turn that pauses for the user's approval ends with a FinalEvent
        whose `approval` names the request; `request.approval` answers it (so does a message that is only
        `approve <id>` or `deny <id>`), and the paused turn runs on in its own thread.
        """
        message, agent = request.message, request.agent
        try:
            answer = request.approval or parse_answer(own_request(message))
            if answer is not None:  # the user answers a paused turn: it runs on from its pause
                async for event in self._resume(answer):
                    yield event
                return
            if not message.strip() and not request.attachments:
                raise SparkAgentsError("The message is empty.")
            tid, images, waiting = await asyncio.to_thread(self._admit, request)
            if waiting:
                await self._supersede(waiting)  # a new message instead of an answer: the paused call is skipped
            inputs = {
                "messages": [HumanMessage(message or "What is in the attached image?")],
                "attachments": images,
                "sources": request.sources,
                "forced_agent": agent,
                "hops": 0,
                "citations": [],
                "route": None,
                "handover": None,
                "scratch": None,
                "pending_approval": None,
                "approval": None,
            }
            user = own_request(message) or "What is in the attached image?"
            async for event in self._run(inputs, tid, TurnCollector(tid, agent), user):
                yield event
        except SparkAgentsError as e:
            yield ErrorEvent(message=str(e))
        except GraphRecursionError:
            yield ErrorEvent(message="The turn took too many steps and was stopped; try a more specific request.")
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - logged with its traceback, reported as one line
            log.exception("turn failed")
            yield ErrorEvent(message=f"Internal error ({type(e).__name__}: {e}); see the log for details.")

    def _admit(self, request: TurnRequest) -> tuple[str, list[str], PendingApproval | None]:
        """A new message's blocking checks and records, in one worker-thread hop: it fits the supervisor's
        context (too long: say so, call nothing), its agent and attachments exist, the supervisor's server is
        up (started when this box runs it); then its thread is recorded, with the approval it leaves waiting."""
        supervisor = endpoint(Role.SUPERVISOR, self.serving)
        check_fits(request.message, supervisor, self.serving, self.settings.max_tokens)
        if request.agent is not None and request.agent not in CAPABILITIES:
            raise SparkAgentsError(f"Unknown agent {request.agent!r}; choose one of: {', '.join(CAPABILITIES)}.")
        images = [str(Path(a).expanduser().resolve()) for a in request.attachments]
        missing = [a for a in images if not Path(a).is_file()]
        if missing:
            raise SparkAgentsError(f"Attachment not found: {missing[0]}")
        ensure_endpoint(Role.SUPERVISOR, self.serving)
        # The one place a turn's thread is recorded; a transcript sent along never becomes its title.
        tid = self.threads.touch(request.thread_id, own_request(request.message))
        return tid, images, self.threads.pending(tid)

    def _config(self, tid: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": tid}, "recursion_limit": 4 * self.settings.hop_limit + 8}

    async def _run(
        self, inputs: Any, tid: str, turn: TurnCollector, user: str, before: list[dict[str, Any]] | None = None
    ) -> AsyncIterator[Event]:
        """Run the graph from `inputs` (a new message, or a resume) and end with the FinalEvent: the answer,
        or — when the turn pauses for an approval — the request and how to answer it."""
        # The nodes' events as they happen, and the state after each step (no checkpoint read at the end); a
        # turn paused by `interrupt()` ends on a state that carries LangGraph's `__interrupt__` key.
        modes = ["custom", "values"]
        stream = self.graph.astream(inputs, self._config(tid), stream_mode=modes, durability=self.settings.durability)
        values: dict[str, Any] = {}
        async for mode, chunk in stream:
            if mode == "custom":
                yield turn.add(chunk)
            else:
                values = chunk
        citations = values.get("citations") or []
        if "__interrupt__" in values and values.get("pending_approval"):
            request = ApprovalRequest.model_validate({**values["pending_approval"], "thread_id": tid})
            asked = turn.add(ApprovalEvent(**request.model_dump()))
            trace = [*(before or []), *turn.trace()]
            pending = PendingApproval(request=request, user=user, agent=turn.agent, trace=trace)
            await asyncio.to_thread(self.threads.add_pending, pending)
            yield asked
            yield turn.add(FinalEvent(text=request.prompt(), citations=citations, thread_id=tid, approval=request))
            return
        trace = [*(before or []), *turn.trace()]
        last = values["messages"][-1]
        text = last.content if isinstance(last, AIMessage) else ""
        final = turn.add(FinalEvent(text=str(text), citations=citations, thread_id=tid))
        record = TurnRecord(user=user, answer=turn.answer, agent=turn.agent, trace=trace, citations=turn.citations)
        await asyncio.to_thread(self.threads.record_turn, tid, record)
        yield final

    async def _resume(self, answer: ApprovalAnswer) -> AsyncIterator[Event]:
        pending = await asyncio.to_thread(self.threads.claim_pending, answer.id)
        if pending is None:
            raise SparkAgentsError(
                f"Nothing is waiting for approval under {answer.id!r}: it was answered already, or a newer "
                "message in its thread replaced it."
            )
        tid = pending.request.thread_id
        await asyncio.to_thread(self.threads.touch, tid)
        turn = TurnCollector(tid, pending.agent)
        async for event in self._run(Command(resume=answer.model_dump()), tid, turn, pending.user, pending.trace):
            yield event

    async def _supersede(self, pending: PendingApproval) -> None:
        """End a paused turn without its call (the user wrote something else instead of answering)."""
        if await asyncio.to_thread(self.threads.claim_pending, pending.request.id) is None:
            return
        denial = ApprovalAnswer(id=pending.request.id, approved=False, superseded=True)
        tid = pending.request.thread_id
        async for _ in self._run(
            Command(resume=denial.model_dump()), tid, TurnCollector(tid), pending.user, pending.trace
        ):
            pass

    async def turn(self, request: TurnRequest) -> AsyncGenerator[Event, None]:
        """`astream` run as a task of this loop: closing the iterator early cancels the task, and with it
        everything the turn started (a model call, a tool call), wherever it was waiting."""
        q: asyncio.Queue[Any] = asyncio.Queue()

        async def produce() -> None:
            try:
                async for event in self.astream(request):
                    q.put_nowait(event)
            finally:
                q.put_nowait(_DONE)

        task = asyncio.create_task(produce())
        try:
            while (item := await q.get()) is not _DONE:
                yield item
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # --- threads -----------------------------------------------------------------------------------
    async def amessages(self, thread_id: str) -> list[dict[str, str]]:
        """The visible history: user messages and final answers, with the agent that gave each."""
        await asyncio.to_thread(self.threads.get, thread_id)
        state = await self.graph.aget_state({"configurable": {"thread_id": thread_id}})
        out = []
        for m in state.values.get("messages", []):
            if isinstance(m, HumanMessage):
                out.append({"role": "user", "content": str(m.content), "agent": ""})
            elif isinstance(m, AIMessage) and not m.tool_calls and m.content:
                out.append({"role": "assistant", "content": str(m.content), "agent": m.name or "supervisor"})
        return out

    async def ahistory(self, thread_id: str) -> list[dict[str, Any]]:
        """`amessages`, with each answer's trace and citations when every turn of the thread has its record
        (threads from before turns were recorded show the checkpointed messages alone)."""
        out: list[dict[str, Any]] = list(await self.amessages(thread_id))
        turns = await asyncio.to_thread(self.threads.turns, thread_id)
        if turns and len(turns) == sum(1 for m in out if m["role"] == "user"):
            out = []
            for t in turns:
                out.append({"role": "user", "content": t.user, "agent": ""})
                answer = {"role": "assistant", "content": t.answer, "agent": t.agent}
                out.append(answer | {"trace": t.trace, "citations": t.citations})
        return out

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.threads.delete, thread_id)
        await self.checkpointer.adelete_thread(thread_id)

    async def aclose(self) -> None:
        try:
            if hasattr(self, "pool"):
                await self.pool.aclose()
            if self._saver_cm is not None:
                await self._saver_cm.__aexit__(None, None, None)
                self._saver_cm = None
            await self.models.aclose()
        finally:
            self.threads.close()


class BlockingRuntime:
    """A Runtime on an event loop of its own, for synchronous callers in one process (tests, benches, scripts).

    The resident service never uses this: its runtime lives on the server's loop."""

    def __init__(self, serving: ServingSettings, settings: AgentSettings) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="spark-agents-runtime", daemon=True)
        self._thread.start()
        try:
            self.runtime: Runtime = self.run(Runtime(serving, settings).start())
        except BaseException:
            self.loop.call_soon_threadsafe(self.loop.stop)  # a runtime that cannot start leaves no thread behind
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.runtime, name)  # the runtime's parts (threads, pool, router, settings…)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run a coroutine on the runtime's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stream(self, request: TurnRequest) -> Iterator[Event]:
        q: queue.Queue[Any] = queue.Queue()

        async def produce() -> None:
            try:
                async for event in self.runtime.astream(request):
                    q.put(event)
            finally:
                q.put(_DONE)

        future = asyncio.run_coroutine_threadsafe(produce(), self.loop)
        try:
            while (item := q.get()) is not _DONE:
                yield item
        finally:
            if not future.done():
                future.cancel()

    def messages(self, thread_id: str) -> list[dict[str, str]]:
        return self.run(self.runtime.amessages(thread_id))

    def history(self, thread_id: str) -> list[dict[str, Any]]:
        return self.run(self.runtime.ahistory(thread_id))

    def delete_thread(self, thread_id: str) -> None:
        self.run(self.runtime.adelete_thread(thread_id))

    def close(self) -> None:
        try:
            self.run(self.runtime.aclose(), timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)

    def __enter__(self) -> BlockingRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
