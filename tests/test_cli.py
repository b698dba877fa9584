"""The CLI as users run it: a real subprocess, real servers, one clear line on failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.daemon import free_port
from tests.support.one_service import OneService
from tests.support.scripted_server import Reply, ScriptedServer, text

CLI = [sys.executable, "-m", "cli"]


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def test_help_lists_the_commands() -> None:
    out = run("--help").stdout
    for command in ("ask", "models"):
        assert command in out


def test_models_status_shows_a_down_role_with_its_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    r = run("models", "status", env={"SPARK_AGENTS_SUPERVISOR_URL": url})
    assert r.returncode == 0, r.stderr
    lines = {line.split()[0]: line for line in r.stdout.splitlines()}
    assert set(lines) == {"supervisor", "coder", "vision", "embeddings"}
    assert "down" in lines["supervisor"] and url in lines["supervisor"]
    assert "not configured" in lines["vision"]
    assert "up" in lines["embeddings"]


def test_ask_with_the_supervisor_down_fails_with_one_clear_line() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    r = run("ask", "What is 2+2?", env={"SPARK_AGENTS_SUPERVISOR_URL": url})
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    error_lines = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert "supervisor" in error_lines[0] and url in error_lines[0]


class TestAsk(OneService):
    """One home and service for `ask`'s answers (each makes a thread of its own)."""

    def test_ask_streams_from_the_supervisor_endpoint(self, scripted_roles: ScriptedServer) -> None:
        server = scripted_roles.script(text("Two plus two is four."))
        r = run("ask", "What is 2+2?", env={"SPARK_AGENTS_SUPERVISOR_URL": server.url})
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "Two plus two is four."
        assert server.chat_requests[0]["stream"] is True
        assert server.chat_requests[0]["messages"][-1] == {"role": "user", "content": "What is 2+2?"}

    def test_ask_json_prints_typed_events(self, scripted_roles: ScriptedServer) -> None:
        server = scripted_roles.script(text("four"), Reply(fault="http_500"))
        env = {"SPARK_AGENTS_SUPERVISOR_URL": server.url}
        events = [json.loads(line) for line in run("ask", "--json", "2+2?", env=env).stdout.splitlines()]
        assert events[-1]["type"] == "final" and events[-1]["text"] == "four" and events[-1]["citations"] == []
        assert isinstance(events[-1]["thread_id"], str) and events[-1]["thread_id"]
        assert {e["type"] for e in events[:-1]} == {"token"}
        failed = run("ask", "--json", "again", env=env)
        assert failed.returncode == 1
        assert json.loads(failed.stdout.splitlines()[-1])["type"] == "error"


@pytest.mark.real_model
def test_the_readme_run_command_answers_from_the_example_document(spark_home: Path) -> None:
    env = {"SPARK_AGENTS_HOME": str(spark_home)}
    doc = Path(__file__).resolve().parents[1] / "examples" / "documents" / "dgx-spark.md"
    assert run("ingest", str(doc), env=env).returncode == 0
    r = run("ask", "What memory bandwidth does the DGX Spark have?", env=env)
    try:
        assert r.returncode == 0, r.stderr
        # The resident service started llama.cpp for the turn; its log says so.
        assert "Starting the local model server" in (spark_home / "logs" / "service.log").read_text()
        assert "Memory bandwidth: 273 GB/s" in r.stdout and "dgx-spark.md" in r.stdout, r.stdout
        # under its citation, the row that was quoted, with its neighbours (not the chunk's first 300 characters)
        assert "      Memory bandwidth: 273 GB/s" in r.stdout.splitlines(), r.stdout
        # The answer came from llama.cpp: the server it started is recorded and still serving.
        state = json.loads((spark_home / "run" / "llama-server.json").read_text())
        log = (spark_home / "logs" / "llama-server.log").read_text()
        assert state["port"] and "llama" in log.lower()
        again = run("models", "status", env={"SPARK_AGENTS_HOME": str(spark_home)})
        assert f"127.0.0.1:{state['port']}" in again.stdout
    finally:
        run("models", "down", env={"SPARK_AGENTS_HOME": str(spark_home)})
