"""`spark-agents ask` and approvals, as users run it: a real subprocess, the resident service, a real
sandbox. On a terminal it asks; `--yes` approves; a script without either gets exit status 3 and the
command that answers later."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.one_service import OneService
from tests.support.scripted_server import ScriptedServer, text, tool
from tests.test_cli import CLI, run

QUESTION = "What does print(6 * 7) print? Run it."


@pytest.fixture
def coder() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        server.script(tool("run_python", {"code": "print(6 * 7)"}), text("It prints 42."))
        yield server


def env_for(server: ScriptedServer) -> dict[str, str]:
    return {
        "SPARK_AGENTS_SUPERVISOR_URL": server.url,
        "SPARK_AGENTS_CODER_URL": server.url,
        "SPARK_AGENTS_AGENT_SMALL_MODEL": "false",
    }


class TestCodingAgentAsks(OneService):
    """One home and service for the coding agent's approvals (each command makes a thread of its own)."""

    ENV = {"SPARK_AGENTS_AGENT_SMALL_MODEL": "false"}

    @pytest.fixture
    def coder(self, scripted_roles: ScriptedServer) -> ScriptedServer:
        return scripted_roles.script(tool("run_python", {"code": "print(6 * 7)"}), text("It prints 42."))

    def test_a_script_without_yes_leaves_it_waiting_and_says_how_to_answer(self, coder: ScriptedServer) -> None:
        env = env_for(coder)
        first = run("ask", "--agent", "coding", QUESTION, env=env)
        assert first.returncode == 3, first.stderr
        assert "Approval needed" in first.stderr and "code.run_python" in first.stderr
        approve = re.search(r'spark-agents ask "(approve [0-9a-f]+)"', first.stderr)
        assert approve, first.stderr
        assert "42" not in first.stdout and len(coder.chat_requests) == 1
        second = run("ask", approve[1], env=env)
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip() == "It prints 42."

    def test_yes_approves_in_one_go_and_json_shows_both_parts(self, coder: ScriptedServer) -> None:
        r = run("ask", "--json", "--yes", "--agent", "coding", QUESTION, env=env_for(coder))
        assert r.returncode == 0, r.stderr
        events = [json.loads(line) for line in r.stdout.splitlines()]
        kinds = [e["type"] for e in events]
        assert "approval" in kinds and kinds.index("approval") < kinds.index("tool_call")
        assert events[-1] == {**events[-1], "type": "final", "text": "It prints 42.", "approval": None}

    @pytest.mark.parametrize(("reply", "ran"), [("y", True), ("n", False)])
    def test_a_terminal_is_asked(self, coder: ScriptedServer, reply: str, ran: bool) -> None:
        controller, terminal = pty.openpty()
        try:
            proc = subprocess.Popen(
                [*CLI, "ask", "--agent", "coding", QUESTION],
                stdin=terminal,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, **env_for(coder)},
            )
            os.write(controller, f"{reply}\n".encode())
            out, err = proc.communicate(timeout=300)
        finally:
            os.close(controller)
            os.close(terminal)
        assert proc.returncode == 0, err
        assert "Allow it?" in err
        assert ("42" in [m for m in coder.chat_requests[-1]["messages"] if m["role"] == "tool"][0]["content"]) is ran
        assert out.strip().startswith("It prints 42.")


def test_a_pause_survives_a_service_restart(coder: ScriptedServer) -> None:
    """The resident service is stopped while the turn waits; the next command starts a new one, which
    resumes the turn from the checkpoint on disk."""
    env = env_for(coder)
    first = run("ask", "--agent", "coding", QUESTION, env=env)
    assert first.returncode == 3, first.stderr
    approve = re.search(r'spark-agents ask "(approve [0-9a-f]+)"', first.stderr)
    assert approve, first.stderr
    down = run("service", "down", env=env)
    assert down.returncode == 0, down.stderr
    second = run("ask", approve[1], env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "It prints 42."


# --- the local profile's small model: the README's "Run print(6 * 7)" ---------------------------------


def small_env(server: ScriptedServer) -> dict[str, str]:
    """SmolLM2's behaviour, scripted: a forced call to run_python with code of its own (junk)."""
    server.script(tool("run_python", {"code": "<?php echo 'Output: 420'; ?>"}))
    return {**env_for(server), "SPARK_AGENTS_AGENT_SMALL_MODEL": "true"}


class TestSmallModelAsks(OneService):
    """One home and service for the small model's turns."""

    ENV = {"SPARK_AGENTS_AGENT_SMALL_MODEL": "true"}

    def test_small_model_run_print_with_yes_prints_42(self, scripted_roles: ScriptedServer) -> None:
        r = run("ask", "--yes", "Run print(6 * 7)", env=small_env(scripted_roles))
        assert r.returncode == 0, r.stderr
        assert "code.run_python" in r.stderr and "print(6 * 7)" in r.stderr  # the approval it answered
        assert r.stdout.strip() == "Output:\n```\n42\n```"

    def test_small_model_run_print_without_a_terminal_asks_and_runs_nothing(
        self, scripted_roles: ScriptedServer
    ) -> None:
        r = run("ask", "--json", "Run print(6 * 7)", env=small_env(scripted_roles))
        assert r.returncode == 3, r.stderr
        events = [json.loads(line) for line in r.stdout.splitlines()]
        (request,) = [e for e in events if e["type"] == "approval"]
        assert (request["tool"], request["arguments"]) == ("run_python", {"code": "print(6 * 7)"})
        assert not [e for e in events if e["type"] in ("tool_call", "tool_result")]  # nothing ran
        assert f'spark-agents ask "approve {request["id"]}"' in r.stderr


@pytest.mark.real_model
def test_local_model_run_print_with_yes_prints_42() -> None:
    """The README's example on the default install: SmolLM2 through llama.cpp, the real router."""
    r = run("ask", "--yes", "Run print(6 * 7)")
    assert r.returncode == 0, r.stderr
    assert "code.run_python" in r.stderr
    assert r.stdout.strip() == "Output:\n```\n42\n```"


@pytest.mark.real_model
def test_local_model_delete_the_source_asks_for_approval(tmp_path: Path) -> None:
    doc = tmp_path / "notes.md"
    doc.write_text("# Notes\n\nThe garden needs water every morning.\n")
    assert run("ingest", str(doc)).returncode == 0
    listed = run("sources", "list")
    source_id = listed.stdout.split()[0]
    r = run("ask", "--json", f"Delete the source {source_id} from my documents.")
    assert r.returncode == 3, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    (request,) = [e for e in events if e["type"] == "approval"]
    assert (request["tool"], request["arguments"]) == ("delete_source", {"source_id": source_id})
    assert run("sources", "list").stdout == listed.stdout  # nothing deleted
