"""Orchestration overhead of the agent graph: what a turn and a tool hop cost beyond model time.

The scripted OpenAI-compatible server answers after a fixed latency; the time it spends answering is
subtracted from each turn, leaving graph + checkpointer + MCP + event streaming. The runtime measured is
the one the resident service holds (`agents.runtime.Runtime`), driven the way the service drives it: each
turn's events are read on the runtime's own event loop (`Runtime.turn`), and turns at once are tasks of that
one loop, as concurrent requests are in the service. A profile
wraps the runtime's parts with timers (router, model HTTP client beyond the server's own time, MCP round
trip, checkpoint writes, thread records, endpoint check) and leaves the rest to the graph's supersteps and
event delivery. Then the same MCP tool call through the runtime's persistent session versus a new stdio
session per call, and turns at 8 and 32 at once.

Everything is measured twice: with the scripted model server in a thread of this process (as the tests
run it), and in a process of its own, as llama.cpp is. In a thread, the server's own work takes the GIL
from the runtime and shows up as orchestration overhead.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import agents.llm
import agents.runtime
from agents.runtime import BlockingRuntime, Runtime
from agents.settings import AgentSettings
from core.wire import TurnRequest
from serving.settings import ServingSettings
from tests.support.mcp_client import stdio_session
from tests.support.scripted_server import Reply, ScriptedServer, text, tool

TURNS = 20
LATENCY = 0.2
CHAT, ENSURE_ENDPOINT = agents.llm.chat, agents.runtime.ensure_endpoint
PARTS = ("router", "model client", "MCP round trip", "checkpoint writes", "thread records", "endpoint check")


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


class Profile:
    """Milliseconds spent in each wrapped part, per turn (one turn at a time)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.turns: list[dict[str, float]] = []
        self._lock = threading.Lock()

    def add(self, part: str, seconds: float) -> None:
        with self._lock:
            self.spent[part] += seconds * 1000

    def next_turn(self) -> None:
        with self._lock:
            self.turns.append(dict(self.spent))
            self.spent.clear()

    def timed(self, part: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        if asyncio.iscoroutinefunction(fn):

            async def wrapped_async(*a: Any, **kw: Any) -> Any:
                start = time.perf_counter()
                try:
                    return await fn(*a, **kw)
                finally:
                    self.add(part, time.perf_counter() - start)

            return wrapped_async

        def wrapped(*a: Any, **kw: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.add(part, time.perf_counter() - start)

        return wrapped

    def median(self, part: str) -> float:
        return statistics.median(t.get(part, 0.0) for t in self.turns) if self.turns else 0.0


def instrument(runtime: Runtime, model_time: Callable[[], float], profile: Profile) -> None:
    """Wrap the runtime's parts; the model client's share is its wall time less the model's time."""
    runtime.router.route = profile.timed("router", runtime.router.route)  # type: ignore[method-assign]
    runtime.pool.call = profile.timed("MCP round trip", runtime.pool.call)  # type: ignore[method-assign]
    saver = runtime.checkpointer
    saver.aput = profile.timed("checkpoint writes", saver.aput)  # type: ignore[method-assign]
    saver.aput_writes = profile.timed("checkpoint writes", saver.aput_writes)  # type: ignore[method-assign]
    for name in ("touch", "record_turn"):
        setattr(runtime.threads, name, profile.timed("thread records", getattr(runtime.threads, name)))

    async def chat(*a: Any, **kw: Any) -> Any:
        busy0, start = model_time(), time.perf_counter()
        try:
            return await CHAT(*a, **kw)
        finally:
            CALLS[0] += 1
            profile.add("model client", (time.perf_counter() - start) - (model_time() - busy0))

    agents.llm.chat = chat  # type: ignore[assignment]
    agents.runtime.ensure_endpoint = profile.timed("endpoint check", ENSURE_ENDPOINT)  # type: ignore[assignment]


def uninstrument() -> None:
    agents.llm.chat = CHAT  # type: ignore[assignment]
    agents.runtime.ensure_endpoint = ENSURE_ENDPOINT  # type: ignore[assignment]


async def one_turn(runtime: Runtime, i: int, with_tool: bool) -> tuple[float, float | None]:
    """A turn's wall seconds and its tool hop's milliseconds, read on the runtime's loop as the service reads it."""
    start, call_at, hop = time.perf_counter(), None, None
    async for event in runtime.turn(TurnRequest(message=f"question {i}", agent="kg" if with_tool else None)):
        if event.type == "tool_call":
            call_at = time.perf_counter()
        elif event.type == "tool_result" and call_at is not None:
            hop = (time.perf_counter() - call_at) * 1000
        elif event.type == "error":
            raise RuntimeError(event.message)
    return time.perf_counter() - start, hop


def timed_turns(
    blocking: BlockingRuntime, model_time: Callable[[], float], with_tool: bool, profile: Profile
) -> tuple[list[float], list[float]]:
    overheads, hops = [], []
    for i in range(TURNS + 1):
        busy0 = model_time()
        total, hop = blocking.run(one_turn(blocking.runtime, i, with_tool))
        if hop is not None:
            hops.append(hop)
        profile.next_turn()
        if i:  # the first turn starts the runtime and the MCP server
            overheads.append((total - (model_time() - busy0)) * 1000)
    profile.turns = profile.turns[1:]
    return overheads, hops[1:]


def model_reply(request: dict[str, Any]) -> Reply:
    """The scripted model: the kg agent calls graph_stats once, everything else answers."""
    tools = {t["function"]["name"] for t in request.get("tools") or []}
    if "graph_stats" in tools and not any(m["role"] == "tool" for m in request["messages"]):
        return tool("graph_stats", {}, delay=LATENCY)
    return text("answer", delay=LATENCY)


def concurrent_turns(blocking: BlockingRuntime, n: int, with_tool: bool) -> list[float]:
    """Each turn's wall time less its model calls' latency, with `n` turns at once on the runtime's loop."""
    calls = 2 if with_tool else 1

    async def batch(first: int) -> list[float]:
        done = await asyncio.gather(*(one_turn(blocking.runtime, i, with_tool) for i in range(first, first + n)))
        return [(total - calls * LATENCY) * 1000 for total, _ in done]

    blocking.run(batch(0))  # warm: sessions, threads
    return blocking.run(batch(n)) + blocking.run(batch(2 * n))


async def session_per_call(n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        async with stdio_session("mcp_servers.kg") as session:
            await session.call_tool("graph_stats", {})
        times.append((time.perf_counter() - start) * 1000)
    return times


def route_times(runtime: Runtime, n: int) -> list[float]:
    times = []
    for i in range(n):
        start = time.perf_counter()
        runtime.router.route(f"how do I sort a list of {i} numbers in Python")
        times.append((time.perf_counter() - start) * 1000)
    return times


def persistent(runtime: BlockingRuntime, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        runtime.run(runtime.pool.call("kg", "graph_stats", {}))
        times.append((time.perf_counter() - start) * 1000)
    return times


@contextmanager
def model_server(where: str) -> Iterator[tuple[str, Callable[[], float]]]:
    """The scripted model's URL and a clock of its model time so far: in a thread of this process (its
    busy seconds), or in a process of its own (LATENCY per call, counted by `instrument`)."""
    if where == "thread":
        with ScriptedServer(handler=model_reply) as server:
            yield server.url, lambda: server.busy_seconds
        return
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.orchestration", "--model-server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip(), lambda: CALLS[0] * LATENCY
    finally:
        proc.kill()
        proc.wait()


CALLS = [0]  # model calls made through the instrumented runtime (for the model server in a process)


def measure(where: str) -> dict[str, Any]:
    """Every figure of the table, with the model server `where` ("thread" or "process")."""
    plain_profile, tool_profile = Profile(), Profile()
    out: dict[str, Any] = {}
    with model_server(where) as (url, model_time):
        os.environ["SPARK_AGENTS_SUPERVISOR_URL"] = url
        for key, profile, with_tool in (("plain", plain_profile, False), ("tool", tool_profile, True)):
            with BlockingRuntime(ServingSettings(), AgentSettings()) as runtime:  # read here: the URL is set
                instrument(runtime.runtime, model_time, profile)
                out[key], hops = timed_turns(runtime, model_time, with_tool=with_tool, profile=profile)
                if with_tool:
                    out["hops"] = hops
                out["fresh"] = asyncio.run(session_per_call(8))
                out["kept"] = persistent(runtime, 20)
                uninstrument()
                out["routes"] = route_times(runtime.runtime, 50)
        with BlockingRuntime(ServingSettings(), AgentSettings()) as runtime:
            out["at_once"] = {(n, t): concurrent_turns(runtime, n, t) for n in (8, 32) for t in (False, True)}
    out["profiles"] = (plain_profile, tool_profile)
    return out


def main() -> None:
    if sys.argv[1:] == ["--model-server"]:
        with ScriptedServer(handler=model_reply) as server:
            print(server.url, flush=True)
            sys.stdin.read()  # until the benchmark closes it (or dies)
        return
    os.environ["SPARK_AGENTS_HOME"] = tempfile.mkdtemp(prefix="spark-bench-")
    os.environ["SPARK_AGENTS_AGENT_ROUTING"] = "llm"  # gpt-oss decides with handoff tools
    os.environ["SPARK_AGENTS_AGENT_SMALL_MODEL"] = "false"
    runs = {where: measure(where) for where in ("thread", "process")}
    print(f"Scripted model latency {LATENCY * 1000:.0f} ms per call; {TURNS} turns each; model time subtracted.")
    print("Model server in a thread of the benchmark (as the tests run it) or in its own process (as llama.cpp).\n")
    print("| what | thread: p50 ms | thread: p95 ms | process: p50 ms | process: p95 ms |")
    print("|---|---|---|---|---|")

    def row(what: str, pick: Callable[[dict[str, Any]], list[float]]) -> None:
        cells = " | ".join(f"{pct(pick(r), 50):.1f} | {pct(pick(r), 95):.1f}" for r in runs.values())
        print(f"| {what} | {cells} |")

    row("turn overhead, supervisor answers (1 model call)", lambda r: r["plain"])
    row("turn overhead, kg agent + 1 tool hop (2 model calls)", lambda r: r["tool"])
    row("tool hop: tool_call → tool_result (graph_stats over MCP)", lambda r: r["hops"])
    row("graph_stats, persistent session (runtime pool)", lambda r: r["kept"])
    row("graph_stats, new stdio session per call", lambda r: r["fresh"])
    row("router: one route() (`auto` mode, local profile)", lambda r: r["routes"])
    for n, with_t in runs["thread"]["at_once"]:
        what = "kg agent + 1 tool hop" if with_t else "supervisor answers"
        row(f"turn overhead, {n} turns at once, {what}", lambda r, k=(n, with_t): r["at_once"][k])  # type: ignore[misc]
    print("\nWhere a turn's overhead goes (median ms per turn, one turn at a time):\n")
    print("| part | thread: supervisor answers | thread: kg + 1 tool hop | process: supervisor | process: kg + 1 hop |")
    print("|---|---|---|---|---|")
    for part in PARTS:
        cells = " | ".join(f"{p.median(part):.1f}" for r in runs.values() for p in r["profiles"])
        print(f"| {part} | {cells} |")
    rest = []
    for r in runs.values():
        for key, p in zip(("plain", "tool"), r["profiles"], strict=True):
            rest.append(statistics.median(r[key]) - sum(p.median(part) for part in PARTS))
    print(f"| graph supersteps, event delivery, the rest | {' | '.join(f'{x:.1f}' for x in rest)} |")


if __name__ == "__main__":
    main()
