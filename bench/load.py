"""Load: N concurrent conversations through `spark-agents serve` (the resident service in the foreground),
each turn with a tool call, through the OpenAI-compatible API and through the native API (`/api/turns`).

`spark-agents serve` runs as a subprocess on a free port with its own data directory (a small knowledge
graph built offline). The model is the scripted OpenAI-compatible server at a realistic latency: 300 ms to
the first token, 20 ms per streamed token. Each conversation talks to the kg agent (model
`spark-agents-kg`): the model calls `query_graph` (a real MCP call to the kg server), then answers naming
the conversation's own token, which it reads from the request, so replies stay consistent under
concurrency. Each conversation has two turns, the second continuing the first's thread.

Reported per level: turns, errors, wall time, throughput (turns/s), p50/p95/p99 turn latency, cross-talk
(an answer that names another conversation's token, or not its own), and the server's peak memory
(RSS of `spark-agents serve`, and with its MCP server children).
Run: `python -m bench load` (env LOAD_LEVELS="10,50,200", LOAD_APIS="openai,native", LOAD_BUDGET_S=240
caps each level's wall time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

FIRST_TOKEN_S = 0.3
TOKEN_S = 0.02
TOKEN_RE = re.compile(r"conv-\d+-[0-9a-f]{6}")


def _handler(request: dict[str, Any]) -> Any:
    from tests.support.scripted_server import text, tool

    messages = request.get("messages", [])
    user = " ".join(str(m.get("content")) for m in messages if m.get("role") == "user")
    tokens = TOKEN_RE.findall(user)
    token = tokens[-1] if tokens else "conv-none"
    if messages and messages[-1].get("role") == "tool":
        facts = messages[-1].get("content", "")[:0]
        answer = f"For {token}: Marie Curie was born in Warsaw and married Pierre Curie.{facts}"
        return text(answer, delay=FIRST_TOKEN_S, token_delay=TOKEN_S)
    return tool(
        "query_graph", {"mode": "neighbours", "entity": "Marie Curie"}, delay=FIRST_TOKEN_S, token_delay=TOKEN_S
    )


def _cpu(proc: Any) -> tuple[float, float]:
    """CPU seconds (user + system) of the serve process, and of it with its children (MCP servers)."""
    import psutil

    def of(p: Any) -> float:
        try:
            t = p.cpu_times()
            return t.user + t.system
        except psutil.NoSuchProcess:
            return 0.0

    main = of(proc)
    return main, main + sum(of(c) for c in proc.children(recursive=True))


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


class _MemorySampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        import psutil

        self.proc = psutil.Process(pid)
        self.peak_main = 0
        self.peak_total = 0
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        while not self.stop.is_set():
            try:
                main = self.proc.memory_info().rss
                total = main
                for child in self.proc.children(recursive=True):
                    with contextlib.suppress(psutil.NoSuchProcess):
                        total += child.memory_info().rss
                self.peak_main, self.peak_total = max(self.peak_main, main), max(self.peak_total, total)
            except psutil.NoSuchProcess:
                return
            self.stop.wait(0.25)


async def _conversation(client: Any, base: str, n: int, turns: int, out: dict[str, Any]) -> None:
    token = f"conv-{n}-{os.urandom(3).hex()}"
    thread: str | None = None
    for t in range(turns):
        body = {
            "model": "spark-agents-kg",
            "messages": [{"role": "user", "content": f"[{token}] turn {t}: how is Marie Curie connected to Warsaw?"}],
        }
        headers = {"X-Thread-Id": thread} if thread else {}
        start = time.perf_counter()
        try:
            r = await client.post(f"{base}/v1/chat/completions", json=body, headers=headers)
        except Exception as e:  # noqa: BLE001 - counted as an error
            out["errors"].append(f"{type(e).__name__}: {e}")
            return
        out["latencies"].append(time.perf_counter() - start)
        if r.status_code != 200:
            out["errors"].append(f"{r.status_code}: {r.text[:200]}")
            return
        data = r.json()
        out["ok"] += 1
        events = (data.get("spark_agents") or {}).get("events") or []
        results = [e for e in events if e.get("type") == "tool_result"]
        if len(results) != 1 or results[0].get("is_error"):
            out["tool_errors"] += 1
        answer = data["choices"][0]["message"]["content"] or ""
        named = set(TOKEN_RE.findall(answer))
        if named != {token}:
            out["crosstalk"].append((token, sorted(named)))
        thread = r.headers.get("x-thread-id") or r.json().get("spark_agents", {}).get("thread_id")


async def _native_conversation(client: Any, base: str, n: int, turns: int, out: dict[str, Any]) -> None:
    """The same conversation through `POST /api/turns` (the typed event stream as SSE), as the CLI and UI."""
    token = f"conv-{n}-{os.urandom(3).hex()}"
    thread: str | None = None
    for t in range(turns):
        body = {
            "message": f"[{token}] turn {t}: how is Marie Curie connected to Warsaw?",
            "agent": "kg",
            "thread_id": thread,
        }
        start = time.perf_counter()
        events: list[dict[str, Any]] = []
        try:
            async with client.stream("POST", f"{base}/api/turns", json=body) as r:
                if r.status_code != 200:
                    out["errors"].append(f"{r.status_code}: {(await r.aread())[:200]!r}")
                    return
                async for line in r.aiter_lines():
                    if line.startswith("data: "):
                        events.append(json.loads(line[6:]))
        except Exception as e:  # noqa: BLE001 - counted as an error
            out["errors"].append(f"{type(e).__name__}: {e}")
            return
        out["latencies"].append(time.perf_counter() - start)
        final = events[-1] if events else {}
        if final.get("type") != "final":
            out["errors"].append(f"turn ended with {final.get('type')}: {str(final)[:200]}")
            return
        out["ok"] += 1
        results = [e for e in events if e.get("type") == "tool_result"]
        if len(results) != 1 or results[0].get("is_error"):
            out["tool_errors"] += 1
        if set(TOKEN_RE.findall(final.get("text") or "")) != {token}:
            out["crosstalk"].append((token, sorted(TOKEN_RE.findall(final.get("text") or ""))))
        thread = final.get("thread_id")


async def _level(
    base: str, n: int, turns: int, budget: float, api: str = "openai", token: str | None = None
) -> dict[str, Any]:
    import httpx

    out: dict[str, Any] = {"latencies": [], "errors": [], "crosstalk": [], "ok": 0, "tool_errors": 0}
    # Idle keep-alive connections expire on the client before uvicorn closes them (5 s): otherwise a request
    # can race the server's close and fail with ReadError, which real clients retry (the OpenAI SDK does).
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10, keepalive_expiry=2.0)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    conversation = _native_conversation if api == "native" else _conversation
    async with httpx.AsyncClient(timeout=httpx.Timeout(budget), limits=limits, headers=headers) as client:
        start = time.perf_counter()
        tasks = [asyncio.create_task(conversation(client, base, i, turns, out)) for i in range(n)]
        done, pending = await asyncio.wait(tasks, timeout=budget)
        for task in pending:
            task.cancel()
        out["wall"] = time.perf_counter() - start
        out["unfinished"] = len(pending)
    return out


def _build_graph(home: Path) -> None:
    env = {**os.environ, "SPARK_AGENTS_HOME": str(home)}
    code = (
        "from kg.build import build_graph, text_chunks\n"
        "build_graph(text_chunks('Marie Curie was born in Warsaw. Marie Curie married Pierre Curie.'),"
        " extractor='offline')\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=300)


def main() -> None:

    from core.daemon import free_port
    from tests.support.processes import serving_process
    from tests.support.scripted_server import ScriptedServer

    levels = [int(x) for x in os.environ.get("LOAD_LEVELS", "10,50,200").split(",") if x.strip()]
    budget = float(os.environ.get("LOAD_BUDGET_S", "240"))
    turns = int(os.environ.get("LOAD_TURNS", "2"))
    apis = [a.strip() for a in os.environ.get("LOAD_APIS", "openai,native").split(",") if a.strip()]
    rows = []
    with tempfile.TemporaryDirectory() as tmp, ScriptedServer(handler=_handler) as model:
        home = Path(tmp) / "home"
        _build_graph(home)
        port = free_port()
        env = {
            **os.environ,
            "SPARK_AGENTS_HOME": str(home),
            "SPARK_AGENTS_PROFILE": "local",
            "HF_HUB_OFFLINE": "1",
            "SPARK_AGENTS_SUPERVISOR_URL": model.url,
            "SPARK_AGENTS_SUPERVISOR_MODEL": "scripted-model",
            "SPARK_AGENTS_CODER_URL": model.url,
            "SPARK_AGENTS_CODER_MODEL": "scripted-model",
            "SPARK_AGENTS_AGENT_SMALL_MODEL": "false",
            "SPARK_AGENTS_AGENT_ROUTING": "llm",
        }
        base = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "cli", "serve", "--port", str(port)]
        with serving_process(
            argv, f"{base}/health", env=env, timeout=90, ready=lambda r: r.status_code == 200, inherit_env=False
        ) as proc:
            asyncio.run(_level(base, 1, 1, budget))  # warm-up: start the kg MCP server, load the graph
            token = (home / "service.token").read_text().strip()
            sampler = _MemorySampler(proc.pid)
            sampler.start()
            for api, n in [(api, n) for api in apis for n in levels]:
                requests_before = len(model.chat_requests)
                cpu_before = _cpu(sampler.proc)
                own_before = sum(os.times()[:2])
                res = asyncio.run(_level(base, n, turns, budget, api, token))
                cpu_used = [after - before for before, after in zip(cpu_before, _cpu(sampler.proc), strict=True)]
                lat = res["latencies"]
                rows.append(
                    {
                        "api": api,
                        "n": n,
                        "turns": n * turns,
                        "completed": res["ok"],
                        "tool_errors": res["tool_errors"],
                        "errors": len(res["errors"]) + res["unfinished"],
                        "crosstalk": len(res["crosstalk"]),
                        "wall": res["wall"],
                        "tput": res["ok"] / res["wall"] if res["wall"] else 0.0,
                        "p50": _percentile(lat, 50),
                        "p95": _percentile(lat, 95),
                        "p99": _percentile(lat, 99),
                        "mean": statistics.fmean(lat) if lat else float("nan"),
                        "rss": sampler.peak_main / 2**20,
                        "rss_all": sampler.peak_total / 2**20,
                        "model_calls": len(model.chat_requests) - requests_before,
                        "cpu": 100 * cpu_used[0] / res["wall"],
                        "cpu_all": 100 * cpu_used[1] / res["wall"],
                        "cpu_bench": 100 * (sum(os.times()[:2]) - own_before) / res["wall"],
                        "first_error": (res["errors"] or [""])[0][:120],
                    }
                )
            sampler.stop.set()

    print(
        f"Scripted model: {FIRST_TOKEN_S * 1000:.0f} ms to first token, {TOKEN_S * 1000:.0f} ms/token; "
        f"{turns} turns per conversation (second continues the thread), each turn = 2 model calls + 1 kg MCP "
        f"call; OpenAI API non-streamed, native API streamed (SSE); CPU cores: {os.cpu_count()}; "
        f"level budget {budget:.0f} s."
    )
    print()
    print(
        "| API | conversations | turns | completed | errors | tool errors | cross-talk | wall s | turns/s | p50 s "
        "| p95 s | p99 s | model calls | serve CPU % | + MCP CPU % | bench+model CPU % | serve RSS MiB (peak) "
        "| + MCP children MiB |"
    )
    print("|---|" + "---:|" * 17)
    for r in rows:
        print(
            f"| {r['api']} | {r['n']} | {r['turns']} | {r['completed']} | {r['errors']} | {r['tool_errors']} "
            f"| {r['crosstalk']} "
            f"| {r['wall']:.1f} | {r['tput']:.2f} | {r['p50']:.2f} | {r['p95']:.2f} | {r['p99']:.2f} "
            f"| {r['model_calls']} | {r['cpu']:.0f} | {r['cpu_all']:.0f} | {r['cpu_bench']:.0f} | {r['rss']:.0f} "
            f"| {r['rss_all']:.0f} |"
        )
    for r in rows:
        if r["first_error"]:
            print(f"\nfirst error ({r['api']}, {r['n']}): {r['first_error']}")


if __name__ == "__main__":
    main()
