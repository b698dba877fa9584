"""Orchestration overhead of the agent graph: what a turn and a tool hop cost beyond model time.

The scripted OpenAI-compatible server answers after a fixed latency; the time it spends answering is
subtracted from each turn, leaving graph + checkpointer + MCP + event streaming. The runtime measured is
the one the resident service holds (`agents.runtime`), driven the way the service drives it. A profile
wraps the runtime's parts with timers (router, model HTTP client beyond the server's own time, MCP round
trip, checkpoint writes, thread records, endpoint check) and leaves the rest to the graph's supersteps and
event delivery. Then the same MCP tool call through the runtime's persistent session versus a new stdio
session per call, and turns at 8 and 32 at once.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import agents.graph
import agents.runtime
from agents.runtime import Runtime, get_runtime, reset_runtime
from agents.turn import run_turn
from tests.support.mcp_client import stdio_session
from tests.support.scripted_server import Reply, ScriptedServer, text, tool

TURNS = 20
LATENCY = 0.2
CHAT, ENSURE_ENDPOINT = agents.graph.chat, agents.runtime.ensure_endpoint
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


def instrument(runtime: Runtime, server: ScriptedServer, profile: Profile) -> None:
    """Wrap the runtime's parts; the model client's share is its wall time less the server's busy time."""
    runtime.router.route = profile.timed("router", runtime.router.route)  # type: ignore[method-assign]
    runtime.pool.call = profile.timed("MCP round trip", runtime.pool.call)  # type: ignore[method-assign]
    saver = runtime.checkpointer
    saver.aput = profile.timed("checkpoint writes", saver.aput)  # type: ignore[method-assign]
    saver.aput_writes = profile.timed("checkpoint writes", saver.aput_writes)  # type: ignore[method-assign]
    for name in ("touch", "record_turn"):
        setattr(runtime.threads, name, profile.timed("thread records", getattr(runtime.threads, name)))

    async def chat(*a: Any, **kw: Any) -> Any:
        busy0, start = server.busy_seconds, time.perf_counter()
        try:
            return await CHAT(*a, **kw)
        finally:
            profile.add("model client", (time.perf_counter() - start) - (server.busy_seconds - busy0))

    agents.graph.chat = chat  # type: ignore[assignment]
    agents.runtime.ensure_endpoint = profile.timed("endpoint check", ENSURE_ENDPOINT)  # type: ignore[assignment]


def uninstrument() -> None:
    agents.graph.chat = CHAT  # type: ignore[assignment]
    agents.runtime.ensure_endpoint = ENSURE_ENDPOINT  # type: ignore[assignment]


def timed_turns(server: ScriptedServer, with_tool: bool, profile: Profile) -> tuple[list[float], list[float]]:
    overheads, hops = [], []
    for i in range(TURNS + 1):
        if with_tool:
            server.script(tool("graph_stats", {}, delay=LATENCY), text(f"answer {i}", delay=LATENCY))
        else:
            server.script(text(f"answer {i}", delay=LATENCY))
        busy0 = server.busy_seconds
        start = time.perf_counter()
        call_at = None
        for event in run_turn(f"question {i}", agent="kg" if with_tool else None):
            if event.type == "tool_call":
                call_at = time.perf_counter()
            elif event.type == "tool_result" and call_at is not None:
                hops.append((time.perf_counter() - call_at) * 1000)
            elif event.type == "error":
                raise RuntimeError(event.message)
        total = time.perf_counter() - start
        profile.next_turn()
        if i:  # the first turn starts the runtime and the MCP server
            overheads.append((total - (server.busy_seconds - busy0)) * 1000)
    profile.turns = profile.turns[1:]
    return overheads, hops[1:]


def concurrent_reply(request: dict[str, Any]) -> Reply:
    """For many turns at once: the kg agent calls graph_stats once, everything else answers."""
    tools = {t["function"]["name"] for t in request.get("tools") or []}
    if "graph_stats" in tools and not any(m["role"] == "tool" for m in request["messages"]):
        return tool("graph_stats", {}, delay=LATENCY)
    return text("answer", delay=LATENCY)


def concurrent_turns(n: int, with_tool: bool) -> list[float]:
    """Each turn's wall time less its model calls' latency, with `n` turns running at once."""
    calls = 2 if with_tool else 1

    def one(i: int) -> float:
        start = time.perf_counter()
        for event in run_turn(f"question {i}", agent="kg" if with_tool else None):
            if event.type == "error":
                raise RuntimeError(event.message)
        return (time.perf_counter() - start - calls * LATENCY) * 1000

    with ThreadPoolExecutor(n) as pool:
        list(pool.map(one, range(n)))  # warm: sessions, threads
        return list(pool.map(one, range(n, 3 * n)))


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


def persistent(n: int) -> list[float]:
    runtime = get_runtime()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        runtime._call(runtime.pool.call("kg", "graph_stats", {}))
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    os.environ["SPARK_AGENTS_HOME"] = tempfile.mkdtemp(prefix="spark-bench-")
    os.environ["SPARK_AGENTS_AGENT_ROUTING"] = "llm"  # gpt-oss decides with handoff tools
    os.environ["SPARK_AGENTS_AGENT_SMALL_MODEL"] = "false"
    plain_profile, tool_profile = Profile(), Profile()
    with ScriptedServer() as server:
        os.environ["SPARK_AGENTS_SUPERVISOR_URL"] = server.url
        reset_runtime()
        runtime = get_runtime()
        instrument(runtime, server, plain_profile)
        plain, _ = timed_turns(server, with_tool=False, profile=plain_profile)
        reset_runtime()
        runtime = get_runtime()
        instrument(runtime, server, tool_profile)
        with_tool, hops = timed_turns(server, with_tool=True, profile=tool_profile)
        fresh = asyncio.run(session_per_call(8))
        kept = persistent(20)
        uninstrument()
        routes = route_times(get_runtime(), 50)
        reset_runtime()
    with ScriptedServer(handler=concurrent_reply) as server:
        os.environ["SPARK_AGENTS_SUPERVISOR_URL"] = server.url
        reset_runtime()
        at_once = {(n, t): concurrent_turns(n, t) for n in (8, 32) for t in (False, True)}
        reset_runtime()
    print(f"Scripted model latency {LATENCY * 1000:.0f} ms per call; {TURNS} turns each; model time subtracted.\n")
    print("| what | p50 ms | p95 ms |")
    print("|---|---|---|")
    print(f"| turn overhead, supervisor answers (1 model call) | {pct(plain, 50):.1f} | {pct(plain, 95):.1f} |")
    print(
        f"| turn overhead, kg agent + 1 tool hop (2 model calls) | {pct(with_tool, 50):.1f} | "
        f"{pct(with_tool, 95):.1f} |"
    )
    print(f"| tool hop: tool_call → tool_result (graph_stats over MCP) | {pct(hops, 50):.1f} | {pct(hops, 95):.1f} |")
    print(f"| graph_stats, persistent session (runtime pool) | {pct(kept, 50):.1f} | {pct(kept, 95):.1f} |")
    print(f"| graph_stats, new stdio session per call | {pct(fresh, 50):.1f} | {pct(fresh, 95):.1f} |")
    print(f"| router: one route() (`auto` mode, local profile) | {pct(routes, 50):.1f} | {pct(routes, 95):.1f} |")
    for (n, with_t), values in at_once.items():
        what = "kg agent + 1 tool hop" if with_t else "supervisor answers"
        print(f"| turn overhead, {n} turns at once, {what} | {pct(values, 50):.1f} | {pct(values, 95):.1f} |")
    print("\nWhere a turn's overhead goes (median ms per turn, one turn at a time):\n")
    print("| part | supervisor answers | kg agent + 1 tool hop |")
    print("|---|---|---|")
    for part in PARTS:
        print(f"| {part} | {plain_profile.median(part):.1f} | {tool_profile.median(part):.1f} |")
    rest_plain = statistics.median(plain) - sum(plain_profile.median(p) for p in PARTS)
    rest_tool = statistics.median(with_tool) - sum(tool_profile.median(p) for p in PARTS)
    print(f"| graph supersteps, event delivery, the rest | {rest_plain:.1f} | {rest_tool:.1f} |")


if __name__ == "__main__":
    main()
