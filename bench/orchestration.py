"""Orchestration overhead of the agent graph: what a turn and a tool hop cost beyond model time.

The scripted OpenAI-compatible server answers after a fixed latency; the time it spends answering is
subtracted from each turn, leaving graph + checkpointer + MCP + event streaming. Then the same MCP tool
call through the runtime's persistent session versus a new stdio session per call (what a plain
MultiServerMCPClient tool does by default).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time

from agents.runtime import get_runtime, reset_runtime
from agents.turn import run_turn
from tests.support.mcp_client import stdio_session
from tests.support.scripted_server import ScriptedServer, text, tool

TURNS = 20
LATENCY = 0.2


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def timed_turns(server: ScriptedServer, with_tool: bool) -> tuple[list[float], list[float]]:
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
        if i:  # the first turn starts the runtime and the MCP server
            overheads.append((total - (server.busy_seconds - busy0)) * 1000)
    return overheads, hops[1:]


async def session_per_call(n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        async with stdio_session("mcp_servers.kg") as session:
            await session.call_tool("graph_stats", {})
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
    os.environ["SPARK_AGENTS_AGENT_ROUTING"] = "llm"
    os.environ["SPARK_AGENTS_AGENT_SMALL_MODEL"] = "false"
    with ScriptedServer() as server:
        os.environ["SPARK_AGENTS_SUPERVISOR_URL"] = server.url
        reset_runtime()
        plain, _ = timed_turns(server, with_tool=False)
        with_tool, hops = timed_turns(server, with_tool=True)
        fresh = asyncio.run(session_per_call(8))
        kept = persistent(20)
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


if __name__ == "__main__":
    main()
