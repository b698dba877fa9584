"""The resident service: what a CLI turn costs beyond the model, cold start, and memory with many front ends.

The local profile for real: llama.cpp serving the packaged SmolLM2 model, the embedding router, the four
MCP servers. A timing proxy sits between the service and llama.cpp and adds up the time the model spends
answering each request ("model time"), so `ask` wall time minus model time is what the service, the CLI
process and the HTTP hops cost (goal: ≤ 0.3 s).

Rows:
- cold: `spark-agents ask` with no service running (llama.cpp already up): starts the service, which loads
  the router and starts the agents' MCP servers on the first turn.
- warm: the same command again, with the service running (median of SERVICE_RUNS, default 5).
- warm, in-process client: `ServiceClient.turn` from a Python script (no CLI process start).
Then the RSS of the whole process tree (service + its MCP servers + llama.cpp + the front ends) with one
front end open (an interactive `spark-agents chat`) and with four (plus the Streamlit app, the MCP gateway
an IDE starts, and an OpenAI client's turn): one copy of the models however many front ends there are.

Run: `python -m bench service` (env SERVICE_RUNS=5, SERVICE_PROMPT="Hello there").
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CLI = [sys.executable, "-m", "cli"]


class TimingProxy:
    """Forwards HTTP to the model server unchanged (streaming included) and sums the time spent in
    chat requests, from the request to the last byte of the answer."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.busy = 0.0
        self.calls = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                start = time.perf_counter()
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=600)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                reply = conn.getresponse()
                self.send_response(reply.status)
                for k, v in reply.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                while chunk := reply.read1(65536):
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                conn.close()
                if "chat/completions" in self.path:
                    with proxy._lock:
                        proxy.busy += time.perf_counter() - start
                        proxy.calls += 1

            do_GET = do_POST = _forward

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def take(self) -> float:
        with self._lock:
            busy, self.busy = self.busy, 0.0
        return busy


def _tree_rss(pids: list[int]) -> float:
    """MiB resident in these processes and all their children (each counted once)."""
    import psutil

    seen: dict[int, int] = {}
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            root = psutil.Process(pid)
            for p in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    seen[p.pid] = p.memory_info().rss
    return sum(seen.values()) / 2**20


@contextlib.contextmanager
def _held_open(argv: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(20)
        if proc.poll() is None:
            proc.kill()


def _ask(prompt: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([*CLI, "ask", prompt], env=env, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - start


def main() -> None:
    import httpx

    from api.service import ServiceSettings
    from core.daemon import free_port
    from serving.lifecycle import ensure_endpoint
    from serving.settings import ServingSettings

    runs = int(os.environ.get("SERVICE_RUNS", "5"))
    prompt = os.environ.get("SERVICE_PROMPT", "Hello there")
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        base_env = {
            **os.environ,
            "SPARK_AGENTS_HOME": str(home),
            "SPARK_AGENTS_PROFILE": "local",
            "HF_HUB_OFFLINE": "1",
        }
        os.environ.update(base_env)
        llama = ensure_endpoint("supervisor", ServingSettings())  # the local llama.cpp server, started once (not timed)
        assert llama.base_url, "the local model server did not start"
        proxy = TimingProxy(llama.base_url)
        env = {**base_env, "SPARK_AGENTS_SUPERVISOR_URL": proxy.url, "SPARK_AGENTS_SUPERVISOR_MODEL": llama.model}
        env |= {"SPARK_AGENTS_CODER_URL": proxy.url, "SPARK_AGENTS_CODER_MODEL": llama.model}
        os.environ.update(env)
        try:
            cold = _ask(prompt, env)
            rows.append(("cold: `ask`, service not running", cold, proxy.take()))
            warm = [(_ask(prompt, env), proxy.take()) for _ in range(runs)]
            rows.append((f"warm: `ask` (median of {runs})", *_median_pair(warm)))

            from api.client import ServiceClient

            inproc = []
            with ServiceClient(ServiceSettings(), notice=None) as client:
                for _ in range(runs):
                    start = time.perf_counter()
                    events = list(client.turn(prompt))
                    assert events[-1].type == "final", events[-1]
                    inproc.append((time.perf_counter() - start, proxy.take()))
                service_url = client.url
            token = (home / "service.token").read_text().strip()  # what every local client reads
            rows.append((f"warm: in-process client (median of {runs})", *_median_pair(inproc)))

            from api.service import ServiceSettings, read_record

            record = read_record(ServiceSettings())
            assert record is not None
            llama_pid = int(json.loads((home / "run" / "llama-server.json").read_text())["pid"])
            core_pids = [record.pid, llama_pid]
            memory: list[tuple[str, float, float]] = [
                ("service tree + llama.cpp, no front end", _tree_rss(core_pids), 0)
            ]
            with _held_open([*CLI, "chat"], env) as chat:
                time.sleep(3)
                memory.append(("1 front end (chat)", _tree_rss([*core_pids, chat.pid]), _tree_rss([chat.pid])))
                port = free_port()
                ui_argv = [*CLI, "ui", "--port", str(port)]
                gateway_argv = [sys.executable, "-m", "mcp_servers.gateway"]
                with _held_open(ui_argv, env) as ui, _held_open(gateway_argv, env) as gateway:
                    for _ in range(120):
                        with contextlib.suppress(httpx.HTTPError):
                            if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text == "ok":
                                break
                        time.sleep(0.5)
                    httpx.post(
                        f"{service_url}/v1/chat/completions",
                        json={"model": "spark-agents", "messages": [{"role": "user", "content": prompt}]},
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=600,
                    ).raise_for_status()
                    time.sleep(2)
                    front = [chat.pid, ui.pid, gateway.pid]
                    memory.append(
                        (
                            "4 front ends (chat, UI, gateway, OpenAI client)",
                            _tree_rss([*core_pids, *front]),
                            _tree_rss(front),
                        )
                    )
        finally:
            subprocess.run([*CLI, "service", "down"], env=env, capture_output=True, timeout=60)
            subprocess.run([*CLI, "models", "down"], env=env, capture_output=True, timeout=60)

    print(f"Local profile: {llama.model} on llama.cpp; prompt {prompt!r}; CPU cores: {os.cpu_count()}.")
    print("Model time = time llama.cpp spent answering (a timing proxy in front of it); overhead = wall - model.\n")
    print("| turn | wall s | model s | overhead s |")
    print("|---|---:|---:|---:|")
    for name, wall, model in rows:
        print(f"| {name} | {wall:.2f} | {model:.2f} | {wall - model:.2f} |")
    print("\n| processes open | whole tree RSS MiB | of which front ends MiB |")
    print("|---|---:|---:|")
    for name, total, front_ends in memory:
        print(f"| {name} | {total:.0f} | {front_ends:.0f} |")


def _median_pair(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """The run with the median overhead (wall and model time from the same run)."""
    ordered = sorted(pairs, key=lambda p: p[0] - p[1])
    return ordered[len(ordered) // 2]


if __name__ == "__main__":
    main()
