"""`kill -9` of the resident service — its whole process group, MCP servers included — in the middle of a
turn and in the middle of an ingestion: nothing completed is lost (threads, sources, graphs), nothing
half-written shows, and the next client call starts the service again and says so once."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from api.client import ServiceClient, ServiceError
from api.service import ServiceSettings, read_record
from core.wire import TurnRequest
from tests.support.scripted_server import Reply, ScriptedServer

NOTES = "# Greenhouse notes\n\nAphids are controlled with ladybirds in the greenhouse.\n"


@pytest.fixture
def service_env(llm_routing: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    monkeypatch.setenv("SPARK_AGENTS_EMBEDDINGS_URL", llm_routing.url)
    monkeypatch.setenv("SPARK_AGENTS_EMBEDDINGS_MODEL", "scripted-embedding")
    monkeypatch.setenv("SPARK_AGENTS_RAG_CHUNK_TOKENS", "32")
    return llm_routing


def kill_service_group() -> int:
    record = read_record(ServiceSettings())
    assert record is not None
    os.killpg(os.getpgid(record.pid), signal.SIGKILL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(record.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    return record.pid


def test_kill_9_of_the_service_mid_turn_and_mid_ingestion_loses_nothing_completed(
    service_env: ScriptedServer, tmp_path: Path
) -> None:
    scripted = service_env
    notes = tmp_path / "notes.md"
    notes.write_text(NOTES, encoding="utf-8")
    sentences = [f"Sentence {i} of the long report is about topic {i % 97} in detail." for i in range(6000)]
    (tmp_path / "long report.txt").write_text(" ".join(sentences), encoding="utf-8")
    said: list[str] = []
    client = ServiceClient(ServiceSettings(), notice=said.append)

    # completed work: a thread, a source, a graph
    scripted.script(Reply(content="The first answer, complete."))
    first = list(client.turn(TurnRequest(message="First question?")))[-1]
    assert first.type == "final"
    client.tool("rag", "ingest_documents", {"paths": [str(notes)]})
    client.tool("kg", "extract_graph", {"text": "Marie Curie was born in Warsaw."})

    # a turn streaming slowly, killed mid-answer
    scripted.default = Reply(content=" ".join(f"w{i}" for i in range(400)), token_delay=0.02)
    streaming = threading.Event()
    outcome: list[object] = []

    def second_turn() -> None:
        for event in ServiceClient(ServiceSettings(), notice=None).turn(
            TurnRequest(message="Second question, long answer please.")
        ):
            if event.type == "token" and event.text.strip():
                streaming.set()
            outcome.append(event)

    worker = threading.Thread(target=second_turn)
    worker.start()
    assert streaming.wait(120), "the second turn never streamed"
    killed = kill_service_group()
    worker.join(60)
    last = outcome[-1]
    assert last.type == "error" and "Lost the Spark Agents service" in last.message, last  # type: ignore[attr-defined]

    # an ingestion in progress, killed after its first progress report
    progressed = threading.Event()

    lost: list[ServiceError] = []

    def long_ingest() -> None:
        try:
            ServiceClient(ServiceSettings(), notice=None).tool_progress(
                "rag", "ingest_documents", {"paths": [str(tmp_path / "long report.txt")]}, lambda _: progressed.set()
            )
        except ServiceError as e:
            lost.append(e)

    scripted.default = Reply(content="After the crash.")
    worker = threading.Thread(target=long_ingest)
    worker.start()
    assert progressed.wait(120), "the ingestion never reported progress"
    second_kill = kill_service_group()
    worker.join(60)
    assert second_kill != killed  # a new service was started for the ingestion, and killed in turn
    assert lost and "Lost the Spark Agents service during rag.ingest_documents" in str(lost[0])

    # the next call starts the service again; everything completed is there, nothing half-written
    sources = client.tool("rag", "list_sources").structured or {}
    titles = [s["title"] for s in sources["sources"]]
    assert "Greenhouse notes" in titles and all(t in ("Greenhouse notes", "long report") for t in titles)
    hits = (client.tool("rag", "search_documents", {"query": "ladybirds aphids"}).structured or {})["hits"]
    assert hits and "ladybirds" in hits[0]["text"]
    graph = client.tool("kg", "graph_stats").structured or {}
    assert graph["nodes"] >= 2, graph
    history = client.request("GET", f"/api/threads/{first.thread_id}")["messages"]
    assert [m["content"] for m in history] == ["First question?", "The first answer, complete."]
    for thread in client.request("GET", "/api/threads"):
        if thread["id"] != first.thread_id:  # the interrupted turn left no half-written answer
            messages = client.request("GET", f"/api/threads/{thread['id']}")["messages"]
            assert all(m["role"] == "user" for m in messages), messages
    again = list(client.turn(TurnRequest(message="Still there?", thread_id=first.thread_id)))[-1]
    assert again.type == "final" and again.text == "After the crash."
    assert sum("had stopped" in s for s in said) == 1, said  # this client saw its service die once
    client.close()
