"""Faults in the middle of a turn: the model server or an MCP server dies. The turn ends with one clear
ErrorEvent, the thread keeps what it had, and the next turn works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import psutil
import pytest

from core.wire import ErrorEvent, FinalEvent
from tests.support.scripted_server import Reply, ScriptedServer, text, tool
from tests.support.turns import get_runtime, reset_runtime, run_turn, thread_messages


def of(events: list[Any], kind: str) -> list[Any]:
    return [e for e in events if e.type == kind]


def first_turn(server: ScriptedServer) -> str:
    server.script(text("Hello, I remember you."))
    events = list(run_turn("Hello, remember me?"))
    assert isinstance(events[-1], FinalEvent)
    return events[-1].thread_id


def assert_one_error(events: list[Any]) -> ErrorEvent:
    errors = of(events, "error")
    assert len(errors) == 1 and events[-1] is errors[0], events
    assert not of(events, "final")
    assert "Traceback" not in errors[0].message and "\n" not in errors[0].message.strip()
    return errors[0]


def assert_thread_keeps_first_turn(tid: str) -> None:
    history = thread_messages(tid)
    assert history[:2] == [
        {"role": "user", "content": "Hello, remember me?", "agent": ""},
        {"role": "assistant", "content": "Hello, I remember you.", "agent": "supervisor"},
    ]


def next_turn_works(server: ScriptedServer, tid: str) -> None:
    server.script(text("Yes, we spoke before."))
    events = list(run_turn("Do you still remember me?", thread_id=tid))
    assert isinstance(events[-1], FinalEvent) and events[-1].text == "Yes, we spoke before."
    history = thread_messages(tid)
    assert history[0]["content"] == "Hello, remember me?"
    assert history[-1] == {"role": "assistant", "content": "Yes, we spoke before.", "agent": "supervisor"}


def test_model_stream_dropped_mid_answer(llm_routing: ScriptedServer) -> None:
    tid = first_turn(llm_routing)
    llm_routing.script(Reply(content="This answer will be cut off half way through, sadly.", fault="drop_mid_stream"))
    events = list(run_turn("Tell me something long.", thread_id=tid))
    error = assert_one_error(events)
    assert "model server" in error.message.lower()
    assert_thread_keeps_first_turn(tid)
    next_turn_works(llm_routing, tid)


def test_model_server_process_killed_mid_stream(llm_routing: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    tid = first_turn(llm_routing)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.scripted_proc"], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(proc.stdout.readline())  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}/v1"
        monkeypatch.setenv("SPARK_AGENTS_SUPERVISOR_URL", url)
        reset_runtime()  # a runtime is built with its settings: the new model server is a new one
        events = []
        for event in run_turn("Tell me something long.", thread_id=tid):
            events.append(event)
            if event.type == "token" and event.text.strip() and proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
        assert of(events, "token"), "the stream started before the kill"
        error = assert_one_error(events)
        assert "model server" in error.message.lower()
    finally:
        if proc.poll() is None:
            proc.kill()
    monkeypatch.setenv("SPARK_AGENTS_SUPERVISOR_URL", llm_routing.url)
    reset_runtime()
    assert_thread_keeps_first_turn(tid)
    next_turn_works(llm_routing, tid)


def _code_server_children() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "mcp_servers.code" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def test_mcp_server_killed_mid_call(llm_routing: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_AGENT_APPROVAL", '{"run_python": "always"}')  # about the crash, not approval
    tid = first_turn(llm_routing)
    llm_routing.script(
        tool("transfer_to_coding"),
        tool("run_python", {"code": "import time\ntime.sleep(60)\nprint('finished')"}),
    )
    events: list[Any] = []
    killed = []
    for event in run_turn("Run a script that sleeps for a minute.", thread_id=tid):
        events.append(event)
        if event.type == "tool_call" and event.tool == "run_python":
            servers = _code_server_children()
            assert len(servers) == 1
            killed.append(servers[0].pid)
            servers[0].kill()
    assert killed, events
    error = assert_one_error(events)
    assert "code MCP server" in error.message and "restarts" in error.message
    assert get_runtime().pool.starts["code"] == 1
    assert_thread_keeps_first_turn(tid)

    # The next turn gets a fresh session to a fresh server process.
    llm_routing.script(
        tool("transfer_to_coding"),
        tool("run_python", {"code": "print(6 * 7)"}),
        text("It prints 42."),
        text("6 × 7 = 42."),
    )
    events = list(run_turn("Run print(6 * 7) and tell me the output", thread_id=tid))
    assert isinstance(events[-1], FinalEvent), events
    result = of(events, "tool_result")[0]
    assert not result.is_error and "42" in result.summary
    assert get_runtime().pool.starts["code"] == 2
    assert [p.pid for p in _code_server_children()] != killed
    assert thread_messages(tid)[-1]["content"] == "6 × 7 = 42."


def test_model_server_that_hangs_times_out(llm_routing: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    tid = first_turn(llm_routing)
    monkeypatch.setenv("SPARK_AGENTS_REQUEST_TIMEOUT", "2")
    reset_runtime()  # the timeout is part of the runtime's settings: a new runtime reads it
    llm_routing.script(Reply(fault="hang"))
    events = list(run_turn("Are you there?", thread_id=tid))
    error = assert_one_error(events)
    assert "model server" in error.message.lower()
    assert_thread_keeps_first_turn(tid)
    next_turn_works(llm_routing, tid)
