"""A fifth capability end to end: registered beside the built-in four (tests/agents/toy_glossary.py, its own
MCP server over stdio), routed to by the supervisor model and by the embedding router, run by the same
specialist loop — with no change to agents/graph.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agents.capabilities import CAPABILITIES, Capability
from core.wire import FinalEvent
from tests.agents import toy_glossary
from tests.agents.toy_glossary_server import GLOSSARY
from tests.support.scripted_server import ScriptedServer, text, tool
from tests.support.turns import get_runtime, run_turn


def turn(message: str, **kwargs: Any) -> list[Any]:
    return list(run_turn(message, **kwargs))


def of(events: list[Any], kind: str) -> list[Any]:
    return [e for e in events if e.type == kind]


@pytest.fixture
def glossary(monkeypatch: pytest.MonkeyPatch) -> Iterator[Capability]:
    """The toy capability in the registry for this test only (the runtime is built after it)."""
    monkeypatch.setitem(CAPABILITIES, "glossary", toy_glossary.CAPABILITY)
    yield toy_glossary.CAPABILITY


def test_the_supervisor_model_hands_a_turn_to_a_registered_capability(
    llm_routing: ScriptedServer, glossary: Capability
) -> None:
    llm_routing.script(
        tool("transfer_to_glossary", {"task": "define ephemeral port"}),
        tool("define", {"term": "ephemeral port"}),
        text("A short-lived port the OS gives the client side of a connection [1]."),
        text("An ephemeral port is a short-lived port the OS gives the client side of a connection [1]."),
    )
    events = turn("What is an ephemeral port, per our team glossary?")
    supervisor, specialist = llm_routing.chat_requests[:2]
    assert "transfer_to_glossary" in {t["function"]["name"] for t in supervisor["tools"]}
    assert "glossary (the team's glossary of terms)" in supervisor["messages"][0]["content"]
    assert [e.agent for e in of(events, "handoff")] == ["glossary"]
    assert specialist["messages"][0]["content"].startswith("You are the glossary agent.")
    assert specialist["messages"][-1]["content"] == "Task from the supervisor: define ephemeral port"
    assert [t["function"]["name"] for t in specialist["tools"]] == ["define"]
    call, result = of(events, "tool_call")[0], of(events, "tool_result")[0]
    assert (call.server, call.tool, call.arguments) == ("glossary", "define", {"term": "ephemeral port"})
    assert not result.is_error and "short-lived port" in result.summary
    final = events[-1]
    assert isinstance(final, FinalEvent) and final.text.startswith("An ephemeral port is a short-lived port")
    assert [(c["citation"], "short-lived port" in c["snippet"]) for c in final.citations] == [
        ("team glossary · ephemeral port", True)
    ]
    assert get_runtime().pool.starts == {"glossary": 1}


def test_the_router_reaches_it_by_its_examples_and_its_renderer_answers_for_a_small_model(
    scripted_roles: ScriptedServer, monkeypatch: pytest.MonkeyPatch, glossary: Capability
) -> None:
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "true")
    scripted_roles.script(tool("define", {"term": "backpressure"}))
    events = turn("Please find the term backpressure in our team's glossary")
    handoff = of(events, "handoff")[0]
    assert handoff.agent == "glossary" and handoff.reason.startswith("router")
    assert scripted_roles.chat_requests[0]["tool_choice"] == {"type": "function", "function": {"name": "define"}}
    assert len(scripted_roles.chat_requests) == 1  # the capability's renderer writes the answer
    final = events[-1]
    assert isinstance(final, FinalEvent)
    assert final.text == f"- backpressure: {GLOSSARY['backpressure']} [1]"


def test_a_failed_call_says_what_the_capability_suggests(
    scripted_roles: ScriptedServer, monkeypatch: pytest.MonkeyPatch, glossary: Capability
) -> None:
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "true")
    scripted_roles.script(tool("define", {"term": "flux capacitor"}))
    final = turn("What is a flux capacitor?", agent="glossary")[-1]
    assert isinstance(final, FinalEvent)
    assert final.text.startswith("I could not complete this with define: No glossary entry for 'flux capacitor'")
    assert "The glossary has entries for: ephemeral port, backpressure." in final.text
