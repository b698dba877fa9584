"""A scripted OpenAI-compatible HTTP server on loopback, for deterministic tests and benchmarks.

Real sockets and the real wire format (JSON and SSE), so the client code under test is the code users run.
Replies come from a script (a queue, consumed in order) or from a handler that computes a reply from the
request (for concurrent load). Fault modes reproduce what real servers do wrong.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Fault = Literal[
    "http_500",
    "malformed_tool_call",
    "drop_mid_stream",
    "garbage",
    "wrong_chunk",  # a well-formed SSE stream of one chunk: the reply's content, JSON of the wrong shape
    "error_event",  # the first token, then an error event (llama.cpp's and vLLM's way to fail mid-stream)
    "hang",
    # what llama.cpp's and vLLM's servers return when gpt-oss's Harmony output fails to parse:
    "empty_content",  # finish_reason "stop", no content, no tool calls
    "reasoning_only",  # only reasoning_content (the answer never left the analysis channel)
    "harmony_leak",  # raw Harmony control tokens in content (a tool call that was not parsed)
]
# llama.cpp's gpt-oss parser, when it fails, can pass the raw channel text through as content
HARMONY_LEAK = '<|channel|>commentary to=functions.search_documents <|constrain|>json<|message|>{"query": "warranty'


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:12]}")

    def arguments_json(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass
class Reply:
    """One scripted assistant message (or fault)."""

    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    reasoning: str | None = None
    delay: float = 0.0  # seconds before the first byte
    token_delay: float = 0.0  # seconds between streamed chunks
    fault: Fault | None = None


def text(content: str, **kw: Any) -> Reply:
    return Reply(content=content, **kw)


def tool(name: str, arguments: dict[str, Any] | str | None = None, **kw: Any) -> Reply:
    return Reply(tool_calls=[ToolCall(name, arguments if arguments is not None else {})], **kw)


def fake_embedding(text_: str, dim: int = 64) -> list[float]:
    """Deterministic bag-of-words hash embedding: texts sharing words are close."""
    vec = [0.0] * dim
    for word in re.findall(r"\w+", text_.lower()):
        h = int(hashlib.md5(word.encode()).hexdigest(), 16)
        vec[h % dim] += 1.0 if (h >> 8) % 2 else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


Handler = Callable[[dict[str, Any]], Reply]


class ScriptedServer:
    """Use as a context manager; `url` is the `/v1` base URL to give an OpenAI client."""

    def __init__(
        self,
        replies: list[Reply] | None = None,
        handler: Handler | None = None,
        model: str = "scripted-model",
        default: Reply | None = None,
    ) -> None:
        self.queue: deque[Reply] = deque(replies or [])
        self.handler = handler
        self.model = model
        self.default = default or Reply(content="(script exhausted)")
        self.requests: list[dict[str, Any]] = []
        self.busy_seconds = 0.0  # time spent answering chat requests: "model time" for overhead benchmarks
        self.connections = 0  # TCP connections accepted: a client that keeps its connection alive opens one
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- scripting -------------------------------------------------------------------------------
    def script(self, *replies: Reply) -> ScriptedServer:
        with self._lock:
            self.queue.extend(replies)
        return self

    def next_reply(self, request: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self.queue:
                return self.queue.popleft()
        return self.handler(request) if self.handler else self.default

    def reset(self) -> ScriptedServer:
        """No script, no handler and no request seen: a server shared by several tests starts each one empty."""
        with self._lock:
            self.queue.clear()
            self.requests.clear()
            self.handler = None
        return self

    def roles_env(self) -> dict[str, str]:
        """The environment that points the supervisor and coder roles at this server."""
        return {
            f"SPARK_AGENTS_{role}_{key}": value
            for role in ("SUPERVISOR", "CODER")
            for key, value in (("URL", self.url), ("MODEL", "scripted-model"))
        }

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if "messages" in r]

    # --- lifecycle -------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._httpd is not None
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, port: int = 0) -> ScriptedServer:
        server = self

        class _Handler(_RequestHandler):
            scripted = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _RequestHandler(BaseHTTPRequestHandler):
    scripted: ScriptedServer
    protocol_version = "HTTP/1.1"  # keep-alive, and streams use chunked encoding as llama.cpp's server does
    # Each SSE chunk is a small write: with Nagle's algorithm the next one waits for the client's delayed
    # ACK (40 ms), which benchmarks would count as orchestration overhead.
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        with self.scripted._lock:
            self.scripted.connections += 1

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._json(200, {"status": "ok"})
        elif self.path.rstrip("/") == "/v1/models":
            self._json(
                200,
                {
                    "object": "list",
                    "data": [{"id": self.scripted.model, "object": "model", "created": 0, "owned_by": "scripted"}],
                },
            )
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._json(400, {"error": {"message": "invalid JSON body"}})
            return
        if self.path == "/v1/embeddings":
            inputs = body.get("input", [])
            inputs = [inputs] if isinstance(inputs, str) else inputs
            with self.scripted._lock:
                self.scripted.requests.append(body)
            self._json(
                200,
                {
                    "object": "list",
                    "model": body.get("model"),
                    "data": [
                        {"object": "embedding", "index": i, "embedding": fake_embedding(t)}
                        for i, t in enumerate(inputs)
                    ],
                    "usage": {"prompt_tokens": 0, "total_tokens": 0},
                },
            )
        elif self.path == "/v1/chat/completions":
            self._chat(body)
        else:
            self._json(404, {"error": {"message": "not found"}})

    def _chat(self, body: dict[str, Any]) -> None:
        started = time.perf_counter()
        try:
            self._reply(body)
        finally:
            with self.scripted._lock:
                self.scripted.busy_seconds += time.perf_counter() - started

    def _reply(self, body: dict[str, Any]) -> None:
        reply = self.scripted.next_reply(body)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.fault == "hang":
            time.sleep(3600)
        if reply.fault == "http_500":
            self._json(500, {"error": {"message": "scripted internal error", "type": "server_error"}})
            return
        if reply.fault == "garbage":
            data = b"<html>502 Bad Gateway</html>"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        calls = reply.tool_calls
        if reply.fault in ("empty_content", "reasoning_only", "harmony_leak"):
            content = HARMONY_LEAK if reply.fault == "harmony_leak" else ""
            reasoning = reply.reasoning or (
                "The user asks; I will answer." if reply.fault == "reasoning_only" else None
            )
            reply = Reply(content=content, reasoning=reasoning, token_delay=reply.token_delay)
            calls = []
        if reply.fault == "malformed_tool_call":
            calls = calls or [ToolCall("unknown")]
            calls = [ToolCall(c.name, '{"query": "unterminated', c.id) for c in calls]
        cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        model = body.get("model") or self.scripted.model
        finish = "tool_calls" if calls else "stop"
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
            if reply.reasoning:
                message["reasoning_content"] = reply.reasoning
            if calls:
                message["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments_json()}}
                    for c in calls
                ]
            self._json(
                200,
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                },
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def write(data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def drop() -> None:
            self.close_connection = True
            self.connection.shutdown(2)

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> None:
            payload = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }
            write(f"data: {json.dumps(payload)}\n\n".encode())
            if reply.token_delay:
                time.sleep(reply.token_delay)

        def last(data: str) -> None:
            """One more event, `[DONE]` and the end of the body."""
            write(f"data: {data}\n\ndata: [DONE]\n\n".encode())
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        if reply.fault == "wrong_chunk":
            return last(reply.content)
        if reply.fault == "error_event":
            chunk({"content": "Partial"})
            return last(json.dumps({"error": {"message": "the KV cache is full", "type": "server_error"}}))
        try:
            chunk({"role": "assistant", "content": ""})
            if reply.reasoning:
                chunk({"reasoning_content": reply.reasoning})
            pieces = re.findall(r"\S+\s*|\s+", reply.content)
            for i, piece in enumerate(pieces):
                if reply.fault == "drop_mid_stream" and i >= max(1, len(pieces) // 2):
                    return drop()
                chunk({"content": piece})
            if reply.fault == "drop_mid_stream":
                return drop()
            for i, c in enumerate(calls):
                args = c.arguments_json()
                half = len(args) // 2
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": i,
                                "id": c.id,
                                "type": "function",
                                "function": {"name": c.name, "arguments": args[:half]},
                            }
                        ]
                    }
                )
                chunk({"tool_calls": [{"index": i, "function": {"arguments": args[half:]}}]})
            chunk({}, finish)
            write(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away: that is its right
