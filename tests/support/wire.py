"""An MCP client written against the wire, not the SDK: JSON-RPC lines over a server's stdio, or POSTs to its
streamable HTTP endpoint, in either protocol era. A legacy client begins with an `initialize` handshake
(revision 2025-11-25, as IDEs do today); a 2026-07-28 client asks `server/discover` and then sends each request
on its own, its revision and capabilities in the request's `_meta` (and, over HTTP, in headers). It checks
what each era's clients get from the servers, whatever SDK line the servers run on."""

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
MODERN_VERSION = "2026-07-28"
ERAS = (LEGACY_VERSION, MODERN_VERSION)
SERVER_INFO = "io.modelcontextprotocol/serverInfo"  # the `_meta` key a 2026-07-28 server names itself under
# What a 2026-07-28 request carries in its `_meta` instead of a session's handshake.
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "modern-wire", "version": "1"},
}


class Wire(Protocol):
    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON-RPC response (with `result` or `error`) to one request."""
        ...


def initialize_params(version: str = LEGACY_VERSION) -> dict[str, Any]:
    return {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "legacy-wire", "version": "1"}}


def request(
    request_id: int, method: str, params: dict[str, Any] | None, meta: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A JSON-RPC request; `meta` (a 2026-07-28 request's envelope) goes into its params' `_meta`."""
    params = {**(params or {}), "_meta": meta} if meta else params
    return {"jsonrpc": "2.0", "id": request_id, "method": method, **({"params": params} if params else {})}


class StdioWire:
    """JSON-RPC over a server process's stdin and stdout, one message a line (each request with `meta`)."""

    def __init__(self, proc: subprocess.Popen[str], meta: dict[str, Any] | None = None) -> None:
        self.proc, self.next_id, self.meta = proc, 0, meta

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.next_id += 1
        self.send(request(self.next_id, method, params, self.meta))
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # notifications (logs, progress) come before the response
            message = json.loads(line)
            if message.get("id") == self.next_id and "method" not in message:
                return message
        raise EOFError(f"the server closed stdout before answering {method} (exit code {self.proc.poll()})")


class HttpWire:
    """POSTs to a streamable HTTP endpoint: with the session id and protocol version a legacy client negotiated,
    or (`meta`) each request on its own, its method and target named in headers as 2026-07-28 asks."""

    def __init__(self, url: str, meta: dict[str, Any] | None = None) -> None:
        self.url, self.next_id, self.meta = url, 0, meta
        self.headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        if meta:
            self.headers["MCP-Protocol-Version"] = meta["io.modelcontextprotocol/protocolVersion"]

    def post(self, message: dict[str, Any]) -> httpx.Response:
        headers = self.headers
        if self.meta and "method" in message:
            params = message.get("params") or {}
            target = params.get("name") or params.get("uri")
            headers = {**headers, "Mcp-Method": message["method"], **({"Mcp-Name": target} if target else {})}
        r = httpx.post(self.url, json=message, headers=headers, timeout=120)
        # A 2026-07-28 server sends an error it answers for invalid params (a missing resource) with HTTP 400.
        rejected = self.meta is not None and r.status_code == 400 and "error" in r.json()
        assert r.status_code in (200, 202) or rejected, (r.status_code, r.text)
        return r

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return answer(self.exchange(method, params), self.next_id)

    def exchange(self, method: str, params: dict[str, Any] | None = None) -> httpx.Response:
        self.next_id += 1
        return self.post(request(self.next_id, method, params, self.meta))


def answer(r: httpx.Response, request_id: int) -> dict[str, Any]:
    """The response to `request_id` in an HTTP reply: its JSON body, or one event of its SSE stream."""
    if r.headers.get("content-type", "").startswith("application/json"):
        return r.json()
    events = [json.loads(line[5:]) for line in r.text.splitlines() if line.startswith("data:") and line[5:].strip()]
    return next(e for e in events if e.get("id") == request_id and "method" not in e)


def discovered(wire: StdioWire | HttpWire) -> dict[str, Any]:
    """A 2026-07-28 client's first exchange, `server/discover`, in the shape of a legacy client's `initialize`
    result (`protocolVersion`, `serverInfo`, `capabilities`)."""
    found = wire.request("server/discover")["result"]
    assert MODERN_VERSION in found["supportedVersions"], found
    return {
        "protocolVersion": MODERN_VERSION,
        "serverInfo": found["_meta"][SERVER_INFO],
        "capabilities": found["capabilities"],
    }


@contextmanager
def stdio_wire(
    module: str, env: dict[str, str] | None = None, era: str = LEGACY_VERSION
) -> Iterator[tuple[StdioWire, dict[str, Any]]]:
    """`python -m <module>` over stdio after the era's first exchange: the wire and the initialize result (or
    what `server/discover` says in its shape)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", module],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        if era == MODERN_VERSION:
            wire = StdioWire(proc, ENVELOPE)
            yield wire, discovered(wire)
            return
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
def http_wire(url: str, era: str = LEGACY_VERSION) -> Iterator[tuple[HttpWire, dict[str, Any]]]:
    """A session on a streamable HTTP endpoint after `initialize`: the wire and the initialize result; or a
    2026-07-28 client's requests, each on its own, after `server/discover`."""
    if era == MODERN_VERSION:
        modern = HttpWire(url, ENVELOPE)
        yield modern, discovered(modern)
        return
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
