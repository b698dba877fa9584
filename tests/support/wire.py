"""A legacy MCP client written against the wire, not the SDK: JSON-RPC lines over a server's stdio, or POSTs
to its streamable HTTP endpoint, after an `initialize` handshake (protocol revision 2025-11-25). It checks
what clients that still begin with `initialize` (IDEs today) get from the servers, whatever SDK line the
servers run on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import httpx

LEGACY_VERSION = "2025-11-25"


class Wire(Protocol):
    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON-RPC response (with `result` or `error`) to one request."""
        ...


def initialize_params(version: str = LEGACY_VERSION) -> dict[str, Any]:
    return {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "legacy-wire", "version": "1"}}


def request(request_id: int, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, **({"params": params} if params else {})}


class StdioWire:
    """JSON-RPC over a server process's stdin and stdout, one message a line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc, self.next_id = proc, 0

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        self.send(request(self.next_id, method, params))
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # notifications (logs, progress) come before the response
            message = json.loads(line)
            if message.get("id") == self.next_id and "method" not in message:
                return message
        raise EOFError(f"the server closed stdout before answering {method} (exit code {self.proc.poll()})")


class HttpWire:
    """POSTs to a streamable HTTP endpoint, with the session id and protocol version it negotiated."""

    def __init__(self, url: str) -> None:
        self.url, self.next_id = url, 0
        self.headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

    def post(self, message: dict[str, Any]) -> httpx.Response:
        r = httpx.post(self.url, json=message, headers=self.headers, timeout=120)
        assert r.status_code in (200, 202), (r.status_code, r.text)
        return r

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return answer(self.exchange(method, params), self.next_id)

    def exchange(self, method: str, params: dict[str, Any] | None = None) -> httpx.Response:
        self.next_id += 1
        return self.post(request(self.next_id, method, params))


def answer(r: httpx.Response, request_id: int) -> dict[str, Any]:
    """The response to `request_id` in an HTTP reply: its JSON body, or one event of its SSE stream."""
    if r.headers.get("content-type", "").startswith("application/json"):
        return r.json()
    events = [json.loads(line[5:]) for line in r.text.splitlines() if line.startswith("data:") and line[5:].strip()]
    return next(e for e in events if e.get("id") == request_id and "method" not in e)


@contextmanager
def stdio_wire(module: str, env: dict[str, str] | None = None) -> Iterator[tuple[StdioWire, dict[str, Any]]]:
    """`python -m <module>` over stdio after `initialize`: the wire and the initialize result."""
    proc = subprocess.Popen(
        [sys.executable, "-m", module],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        wire = StdioWire(proc)
        init = wire.request("initialize", initialize_params())
        wire.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        yield wire, init["result"]
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # end of input: the server exits
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def http_wire(url: str) -> Iterator[tuple[HttpWire, dict[str, Any]]]:
    """A session on a streamable HTTP endpoint after `initialize`: the wire and the initialize result."""
    wire = HttpWire(url)
    r = wire.exchange("initialize", initialize_params())
    init, session = answer(r, wire.next_id), r.headers.get("mcp-session-id")
    wire.headers["MCP-Protocol-Version"] = init["result"]["protocolVersion"]
    if session:
        wire.headers["Mcp-Session-Id"] = session
    wire.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    try:
        yield wire, init["result"]
    finally:
        if session:
            httpx.delete(url, headers=wire.headers, timeout=10)
