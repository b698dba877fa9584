"""gpt-oss robustness in agents/llm.chat: an answer that is neither text nor tool calls is asked for once more
with a repair instruction, then is one clear error. Real HTTP to the scripted OpenAI-compatible server."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from agents.llm import chat
from serving.errors import ModelServerError
from serving.registry import Endpoint, Role
from serving.settings import ServingSettings
from tests.support.scripted_server import HARMONY_LEAK, Reply, ScriptedServer, text, tool

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "search_documents",
            "description": "Search",
            "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
        },
    }
]


def ask(server: ScriptedServer, **kw):  # type: ignore[no-untyped-def]
    ep = Endpoint(role=Role.SUPERVISOR, base_url=server.url, model="gpt-oss-120b")
    messages = [SystemMessage("You are helpful."), HumanMessage("What does the warranty cover?")]
    return asyncio.run(chat(ep, messages, serving=ServingSettings(), tools=TOOLS, **kw))


def last_message(request: dict) -> dict:
    return request["messages"][-1]


@pytest.mark.parametrize("fault", ["empty_content", "reasoning_only", "harmony_leak"])
def test_an_unusable_answer_is_asked_for_once_more(scripted: ScriptedServer, fault: str) -> None:
    scripted.script(Reply(fault=fault), text("It covers parts for two years."))
    ai = ask(scripted)
    assert ai.content == "It covers parts for two years."
    first, second = scripted.chat_requests
    assert second["messages"][:-1] == first["messages"]  # the same conversation, plus the instruction
    repair = last_message(second)
    assert repair["role"] == "user" and "could not be used" in repair["content"]


def test_the_repair_can_come_back_as_a_tool_call(scripted: ScriptedServer) -> None:
    scripted.script(Reply(fault="harmony_leak"), tool("search_documents", {"query": "warranty"}))
    ai = ask(scripted)
    assert [(c["name"], c["args"]) for c in ai.tool_calls] == [("search_documents", {"query": "warranty"})]
    assert "Harmony" in last_message(scripted.chat_requests[1])["content"]


def test_two_unusable_answers_are_one_clear_error(scripted: ScriptedServer) -> None:
    scripted.script(Reply(fault="empty_content"), Reply(fault="harmony_leak"), text("never asked for"))
    with pytest.raises(ModelServerError, match=r"could not be used twice in a row \(it was empty.*Harmony"):
        ask(scripted)
    assert len(scripted.chat_requests) == 2


def test_a_leak_that_holds_the_final_channel_is_salvaged_without_a_retry(scripted: ScriptedServer) -> None:
    leaked = "<|channel|>analysis<|message|>User asks.<|end|><|start|>assistant<|channel|>final<|message|>Two years."
    scripted.script(text(leaked))
    assert ask(scripted).content == "Two years."
    assert len(scripted.chat_requests) == 1


def test_broken_tool_call_json_is_repaired_only_when_asked(scripted: ScriptedServer) -> None:
    bad = Reply(tool_calls=tool("search_documents").tool_calls, fault="malformed_tool_call")
    scripted.script(bad)
    ai = ask(scripted)  # the specialists feed the parse error back themselves (agents/specialist.py)
    assert ai.invalid_tool_calls and not ai.tool_calls and len(scripted.chat_requests) == 1
    scripted.script(bad, tool("search_documents", {"query": "warranty"}))
    ai = ask(scripted, repair_tool_calls=True)
    assert ai.tool_calls[0]["args"] == {"query": "warranty"}
    assert "not valid JSON" in last_message(scripted.chat_requests[-1])["content"]


def test_a_plain_answer_is_one_call(scripted: ScriptedServer) -> None:
    scripted.script(text("Hello."))
    assert ask(scripted).content == "Hello." and len(scripted.chat_requests) == 1
    assert HARMONY_LEAK.startswith("<|channel|>")


@pytest.mark.parametrize(
    "chunk",
    [
        "[1, 2]",
        '{"choices": "none"}',
        '{"choices": [{"delta": {"content": 42}}]}',
        '{"choices": [{"delta": {"tool_calls": ["search"]}}]}',
        '{"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"name": ["search"]}}]}}]}',
    ],
)
def test_a_stream_chunk_of_the_wrong_shape_is_one_clear_error(scripted: ScriptedServer, chunk: str) -> None:
    """Chunks are read as raw JSON (no pydantic model per chunk): a shape no OpenAI-compatible server sends
    is an 'unexpected answer' from that server, never a crash in the reader."""
    scripted.script(Reply(fault="wrong_chunk", content=chunk))
    with pytest.raises(ModelServerError, match="unexpected answer"):
        ask(scripted)
