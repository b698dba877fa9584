"""`spark-agents chat` as a user types into it (a real subprocess, lines on stdin)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.scripted_server import ScriptedServer, text


def test_chat_streams_keeps_the_thread_and_lists_it(scripted: ScriptedServer) -> None:
    scripted.script(text("Hello Ada."), text("You are Ada."))
    env = {
        **os.environ,
        "SPARK_AGENTS_SUPERVISOR_URL": scripted.url,
        "SPARK_AGENTS_AGENT_ROUTING": "llm",
        "SPARK_AGENTS_AGENT_SMALL_MODEL": "false",
    }
    typed = "I am Ada\nwho am I?\n/threads\n/attach /nonexistent.png\nwhat is this?\n/quit\n"
    out = subprocess.run(
        [sys.executable, "-m", "cli", "chat"], input=typed, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert "Hello Ada." in out.stdout and "You are Ada." in out.stdout
    second = scripted.chat_requests[1]["messages"]
    assert [m["content"] for m in second if m["role"] == "user"] == ["I am Ada", "who am I?"]
    assert "I am Ada" in out.stdout.split("You are Ada.")[1]  # /threads lists the thread by its title
    assert "Attachment not found: /nonexistent.png" in out.stderr
    assert "Traceback" not in out.stderr


def test_threads_commands_list_show_rename_delete(scripted: ScriptedServer) -> None:
    scripted.script(text("Hi!"))
    env = {
        **os.environ,
        "SPARK_AGENTS_SUPERVISOR_URL": scripted.url,
        "SPARK_AGENTS_AGENT_ROUTING": "llm",
        "SPARK_AGENTS_AGENT_SMALL_MODEL": "false",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )

    thread = json.loads(cli("ask", "--json", "hello there").stdout.splitlines()[-1])["thread_id"]
    assert thread in cli("threads", "list").stdout and "hello there" in cli("threads", "list").stdout
    assert cli("threads", "show", thread).stdout.splitlines() == ["user> hello there", "assistant (supervisor)> Hi!"]
    assert cli("threads", "rename", thread, "Greetings").returncode == 0
    assert "Greetings" in cli("threads", "list").stdout
    assert cli("threads", "delete", thread).returncode == 0
    assert thread not in cli("threads", "list").stdout
    missing = cli("threads", "show", thread)
    assert missing.returncode == 1 and "No thread" in missing.stderr and "Traceback" not in missing.stderr
