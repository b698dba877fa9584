"""A real `kill -9` in the middle of an ingestion, and the embedded store's lock between processes."""

from __future__ import annotations

import os
import pickle
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from rag.library import Library
from tests.rag.conftest import snapshot
from tests.rag.docs import MARKDOWN

CLI = [sys.executable, "-m", "agents.cli"]


def _rows(db: Path) -> list[bytes]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return [row[0] for row in conn.execute("SELECT point FROM points")]
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def test_kill_9_mid_ingestion_leaves_no_partial_source(
    fake_embeddings: object, spark_home: Path, tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "greenhouse.md").write_text(MARKDOWN, encoding="utf-8")
    with Library() as lib:
        lib.ingest([docs / "greenhouse.md"])
        before = snapshot(lib)
    sentences = [f"Sentence {i} of the long report talks about topic number {i % 97} in detail." for i in range(5000)]
    (docs / "long report.txt").write_text(" ".join(sentences), encoding="utf-8")

    storage = spark_home / "qdrant" / "collection"
    chunks_db, sources_db = (
        storage / "spark_chunks" / "storage.sqlite",
        storage / "spark_chunks_sources" / "storage.sqlite",
    )
    n_before = len(_rows(chunks_db))
    env = {**os.environ, "SPARK_AGENTS_RAG_CHUNK_TOKENS": "32", "SPARK_AGENTS_RAG_BATCH_CHUNKS": "100000"}
    proc = subprocess.Popen(
        [sys.executable, "-c", f"from rag.library import Library; Library().ingest([{str(docs)!r}])"],
        env=env,
        stderr=subprocess.PIPE,
    )
    killed_at = None
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        written = len(_rows(chunks_db)) - n_before
        if written > 100:
            os.kill(proc.pid, signal.SIGKILL)
            killed_at = written
            break
        time.sleep(0.02)
    proc.wait(30)
    assert killed_at is not None, f"the ingestion ended before it could be killed: {proc.stderr.read().decode()[-800:]}"  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL

    # What the killed process left on disk: a pending source record and some of its chunks.
    records = [pickle.loads(r).payload for r in _rows(sources_db)]
    assert any(r["status"] == "pending" and r["path"].endswith("long report.txt") for r in records)
    assert len(_rows(chunks_db)) > n_before

    with Library() as lib:  # opening the store cleans up: no partial source, no orphan chunk
        assert snapshot(lib) == before
        assert [r["status"] for r in lib.store.source_records()] == ["complete"]
        report = lib.ingest([docs])  # and the interrupted file ingests cleanly afterwards
        assert [Path(s.path).name for s in report.added] == ["long report.txt"]
        assert len(report.unchanged) == 1
        ids, points = snapshot(lib)
        assert len(ids) == 2 and points == before[1] + report.added[0].chunks


def test_a_second_process_gets_a_clear_error_while_the_store_is_open(fake_embeddings: object, tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(MARKDOWN, encoding="utf-8")
    with Library() as lib:
        lib.ingest([tmp_path / "a.md"])
        r = subprocess.run([*CLI, "sources", "list"], capture_output=True, text=True, timeout=120)
        assert r.returncode == 1
        assert r.stderr.startswith("error: The document store ")
        assert "is in use by another process" in r.stderr and "SPARK_AGENTS_RAG_QDRANT_URL" in r.stderr
        assert "Traceback" not in r.stderr
        # the same process can open it again: one shared client per folder
        with Library() as again:
            assert [s.id for s in again.sources()] == [s.id for s in lib.sources()]
    r = subprocess.run([*CLI, "sources", "list"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.count("\n") == 1


def test_keep_open_false_lets_processes_take_turns(fake_embeddings: object, tmp_path: Path) -> None:
    from rag.settings import RagSettings

    (tmp_path / "a.md").write_text(MARKDOWN, encoding="utf-8")
    lib = Library(RagSettings(keep_open=False))
    lib.ingest([tmp_path / "a.md"])  # the lock is released when the call returns
    other_process = "from rag.library import Library; print(Library().sources()[0].id)"
    r = subprocess.run([sys.executable, "-c", other_process], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == lib.sources()[0].id
    assert lib.search("aphids", k=1)[0].title == "Greenhouse handbook"
    lib.close()
