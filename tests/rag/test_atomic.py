"""A real `kill -9` in the middle of an ingestion and of a delete, on both back-ends, and the embedded
store's lock between processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rag.library import Library
from rag.settings import RagSettings
from rag.store import Store
from serving.settings import ServingSettings
from tests.rag.conftest import snapshot
from tests.rag.docs import MARKDOWN

CLI = [sys.executable, "-m", "cli"]


# A child that ingests and is killed with SIGKILL (by itself, so the moment is exact) after `after`
# chunks of its batch are written: what a crash mid-write leaves on disk.
_KILLED_INGEST = """
import os, signal, sys
from rag.library import Library
from rag.settings import RagSettings
from serving.settings import ServingSettings
from rag.store import Store

after = int(sys.argv[2])
original = Store.upsert_chunks
def upsert_then_die(self, points, batch=256):
    original(self, points[:after], batch)
    os.kill(os.getpid(), signal.SIGKILL)
Store.upsert_chunks = upsert_then_die
Library(RagSettings(), ServingSettings()).ingest([sys.argv[1]])
"""

_KILLED_DELETE = """
import os, signal, sys
from rag.library import Library
from rag.settings import RagSettings
from serving.settings import ServingSettings

lib = Library(RagSettings(), ServingSettings())
backend = lib.store.backend
original = type(backend).delete_ids
def delete_ids_then_die(self, collection, ids):
    if collection == "sources":  # the chunks are gone, the records not yet
        os.kill(os.getpid(), signal.SIGKILL)
    original(self, collection, ids)
type(backend).delete_ids = delete_ids_then_die
lib.delete_source(sys.argv[1])
"""


def _run_killed(script: str, *args: str) -> None:
    env = {**os.environ, "SPARK_AGENTS_RAG_CHUNK_TOKENS": "32", "SPARK_AGENTS_RAG_BATCH_CHUNKS": "100000"}
    proc = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]


@pytest.fixture(params=["edge", "client"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both back-ends: Qdrant Edge, and qdrant-client (local mode standing in for a server's code path)."""
    monkeypatch.setenv("SPARK_AGENTS_RAG_BACKEND", request.param)
    return str(request.param)


def test_kill_9_mid_ingestion_leaves_no_partial_source(
    backend: str, fake_embeddings: object, spark_home: Path, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "greenhouse.md").write_text(MARKDOWN, encoding="utf-8")
    with Library(RagSettings(), ServingSettings()) as lib:
        lib.ingest([docs / "greenhouse.md"])
        before = snapshot(lib)
    sentences = [f"Sentence {i} of the long report talks about topic number {i % 97} in detail." for i in range(3000)]
    (docs / "long report.txt").write_text(" ".join(sentences), encoding="utf-8")

    _run_killed(_KILLED_INGEST, str(docs), "150")

    # What the killed process left on disk: a pending source record and some of its chunks.
    store = Store(RagSettings(), spark_home)
    try:
        records = store.source_records()
        assert any(r["status"] == "pending" and r["path"].endswith("long report.txt") for r in records)
        assert store.count_chunks() == before[1] + 150
    finally:
        store.close()

    with Library(
        RagSettings(), ServingSettings()
    ) as lib:  # opening the store cleans up: no partial source, no orphan chunk
        assert snapshot(lib) == before
        assert [r["status"] for r in lib.store.source_records()] == ["complete"]
        report = lib.ingest([docs])  # and the interrupted file ingests cleanly afterwards
        assert [Path(s.path).name for s in report.added] == ["long report.txt"]
        assert len(report.unchanged) == 1
        ids, points = snapshot(lib)
        assert len(ids) == 2 and points == before[1] + report.added[0].chunks


def test_kill_9_mid_delete_finishes_the_delete_on_the_next_open(
    backend: str, fake_embeddings: object, spark_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "a.md").write_text(MARKDOWN, encoding="utf-8")
    (tmp_path / "b.txt").write_text("The Zephyr-9 telescope mirror is 2.4 metres wide.\n", encoding="utf-8")
    with Library(RagSettings(), ServingSettings()) as lib:
        lib.ingest([tmp_path])
        doomed = next(s for s in lib.sources() if s.path.endswith("a.md"))
        kept = next(s for s in lib.sources() if s.path.endswith("b.txt"))
    _run_killed(_KILLED_DELETE, doomed.id)
    store = Store(RagSettings(), spark_home)
    try:  # the record is still there, marked: invisible, and its chunks are gone
        assert {r["id"]: r["status"] for r in store.source_records()} == {doomed.id: "deleting", kept.id: "complete"}
    finally:
        store.close()
    with Library(RagSettings(), ServingSettings()) as lib:
        assert [s.id for s in lib.sources()] == [kept.id]
        assert [r["id"] for r in lib.store.source_records()] == [kept.id]
        assert lib.store.count_chunks() == kept.chunks
        assert lib.search("telescope mirror", k=3)[0].source_id == kept.id


def test_a_second_process_gets_a_clear_error_while_the_store_is_open(fake_embeddings: object, tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(MARKDOWN, encoding="utf-8")
    with Library(RagSettings(), ServingSettings()) as lib:
        lib.ingest([tmp_path / "a.md"])
        r = subprocess.run([*CLI, "sources", "list"], capture_output=True, text=True, timeout=120)
        assert r.returncode == 1
        assert r.stderr.startswith("error: The document store ")
        assert "is in use by another process" in r.stderr and "SPARK_AGENTS_RAG_QDRANT_URL" in r.stderr
        assert "Traceback" not in r.stderr
        # the same process can open it again: one shared client per folder
        with Library(RagSettings(), ServingSettings()) as again:
            assert [s.id for s in again.sources()] == [s.id for s in lib.sources()]
    r = subprocess.run([*CLI, "sources", "list"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.count("\n") == 1


def test_keep_open_false_lets_processes_take_turns(fake_embeddings: object, tmp_path: Path) -> None:
    from rag.settings import RagSettings

    (tmp_path / "a.md").write_text(MARKDOWN, encoding="utf-8")
    lib = Library(RagSettings(keep_open=False), ServingSettings())
    lib.ingest([tmp_path / "a.md"])  # the lock is released when the call returns
    other_process = (
        "from rag.library import Library; from rag.settings import RagSettings; "
        "from serving.settings import ServingSettings; "
        "print(Library(RagSettings(), ServingSettings()).sources()[0].id)"
    )
    r = subprocess.run([sys.executable, "-c", other_process], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == lib.sources()[0].id
    assert lib.search("aphids", k=1)[0].title == "Greenhouse handbook"
    lib.close()
