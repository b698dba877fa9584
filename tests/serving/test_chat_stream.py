"""The agents' streamed model calls (serving/chat_stream.py) against the scripted OpenAI-compatible server over
real HTTP: what arrives, and every way a server can fail reads as one clear project error."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from core.daemon import free_port
from serving.chat_stream import ModelClients
from serving.errors import ModelServerError, ModelServerUnavailable
from serving.roles import Endpoint, Role
from tests.support.scripted_server import Reply, ScriptedServer, ToolCall, text

BODY = {"model": "m", "messages": [{"role": "user", "content": "q"}]}


def endpoint(url: str, timeout: float = 30) -> Endpoint:
    return Endpoint(role=Role.SUPERVISOR, base_url=url, model="m", timeout=timeout)


def collect(ep: Endpoint, clients: ModelClients | None = None) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        pool = clients or ModelClients()
        try:
            return [chunk async for chunk in pool.stream(ep, BODY)]
        finally:
            await pool.aclose()

    return asyncio.run(run())


def deltas(chunks: list[dict[str, Any]], key: str) -> str:
    return "".join(c["choices"][0]["delta"].get(key) or "" for c in chunks if c.get("choices"))


def test_chunks_arrive_as_the_server_sent_them(scripted: ScriptedServer) -> None:
    scripted.script(text("one two three", reasoning="thinking"))
    chunks = collect(endpoint(scripted.url))
    assert deltas(chunks, "content") == "one two three"
    assert deltas(chunks, "reasoning_content") == "thinking"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    request = scripted.chat_requests[-1]
    assert request["stream"] is True and request["messages"] == BODY["messages"]


def test_one_pool_serves_many_calls_on_one_connection(scripted: ScriptedServer) -> None:
    scripted.script(*(text(f"answer {i}") for i in range(5)))

    async def run() -> list[str]:
        clients = ModelClients()
        try:
            return [
                deltas([c async for c in clients.stream(endpoint(scripted.url), BODY)], "content") for _ in range(5)
            ]
        finally:
            await clients.aclose()

    assert asyncio.run(run()) == [f"answer {i}" for i in range(5)]
    assert scripted.connections == 1


def test_a_tool_call_longer_than_a_read_buffer_arrives_whole(scripted: ScriptedServer) -> None:
    """Some servers send a whole tool call in one chunk: a 300 KB argument is one SSE line of ~150 KB here."""
    code = "x = 1\n" * 50_000
    scripted.script(Reply(tool_calls=[ToolCall("run_python", {"code": code})]))
    chunks = collect(endpoint(scripted.url))
    args = "".join(
        tc["function"].get("arguments") or ""
        for c in chunks
        if c.get("choices")
        for tc in c["choices"][0]["delta"].get("tool_calls") or []
    )
    assert json.loads(args) == {"code": code}


def test_an_http_error_names_the_status_and_the_servers_message(scripted: ScriptedServer) -> None:
    scripted.script(Reply(fault="http_500"))
    with pytest.raises(ModelServerError, match="HTTP 500: scripted internal error"):
        collect(endpoint(scripted.url))


def test_a_body_that_is_not_an_event_stream_is_an_unexpected_answer(scripted: ScriptedServer) -> None:
    scripted.script(Reply(fault="garbage"))
    with pytest.raises(ModelServerError, match=r"unexpected answer \(not an event stream .*502 Bad Gateway"):
        collect(endpoint(scripted.url))


def test_a_chunk_that_is_not_json_is_an_unexpected_answer(scripted: ScriptedServer) -> None:
    scripted.script(Reply(fault="wrong_chunk", content="{not json"))
    with pytest.raises(ModelServerError, match="unexpected answer"):
        collect(endpoint(scripted.url))


def test_an_error_event_mid_stream_carries_the_servers_reason(scripted: ScriptedServer) -> None:
    scripted.script(Reply(fault="error_event"))
    with pytest.raises(ModelServerError, match="reported an error mid-answer: the KV cache is full"):
        collect(endpoint(scripted.url))


def test_a_connection_cut_mid_answer_is_unavailable(scripted: ScriptedServer) -> None:
    scripted.script(Reply(content="one two three four five six", fault="drop_mid_stream"))
    with pytest.raises(ModelServerUnavailable, match="closed mid-answer|connection failed"):
        collect(endpoint(scripted.url))


def test_a_server_that_is_down_is_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelServerUnavailable, match=r"connection failed \(ClientConnectorError\)"):
        collect(endpoint(url))


def test_a_silent_server_times_out_within_the_endpoints_timeout(scripted: ScriptedServer) -> None:
    scripted.script(Reply(content="late", delay=3))
    with pytest.raises(ModelServerUnavailable, match="timed out"):
        collect(endpoint(scripted.url, timeout=0.5))


def test_a_role_without_a_url_says_so() -> None:
    ep = Endpoint(role=Role.VISION, base_url=None, model="none")
    with pytest.raises(ModelServerUnavailable, match="not configured"):
        collect(ep)


def test_the_pool_reopens_after_it_was_closed(scripted: ScriptedServer) -> None:
    scripted.script(text("first"), text("second"))
    clients = ModelClients()
    assert deltas(collect(endpoint(scripted.url), clients), "content") == "first"  # collect closes it
    assert deltas(collect(endpoint(scripted.url), clients), "content") == "second"
