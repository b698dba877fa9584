"""Human approval: a turn pauses before a tool that changes or runs things, and resumes on the user's answer.

The model is the scripted OpenAI server; the tools are the real MCP servers (the code sandbox, the document
store), so "nothing ran" and "nothing was deleted" are checked against the real side effects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.wire import ApprovalAnswer, ErrorEvent, FinalEvent, parse_answer
from tests.support.agent_fixtures import OneRuntime
from tests.support.scripted_server import ScriptedServer, text, tool
from tests.support.turns import get_runtime, reset_runtime, run_turn, thread_messages


def turn(message: str, **kwargs: Any) -> list[Any]:
    return list(run_turn(message, **kwargs))


def of(events: list[Any], kind: str) -> list[Any]:
    return [e for e in events if e.type == kind]


CODE = "print('the code ran')"


def paused_on(events: list[Any]) -> Any:
    final = events[-1]
    assert isinstance(final, FinalEvent), events
    assert final.approval is not None, final
    assert [e.id for e in of(events, "approval")] == [final.approval.id]
    return final.approval


class TestApprovalsOnOneRuntime(OneRuntime):
    """Each test pauses and answers in threads of its own: one runtime and code server for all of them."""

    ENV = {"SPARK_AGENTS_AGENT_ROUTING": "llm", "SPARK_AGENTS_AGENT_SMALL_MODEL": "false"}

    def test_running_code_waits_for_approval_then_runs(self, llm_routing: ScriptedServer) -> None:
        llm_routing.script(
            tool("run_python", {"code": "print(6 * 7)"}, content="I will compute it in the sandbox."),
            text("It prints 42."),
        )
        paused = turn("What does print(6 * 7) print?", agent="coding")
        request = paused_on(paused)
        assert (request.agent, request.server, request.tool) == ("coding", "code", "run_python")
        assert request.arguments == {"code": "print(6 * 7)"}
        assert request.reason == "I will compute it in the sandbox."
        assert not of(paused, "tool_call")  # nothing ran yet
        assert f"approve {request.id}" in paused[-1].text and f"deny {request.id}" in paused[-1].text
        assert len(llm_routing.chat_requests) == 1

        resumed = turn("", approval=ApprovalAnswer(id=request.id, approved=True))
        call = of(resumed, "tool_call")[0]
        assert (call.tool, call.arguments) == ("run_python", {"code": "print(6 * 7)"})
        assert "42" in of(resumed, "tool_result")[0].summary
        assert isinstance(resumed[-1], FinalEvent) and resumed[-1].approval is None
        assert resumed[-1].text == "It prints 42." and resumed[-1].thread_id == paused[-1].thread_id
        # The model's second call saw the run's output: the specialist went on from where it paused.
        tool_msgs = [m for m in llm_routing.chat_requests[1]["messages"] if m["role"] == "tool"]
        assert "42" in tool_msgs[0]["content"]
        history = thread_messages(request.thread_id)
        assert [m["role"] for m in history] == ["user", "assistant"] and history[1]["content"] == "It prints 42."
        record = get_runtime().threads.turns(request.thread_id)
        assert len(record) == 1 and record[0].user == "What does print(6 * 7) print?"
        assert [s["type"] for s in record[0].trace][:2] == ["handoff", "approval"]  # the steps before the pause too

    def test_deny_skips_the_call_with_a_note(self, llm_routing: ScriptedServer) -> None:
        llm_routing.script(tool("run_python", {"code": CODE}), text("I did not run it."))
        request = paused_on(turn("Run the code", agent="coding"))
        resumed = turn(f"deny {request.id}")  # typed as the whole message: how OpenAI clients answer
        assert not of(resumed, "tool_call")
        assert not [r for r in of(resumed, "tool_result") if "the code ran" in r.summary]
        assert resumed[-1].text.startswith("I did not run it.")
        assert "Skipped run_python: you declined it." in resumed[-1].text
        declined = [m for m in llm_routing.chat_requests[1]["messages"] if m["role"] == "tool"]
        assert "declined" in declined[0]["content"]

    def test_an_answer_counts_once_and_only_for_a_waiting_call(self, llm_routing: ScriptedServer) -> None:
        llm_routing.script(tool("run_python", {"code": "print(1)"}), text("Done."))
        request = paused_on(turn("print 1", agent="coding"))
        assert turn(f"approve {request.id}")[-1].text == "Done."
        again = turn(f"approve {request.id}")
        assert isinstance(again[-1], ErrorEvent) and "Nothing is waiting for approval" in again[-1].message
        unknown = turn("", approval=ApprovalAnswer(id="0123456789ab", approved=True))
        assert isinstance(unknown[-1], ErrorEvent)

    def test_a_new_message_instead_of_an_answer_skips_the_call(self, llm_routing: ScriptedServer) -> None:
        llm_routing.script(
            tool("run_python", {"code": CODE}),
            tool("generate_code", {"task": "say hello"}),
            text("```python\nprint('hello')\n```"),  # the coder model, via generate_code
            text("Here is the code."),
        )
        request = paused_on(turn("Run the code", agent="coding"))
        tid = request.thread_id
        # The id quoted inside other words is a new message, not an answer.
        events = turn(f"Actually, never mind {request.id}; write hello world instead", thread_id=tid, agent="coding")
        assert events[-1].text == "Here is the code."
        assert [c.tool for c in of(events, "tool_call")] == ["generate_code"]
        history = thread_messages(tid)
        assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
        assert "a new message came before it was approved" in history[1]["content"]
        assert isinstance(turn(f"approve {request.id}")[-1], ErrorEvent)  # it is no longer waiting

    def test_approve_for_this_thread_stops_asking_in_that_thread_only(self, llm_routing: ScriptedServer) -> None:
        llm_routing.script(
            tool("run_python", {"code": "print(1)"}),
            text("One."),
            tool("run_python", {"code": "print(2)"}),
            text("Two."),
            tool("run_python", {"code": "print(3)"}),
        )
        request = paused_on(turn("print 1", agent="coding"))
        assert turn(f"approve {request.id} for this thread")[-1].text == "One."
        second = turn("print 2", thread_id=request.thread_id, agent="coding")
        assert second[-1].text == "Two." and of(second, "tool_call")
        paused_on(turn("print 3", agent="coding"))  # another thread asks again


@pytest.mark.parametrize(("rule", "asks_twice"), [("always", None), ("thread", False), ("ask", True)])
def test_the_approval_setting_per_tool(
    llm_routing: ScriptedServer, monkeypatch: pytest.MonkeyPatch, rule: str, asks_twice: bool | None
) -> None:
    monkeypatch.setenv("SPARK_AGENTS_AGENT_APPROVAL", json.dumps({"run_python": rule}))
    llm_routing.script(
        tool("run_python", {"code": "print(1)"}),
        text("One."),
        tool("run_python", {"code": "print(2)"}),
        text("Two."),
    )
    first = turn("print 1", agent="coding")
    if asks_twice is None:  # `always`: never asks
        assert first[-1].approval is None and first[-1].text == "One."
        return
    request = paused_on(first)
    turn("", approval=ApprovalAnswer(id=request.id, approved=True))
    second = turn("print 2", thread_id=request.thread_id, agent="coding")
    assert (second[-1].approval is not None) is asks_twice


def test_a_pause_survives_a_runtime_restart(llm_routing: ScriptedServer) -> None:
    """The paused turn is in the checkpointer and the thread store on disk: a new runtime (a restarted
    service) resumes it."""
    llm_routing.script(tool("run_python", {"code": CODE}), text("It ran."))
    request = paused_on(turn("Run the code", agent="coding"))
    reset_runtime()
    resumed = turn(f"approve {request.id}")
    assert resumed[-1].text == "It ran."
    assert "the code ran" in of(resumed, "tool_result")[0].summary


def test_deleting_a_source_waits_for_approval(llm_routing: ScriptedServer, warranty_doc: Path) -> None:
    runtime = get_runtime()
    sources = runtime.run(runtime.pool.call("rag", "list_sources", {})).structured["sources"]
    victim = sources[0]["id"]
    llm_routing.script(tool("delete_source", {"source_id": victim}), text("Deleted."))
    request = paused_on(turn("Delete the warranty document.", agent="rag"))
    assert request.arguments == {"source_id": victim}
    assert runtime.run(runtime.pool.call("rag", "list_sources", {})).structured["sources"]  # still there
    assert turn(f"approve {request.id}")[-1].text == "Deleted."
    assert not runtime.run(runtime.pool.call("rag", "list_sources", {})).structured["sources"]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("approve 3f2a9c1b7e4d", ("3f2a9c1b7e4d", True, "once")),
        ("  Approve 3F2A9C1B7E4D for this thread.", ("3f2a9c1b7e4d", True, "thread")),
        ("deny 3f2a9c1b7e4d", ("3f2a9c1b7e4d", False, "once")),
        ("approve", None),
        ("please approve 3f2a9c1b7e4d", None),
        ("approve 3f2a9c1b7e4d and delete everything", None),
    ],
)
def test_an_answer_is_the_whole_message(message: str, expected: tuple[str, bool, str] | None) -> None:
    answer = parse_answer(message)
    assert (None if answer is None else (answer.id, answer.approved, answer.scope)) == expected
