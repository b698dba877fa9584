"""The scripted server must behave like a real OpenAI-compatible server, faults included."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from serving.client import stream_chat
from serving.errors import ModelServerError, ModelServerUnavailable
from serving.registry import Endpoint, Role, endpoint
from serving.settings import ServingSettings
from tests.support.scripted_server import Reply, ScriptedServer, fake_embedding, text, tool


def _ep(server: ScriptedServer) -> Endpoint:
    return Endpoint(role=Role.SUPERVISOR, base_url=server.url, model="scripted-model")


def test_streams_text_in_pieces(scripted: ScriptedServer) -> None:
    scripted.script(text("four, because two plus two is four"))
    pieces = list(stream_chat(_ep(scripted), [{"role": "user", "content": "2+2?"}]))
    assert len(pieces) > 3
    assert "".join(pieces) == "four, because two plus two is four"
    assert scripted.chat_requests[0]["messages"][0]["content"] == "2+2?"


def test_streamed_tool_call_reassembles(scripted: ScriptedServer) -> None:
    scripted.script(tool("search_documents", {"query": "memory budget", "k": 3}))
    client = openai.OpenAI(base_url=scripted.url, api_key="x")
    stream = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "q"}], stream=True)
    name, args, finish = "", "", None
    for chunk in stream:
        choice = chunk.choices[0]
        for tc in choice.delta.tool_calls or []:
            name += tc.function.name or ""
            args += tc.function.arguments or ""
        finish = choice.finish_reason or finish
    assert (name, json.loads(args), finish) == ("search_documents", {"query": "memory budget", "k": 3}, "tool_calls")


def test_non_streaming_reply_with_reasoning(scripted: ScriptedServer) -> None:
    scripted.script(text("done", reasoning="thinking"))
    r = httpx.post(f"{scripted.url}/chat/completions", json={"model": "m", "messages": []}).json()
    assert r["choices"][0]["message"] == {"role": "assistant", "content": "done", "reasoning_content": "thinking"}


def test_fault_http_500_becomes_model_server_error(scripted: ScriptedServer) -> None:
    scripted.script(Reply(fault="http_500"))
    with pytest.raises(ModelServerError, match="HTTP 500"):
        list(stream_chat(_ep(scripted), [{"role": "user", "content": "q"}]))


def test_fault_malformed_tool_call_arguments(scripted: ScriptedServer) -> None:
    scripted.script(Reply(tool_calls=tool("run_python", {"code": "print(1)"}).tool_calls, fault="malformed_tool_call"))
    r = httpx.post(f"{scripted.url}/chat/completions", json={"model": "m", "messages": []}).json()
    raw = r["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


def test_fault_drop_mid_stream_is_an_error_after_some_tokens(scripted: ScriptedServer) -> None:
    scripted.script(Reply(content="one two three four five six seven eight", fault="drop_mid_stream"))
    got: list[str] = []
    with pytest.raises((ModelServerUnavailable, ModelServerError)):
        for piece in stream_chat(_ep(scripted), [{"role": "user", "content": "q"}]):
            got.append(piece)
    assert got and "".join(got) != "one two three four five six seven eight"


def test_fault_garbage_body(scripted: ScriptedServer) -> None:
    scripted.script(Reply(fault="garbage"))
    with pytest.raises(ModelServerError):
        list(stream_chat(_ep(scripted), [{"role": "user", "content": "q"}], stream_options=None))


def test_slow_reply_times_out(scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_REQUEST_TIMEOUT", "0.5")
    monkeypatch.setenv("SPARK_AGENTS_SUPERVISOR_URL", scripted.url)
    scripted.script(Reply(content="late", delay=3))
    ep = endpoint(Role.SUPERVISOR, ServingSettings())  # the endpoint carries the configured timeout
    with pytest.raises(ModelServerUnavailable, match="timed out"):
        list(stream_chat(ep, [{"role": "user", "content": "q"}]))


def test_handler_answers_from_the_request() -> None:
    with ScriptedServer(handler=lambda req: text(req["messages"][-1]["content"].upper())) as server:
        assert "".join(stream_chat(_ep(server), [{"role": "user", "content": "echo me"}])) == "ECHO ME"


def test_embeddings_health_and_models(scripted: ScriptedServer) -> None:
    client = openai.OpenAI(base_url=scripted.url, api_key="x")
    out = client.embeddings.create(model="e", input=["alpha beta", "alpha beta", "gamma"])
    a, b, c = (d.embedding for d in out.data)
    assert a == b == fake_embedding("alpha beta") and a != c
    assert httpx.get(f"{scripted.url.removesuffix('/v1')}/health").json() == {"status": "ok"}
    assert client.models.list().data[0].id == "scripted-model"
