"""The approval rules of one specialist visit (agents/approval.py), without a graph: which calls ask, what an
answer allows, and that it allows it once. The turns that pause and resume are in test_approval.py."""

from __future__ import annotations

import pytest
from mcp.types import Tool, ToolAnnotations

from agents.approval import Gate, Verdict, answer_of, declined_note
from core.wire import ApprovalAnswer

RUN = Tool(name="run_python", inputSchema={"type": "object"})
SEARCH = Tool(name="search_documents", inputSchema={"type": "object"})
WIPE = Tool(name="wipe", inputSchema={"type": "object"}, annotations=ToolAnnotations(destructiveHint=True))
ID = "3f2a9c1b7e4d"


def answer(approved: bool = True, **fields: object) -> ApprovalAnswer:
    return ApprovalAnswer(id=ID, approved=approved, **fields)  # type: ignore[arg-type]


def test_reading_runs_and_changing_asks() -> None:
    gate = Gate(rules={}, allowed=set())
    assert gate.verdict(SEARCH) is Verdict.RUN
    assert gate.verdict(RUN) is Verdict.ASK  # a default rule
    assert gate.verdict(WIPE) is Verdict.ASK  # its server marks it destructive
    assert Gate(rules={"wipe": "always"}, allowed=set()).verdict(WIPE) is Verdict.RUN


def test_an_approval_allows_one_call() -> None:
    gate = Gate(rules={}, allowed=set(), answer=answer())
    assert gate.verdict(RUN) is Verdict.RUN
    assert gate.verdict(RUN) is Verdict.ASK  # the answer was used up by the call that asked
    assert gate.allowed == set()


def test_approve_for_this_thread_allows_the_tool_for_the_rest_of_it() -> None:
    gate = Gate(rules={}, allowed=set(), answer=answer(scope="thread"))
    assert gate.verdict(RUN) is Verdict.RUN and gate.allowed == {"run_python"}
    assert gate.verdict(RUN) is Verdict.RUN
    assert Gate(rules={}, allowed=set(gate.allowed)).verdict(RUN) is Verdict.RUN  # the thread's next visit


def test_a_thread_rule_makes_one_approval_cover_the_thread() -> None:
    gate = Gate(rules={"run_python": "thread"}, allowed=set(), answer=answer())
    assert gate.verdict(RUN) is Verdict.RUN and gate.allowed == {"run_python"}


@pytest.mark.parametrize("superseded", [False, True])
def test_a_declined_call_is_skipped_and_allows_nothing(superseded: bool) -> None:
    gate = Gate(rules={}, allowed=set(), answer=answer(approved=False, scope="thread", superseded=superseded))
    assert gate.verdict(RUN) is Verdict.DECLINED
    assert gate.superseded is superseded and gate.allowed == set()
    expected = "a new message came before it was approved" if superseded else "you declined it"
    assert expected in declined_note("run_python", superseded)


def test_an_answer_counts_only_for_the_request_the_visit_waits_for() -> None:
    raw = answer().model_dump()
    assert answer_of(raw, ID) == answer()
    assert answer_of(raw, "0123456789ab") is None
    assert answer_of(raw, "") is None  # the visit asked nothing
    assert answer_of(None, ID) is None
