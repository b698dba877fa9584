"""The resident service: started on first use, one per data directory, shared by every client, token-guarded,
restarted (and said so once) after it died, with one clear error when it cannot start."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from api.client import ServiceClient, ServiceError
from api.service import ServiceSettings, ServiceStartError, ensure_service, read_record, stop_service
from core.daemon import pid_alive
from core.wire import TurnRequest
from tests.support.scripted_server import ScriptedServer, text


@pytest.fixture
def llm_routing(monkeypatch: pytest.MonkeyPatch, scripted_roles: ScriptedServer) -> ScriptedServer:
    """The supervisor model routes with handoff tool calls (like gpt-oss): no embedding router to load."""
    monkeypatch.setenv("SPARK_AGENTS_AGENT_ROUTING", "llm")
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "false")
    return scripted_roles


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=timeout, env=os.environ
    )


def test_clients_starting_it_at_once_get_one_service(spark_home: Path) -> None:
    handles = []
    threads = [threading.Thread(target=lambda: handles.append(ensure_service(ServiceSettings()))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(handles) == 3 and len({h.pid for h in handles}) == 1 and len({h.url for h in handles}) == 1
    assert sum(h.started for h in handles) == 1
    token_file = spark_home / "service.token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert {h.token for h in handles} == {token_file.read_text().strip()}
    again = ensure_service(ServiceSettings())
    assert (again.pid, again.started) == (handles[0].pid, False)
    assert stop_service(ServiceSettings())
    assert read_record(ServiceSettings()) is None and not pid_alive(handles[0].pid)
    assert not stop_service(ServiceSettings())


def test_native_api_refuses_requests_without_the_token(spark_home: Path) -> None:
    handle = ensure_service(ServiceSettings())
    assert httpx.get(f"{handle.url}/api/threads", timeout=10).status_code == 401
    wrong = httpx.get(f"{handle.url}/api/threads", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401 and "token" in wrong.json()["error"]["message"]
    ok = httpx.get(f"{handle.url}/api/threads", headers={"Authorization": f"Bearer {handle.token}"}, timeout=10)
    assert ok.status_code == 200 and ok.json() == []
    # the OpenAI endpoints of the detached service too: another user of the machine cannot drive it
    assert httpx.get(f"{handle.url}/v1/models", timeout=10).status_code == 401
    models = httpx.get(f"{handle.url}/v1/models", headers={"Authorization": f"Bearer {handle.token}"}, timeout=10)
    assert models.status_code == 200 and "spark-agents" in [m["id"] for m in models.json()["data"]]


def test_a_turn_streams_typed_events_and_the_thread_keeps_its_trace(llm_routing: ScriptedServer) -> None:
    llm_routing.script(text("Paris is the capital of France."))
    with ServiceClient(ServiceSettings(), notice=None) as client:
        events = list(client.turn(TurnRequest(message="What is the capital of France?")))
        assert [e.type for e in events][-1] == "final"
        final = events[-1]
        assert final.text == "Paris is the capital of France." and final.thread_id
        assert "".join(e.text for e in events if e.type == "token") == final.text
        detail = client.request("GET", f"/api/threads/{final.thread_id}")
        assert detail["thread"]["title"] == "What is the capital of France?"
        user, answer = detail["messages"]
        assert user == {"role": "user", "content": "What is the capital of France?", "agent": ""}
        assert answer["content"] == final.text and answer["trace"] == [] and answer["citations"] == []
        client.request("PATCH", f"/api/threads/{final.thread_id}", json={"title": "Capitals"})
        assert [t["title"] for t in client.request("GET", "/api/threads")] == ["Capitals"]
        client.request("DELETE", f"/api/threads/{final.thread_id}")
        with pytest.raises(ServiceError, match="No thread"):
            client.request("GET", f"/api/threads/{final.thread_id}")


def test_cli_commands_share_the_running_service(llm_routing: ScriptedServer) -> None:
    llm_routing.script(text("First answer."), text("Second answer."))
    assert read_record(ServiceSettings()) is None
    first = cli("ask", "--json", "hello")
    assert first.returncode == 0, first.stderr
    record = read_record(ServiceSettings())
    assert record is not None and pid_alive(record.pid)  # the first command started it, detached
    pid = record.pid
    second = cli("ask", "--json", "hello again")
    assert second.returncode == 0, second.stderr
    assert "had stopped" not in second.stderr
    assert read_record(ServiceSettings()).pid == pid  # type: ignore[union-attr]
    finals = [json.loads(line) for line in second.stdout.splitlines() if '"final"' in line]
    assert finals and finals[-1]["text"] == "Second answer."
    listed = cli("threads", "list")
    assert listed.returncode == 0 and "hello again" in listed.stdout and "hello" in listed.stdout
    status = cli("service", "status")
    assert status.returncode == 0 and str(pid) in status.stdout
    down = cli("service", "down")
    assert down.returncode == 0 and "stopped" in down.stdout
    assert not pid_alive(pid)


def test_a_killed_service_is_restarted_and_the_client_says_so_once(llm_routing: ScriptedServer) -> None:
    llm_routing.script(text("Before."), text("After."))
    notes: list[str] = []
    with ServiceClient(ServiceSettings(), notice=notes.append) as client:
        assert list(client.turn(TurnRequest(message="one")))[-1].type == "final"
        old = read_record(ServiceSettings())
        assert old is not None
        os.kill(old.pid, signal.SIGKILL)
        events = list(client.turn(TurnRequest(message="two")))
        assert events[-1].type == "final" and events[-1].text == "After."
    new = read_record(ServiceSettings())
    assert new is not None and new.pid != old.pid
    restarted = [n for n in notes if "had stopped" in n]
    assert len(restarted) == 1, notes


def test_a_service_that_cannot_listen_gives_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        monkeypatch.setenv("SPARK_AGENTS_SERVICE_PORT", str(taken.getsockname()[1]))
        with pytest.raises(ServiceStartError, match="cannot listen on 127.0.0.1"):
            ensure_service(ServiceSettings())
        done = cli("ask", "hello", timeout=120)
    assert done.returncode == 1
    assert "cannot listen on 127.0.0.1" in done.stderr and "Traceback" not in done.stderr


def test_documents_are_uploaded_ingested_and_refusals_leave_nothing_behind(
    llm_routing: ScriptedServer, spark_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARK_AGENTS_EMBEDDINGS_URL", llm_routing.url)
    monkeypatch.setenv("SPARK_AGENTS_EMBEDDINGS_MODEL", "scripted-embedding")
    good = b"# Grace\n\nThe Grace CPU has twenty Arm cores.\n"
    progress: list[dict[str, object]] = []
    with ServiceClient(ServiceSettings(), notice=None) as client:
        result = client.upload([("../../grace.md", good), ("empty.txt", b""), ("twin.md", good)], progress.append)
        files = result.structured["files"]  # type: ignore[index]
        assert [(f["name"], f["ok"], f["how"]) for f in files] == [
            ("../../grace.md", True, "added"),
            ("empty.txt", False, None),
            ("twin.md", False, None),
        ]
        assert "empty" in files[1]["detail"] and "same content as another file" in files[2]["detail"]
        assert progress and progress[-1]["total"] == 3
        again = client.upload([("copy.md", good)], progress.append).structured["files"]  # type: ignore[index]
        assert [(f["ok"], f["how"]) for f in again] == [(True, "unchanged")]
        assert "already stored as 'Grace'" in again[0]["detail"]
        stored = list((spark_home / "uploads" / "documents").glob("*/*"))
        assert [p.name for p in stored] == ["grace.md"]  # the name sanitised; the refused and the copy removed
        sources = client.tool("rag", "list_sources").structured["sources"]  # type: ignore[index]
        assert [s["title"] for s in sources] == ["Grace"] and sources[0]["path"] == str(stored[0])
        plan = client.request("GET", "/api/plan", params={"profile": "spark-120b"})
        assert plan["profile"] == "spark-120b" and plan["fits"] is True


def test_an_upload_over_the_limit_is_refused_and_a_small_body_limit_does_not_apply_to_it(
    spark_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARK_AGENTS_API_MAX_UPLOAD_BYTES", "2048")
    handle = ensure_service(ServiceSettings())
    headers = {"Authorization": f"Bearer {handle.token}"}
    big = httpx.post(f"{handle.url}/api/documents", files=[("files", ("big.txt", b"x" * 4096))], headers=headers)
    assert big.status_code == 413 and "SPARK_AGENTS_API_MAX_UPLOAD_BYTES" in big.json()["error"]["message"]
    assert not (spark_home / "uploads" / "documents").exists() or not any(
        (spark_home / "uploads" / "documents").iterdir()
    )
