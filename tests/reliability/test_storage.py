"""Storage faults: the disk fills up while ingesting, and `kill -9` in the middle of a turn.

Covered elsewhere and not repeated here: `kill -9` in the middle of an ingestion and the embedded Qdrant
store locked by another process (tests/rag/test_atomic.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from serving.settings import ServingSettings
from tests.support.processes import stop_services_under
from tests.support.scripted_server import Reply, ScriptedServer

CLI = [sys.executable, "-m", "cli"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 80 MB tmpfs (needs root; skipped otherwise): the store keeps 64 MB free (SPARK_AGENTS_RAG_MIN_FREE_MB),
    so about 16 MB are usable."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=80m", "tmpfs", str(mount)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        stop_services_under(mount)  # the service a client started for a home on it, before it goes away
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_while_ingesting(small_disk: Path, scripted: ScriptedServer, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SPARK_AGENTS_HOME": str(small_disk / "home"),
        "SPARK_AGENTS_EMBEDDINGS_URL": scripted.url,
        "SPARK_AGENTS_EMBEDDINGS_MODEL": "scripted-embedding",
    }
    small = tmp_path / "small.md"
    small.write_text("# Small note\n\nThe small note says the greenhouse opens at nine.\n")
    big = tmp_path / "big.txt"
    big.write_text(" ".join(f"Sentence {i} is about topic {i % 97} with some filler words." for i in range(150000)))

    r = subprocess.run([*CLI, "ingest", str(small)], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([*CLI, "ingest", str(big)], env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "error: The disk holding the document store" in r.stderr and "is full" in r.stderr
    assert "Free some space" in r.stderr

    # Still on a full disk: the earlier source is listed and searchable, nothing half-written is visible.
    r = subprocess.run([*CLI, "sources", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Small note" in r.stdout and "big" not in r.stdout and r.stdout.count("\n") == 1
    r = subprocess.run([*CLI, "search", "greenhouse opens"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "nine" in r.stdout and "Sentence" not in r.stdout


def test_kill_9_during_a_turn_keeps_completed_threads(
    scripted: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process runs a turn to the end, then starts a second one whose answer streams slowly, and is
    killed with SIGKILL mid-answer. After a restart, the first thread is whole and usable."""
    scripted.script(Reply(content="The first answer, complete."))
    scripted.default = Reply(content=" ".join(f"w{i}" for i in range(400)), token_delay=0.02)
    env = {
        **os.environ,
        "SPARK_AGENTS_SUPERVISOR_URL": scripted.url,
        "SPARK_AGENTS_SUPERVISOR_MODEL": "scripted-model",
        "SPARK_AGENTS_AGENT_ROUTING": "llm",
        "SPARK_AGENTS_AGENT_SMALL_MODEL": "false",
    }
    code = (
        "from agents.runtime import BlockingRuntime\n"
        "from agents.settings import AgentSettings\n"
        "from core.wire import TurnRequest\n"
        "from serving.settings import ServingSettings\n"
        "runtime = BlockingRuntime(ServingSettings(), AgentSettings())\n"
        "final = list(runtime.stream(TurnRequest(message='First question?')))[-1]\n"
        "print('THREAD', final.thread_id, flush=True)\n"
        "for event in runtime.stream(TurnRequest(message='Second question, long answer please.')):\n"
        "    if event.type == 'token' and event.text.strip():\n"
        "        print('STREAMING', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().split()
        assert first[0] == "THREAD", first
        thread_id = first[1]
        assert proc.stdout.readline().strip() == "STREAMING"
        time.sleep(0.3)
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()

    from agents.threads import ThreadStore
    from tests.support.turns import reset_runtime, run_turn, thread_messages

    threads = ThreadStore(ServingSettings().home / "threads.db").list()
    assert thread_id in [t.id for t in threads]
    assert thread_messages(thread_id) == [
        {"role": "user", "content": "First question?", "agent": ""},
        {"role": "assistant", "content": "The first answer, complete.", "agent": "supervisor"},
    ]
    # The interrupted thread shows no half-written answer.
    for t in threads:
        if t.id != thread_id:
            assert all(m["role"] == "user" for m in thread_messages(t.id))
    # And the restarted process continues the completed thread.
    for key, value in env.items():
        if key.startswith("SPARK_AGENTS_") and key not in ("SPARK_AGENTS_HOME", "SPARK_AGENTS_PROFILE"):
            monkeypatch.setenv(key, value)
    reset_runtime()  # a runtime is built with its settings: the changed environment is a new one
    scripted.script(Reply(content="Continuing after the crash."))
    events = list(run_turn("Are you still there?", thread_id=thread_id))
    assert events[-1].type == "final" and events[-1].text == "Continuing after the crash."
    assert len(thread_messages(thread_id)) == 4
