"""The wire types: importable alone, and the turn request every front end sends."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.collector import TurnCollector
from core.wire import EVENT_ADAPTER, ApprovalRequest, FinalEvent, HandoffEvent, TurnRequest, parse_answer

PROJECT = ("core", "serving", "rag", "kg", "coding", "vision", "mcp_servers", "agents", "api", "ui")


@pytest.mark.parametrize("module", ["core.wire", "core.collector"])
def test_the_wire_loads_nothing_of_the_assistant(module: str) -> None:
    code = (
        f"import sys, json, {module}\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {PROJECT!r})))\n"
        "print(json.dumps(sorted(m for m in ('langgraph', 'langchain_core', 'mcp', 'torch') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert set(json.loads(out[0])) <= {"core", "core.lazy", "core.wire", "core.collector"}
    assert json.loads(out[1]) == []


def test_a_turn_request_carries_paths_as_strings_and_checks_its_fields(tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    request = TurnRequest(message="what is this?", attachments=[image], thread_id="t-1")
    assert request.attachments == [str(image)]
    assert TurnRequest.model_validate_json(request.model_dump_json()) == request
    with pytest.raises(ValidationError, match="thread_id"):
        TurnRequest(message="hi", thread_id="no spaces allowed")
    with pytest.raises(ValidationError, match="message"):
        TurnRequest(message="x" * 200_001)
    with pytest.raises(ValidationError, match="id"):
        TurnRequest.model_validate({"approval": {"id": "not-hex!", "approved": True}})


def test_an_approval_is_only_a_whole_message_of_its_own() -> None:
    answer = parse_answer("Approve 3f2a9c for this thread.")
    assert answer is not None and answer.approved and answer.scope == "thread" and answer.id == "3f2a9c"
    denied = parse_answer("deny 3f2a9c for this thread")
    assert denied is not None and not denied.approved and denied.scope == "once"
    assert parse_answer("please approve 3f2a9c") is None
    assert parse_answer("approve 3f2a9c and delete everything") is None


def test_events_round_trip_and_a_new_capability_can_hand_off() -> None:
    request = ApprovalRequest(id="abc123", agent="coding", server="code", tool="run_python", arguments={"code": "1"})
    final = FinalEvent(text=request.prompt(), thread_id="t", approval=request)
    assert EVENT_ADAPTER.validate_json(final.model_dump_json()) == final
    assert "approve abc123" in final.text and 'code.run_python {"code": "1"}' in final.text
    # the agent names belong to the capability registry, not to the wire: a fifth capability needs no edit here
    handoff = EVENT_ADAPTER.validate_python({"type": "handoff", "agent": "weather", "reason": "forecast"})
    assert isinstance(handoff, HandoffEvent) and handoff.agent == "weather"
    turn = TurnCollector("t")
    for event in (handoff, final):
        turn.add(event)
    assert (
        turn.agent == "weather" and turn.approval == request and turn.trace_lines() == ["handoff -> weather (forecast)"]
    )
