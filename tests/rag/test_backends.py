"""The two vector back-ends behind one store: the same answers, Edge's background index build (and what a
kill -9 does to it), and the migration from the old local-mode store."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rag.backend_edge import EdgeBackend
from rag.errors import RagError
from rag.library import Library
from rag.settings import RagSettings
from serving.settings import ServingSettings
from tests.rag.conftest import snapshot
from tests.rag.docs import MARKDOWN

SMALL_INDEX = {"indexing_threshold_kb": 5}  # 20 fake 64-d vectors: a real HNSW build on a small corpus


def _report(n: int = 400) -> str:
    topics = ["greenhouse aphids", "telescope mirrors", "espresso grinding", "bicycle brakes", "sourdough starters"]
    return " ".join(f"Note {i} is about {topics[i % 5]} and detail number {i}." for i in range(n))


def _docs(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "greenhouse.md").write_text(MARKDOWN, encoding="utf-8")
    (root / "report.txt").write_text(_report(), encoding="utf-8")
    return root


QUERIES = ["aphids in the greenhouse", "telescope mirror", "Note 17", "espresso"]


def _answers(lib: Library) -> list[list[str]]:
    return [[h.chunk_id for h in lib.search(q, k=5)] for q in QUERIES]


def _ranked_scores(lib: Library) -> list[tuple[str | None, list[float]]]:
    """Per query: the fused scores of the top 5, and the top chunk when no other chunk ties with it (the
    engines break ties between equal scores in different orders)."""
    out = []
    for q in QUERIES:
        hits = lib.search(q, k=5)
        scores = [round(h.score, 4) for h in hits]
        out.append((hits[0].chunk_id if len(scores) < 2 or scores[0] > scores[1] else None, scores))
    return out


def test_both_back_ends_give_the_same_answers(fake_embeddings: object, spark_home: Path, tmp_path: Path) -> None:
    docs = _docs(tmp_path / "docs")
    results = {}
    for backend in ("edge", "client"):
        settings = RagSettings(backend=backend, edge_path=tmp_path / "edge", qdrant_path=tmp_path / "local")
        with Library(settings, ServingSettings()) as lib:
            lib.ingest([docs])
            texts = [c.text for s in lib.sources() for c in lib.chunks(s.id)]
            results[backend] = (snapshot(lib)[1], _ranked_scores(lib), texts)
    assert results["edge"] == results["client"]
    assert results["edge"][0] > 20 and any(top for top, _ in results["edge"][1])


def test_the_index_builds_in_the_background_and_keeps_writes_made_meanwhile(
    fake_embeddings: object, spark_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = _docs(tmp_path / "docs")
    extra = tmp_path / "extra.txt"
    extra.write_text("The Zephyr-9 telescope mirror is made of ULE glass, 2.4 metres wide.\n", encoding="utf-8")
    lib = Library(RagSettings(**SMALL_INDEX), ServingSettings())
    during: dict[str, Any] = {}
    original = EdgeBackend._run_child

    def run_child_and_write(self: EdgeBackend, build: Path) -> None:
        # between the copy and the swap: the live shard serves searches and takes writes
        during["status"] = self.index_status()
        during["added"] = lib.ingest([extra]).added
        during["hits"] = [h.path for h in lib.search("ULE glass mirror", k=1)]
        original(self, build)

    monkeypatch.setattr(EdgeBackend, "_run_child", run_child_and_write)
    try:
        lib.ingest([docs])  # returns at once; the build runs in the background
        status = lib.store.wait_for_index(120)
        assert during["status"].state == "building" and during["status"].stage
        assert during["hits"] and during["hits"][0].endswith("extra.txt")  # exact on the live shard
        assert status.state == "ready" and status.indexed_points > 0
        manifest = json.loads((spark_home / "edge" / "spark_chunks" / "CURRENT").read_text())
        assert manifest["gen"] == 2
        assert sorted(p.name for p in (spark_home / "edge" / "spark_chunks").iterdir()) == [
            "CURRENT",
            "chunks-000002",
            "sources",
        ]
        # the write made during the build was replayed onto the new shard
        assert [s.path for s in lib.sources()][-1] == str(extra)
        assert lib.search("ULE glass mirror", k=1)[0].path == str(extra)
        assert lib.store.count_chunks() == sum(s.chunks for s in lib.sources())
    finally:
        lib.close()


def test_a_killed_builder_leaves_the_live_shard_serving(
    fake_embeddings: object, spark_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.backend_edge as edge

    real_popen = subprocess.Popen

    def popen_then_kill_9(*args: Any, **kwargs: Any) -> Any:
        proc = real_popen(*args, **kwargs)
        os.kill(proc.pid, signal.SIGKILL)
        return proc

    monkeypatch.setattr(edge.subprocess, "Popen", popen_then_kill_9)
    docs = _docs(tmp_path / "docs")
    with Library(RagSettings(**SMALL_INDEX), ServingSettings()) as lib:
        lib.ingest([docs])
        status = lib.store.wait_for_index(120)
        assert status.state == "unindexed"  # the build failed; it is retried after more writes
        assert not (spark_home / "edge" / "spark_chunks" / "build").exists()
        assert json.loads((spark_home / "edge" / "spark_chunks" / "CURRENT").read_text())["gen"] == 1
        assert lib.search("aphids in the greenhouse", k=1)[0].title == "Greenhouse handbook"
        before = snapshot(lib)
    with Library(RagSettings(**SMALL_INDEX, background_index=False), ServingSettings()) as lib:
        assert snapshot(lib) == before


# The serving process is killed (SIGKILL, by itself) at a chosen step of the swap.
_KILLED_SWAP = """
import json, os, signal, sys
from pathlib import Path
from rag.backend_edge import EdgeBackend
from rag.library import Library
from rag.settings import RagSettings
from serving.settings import ServingSettings

where = sys.argv[2]
original_write, original_rmtree = EdgeBackend._write_manifest, __import__("shutil").rmtree
def write_manifest(self, **changes):
    if where == "before-commit" and changes.get("gen") == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    original_write(self, **changes)
    if where == "after-commit" and changes.get("gen") == 2:
        os.kill(os.getpid(), signal.SIGKILL)
EdgeBackend._write_manifest = write_manifest
lib = Library(RagSettings(indexing_threshold_kb=5), ServingSettings())
lib.ingest([sys.argv[1]])
lib.store.wait_for_index(120)
print("the build finished without being killed")
"""


@pytest.mark.parametrize("where", ["before-commit", "after-commit"])
def test_kill_9_during_the_swap_loses_nothing(
    fake_embeddings: object, spark_home: Path, tmp_path: Path, where: str
) -> None:
    docs = _docs(tmp_path / "docs")
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_SWAP, str(docs), where], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr[-2000:]
    root = spark_home / "edge" / "spark_chunks"
    gen = json.loads((root / "CURRENT").read_text())["gen"]
    assert gen == (1 if where == "before-commit" else 2)
    with Library(RagSettings(**SMALL_INDEX, background_index=False), ServingSettings()) as lib:
        sources = lib.sources()  # the first call opens the store, which removes what the kill left
        assert sorted(p.name for p in root.iterdir()) == ["CURRENT", f"chunks-{gen:06d}", "sources"]
        assert sorted(Path(s.path).name for s in sources) == ["greenhouse.md", "report.txt"]
        assert lib.store.count_chunks() == sum(s.chunks for s in sources)
        assert lib.search("aphids in the greenhouse", k=1)[0].title == "Greenhouse handbook"


def test_the_old_local_mode_store_is_migrated_on_first_open(
    fake_embeddings: object, spark_home: Path, tmp_path: Path
) -> None:
    docs = _docs(tmp_path / "docs")
    with Library(RagSettings(backend="client"), ServingSettings()) as old:
        old.ingest([docs])
        before = (snapshot(old), _answers(old), [s.model_dump() for s in old.sources()])
    with Library(RagSettings(), ServingSettings()) as new:  # Edge, the default: finds no Edge collection but an old one
        after = (snapshot(new), _answers(new), [s.model_dump() for s in new.sources()])
    assert after == before
    assert (spark_home / "edge" / "spark_chunks" / "CURRENT").exists()
    assert (spark_home / "qdrant" / "collection" / "spark_chunks").is_dir()  # the old store is left untouched


_KILLED_MIGRATION = """
import os, signal
from rag.backend_edge import EdgeBackend
from rag.library import Library
from rag.settings import RagSettings
from serving.settings import ServingSettings

original = EdgeBackend.upsert
def upsert_then_die(self, collection, points):
    original(self, collection, points[:5])
    os.kill(os.getpid(), signal.SIGKILL)
EdgeBackend.upsert = upsert_then_die
Library(RagSettings(), ServingSettings()).sources()
"""


def test_an_interrupted_migration_is_redone_and_loses_nothing(
    fake_embeddings: object, spark_home: Path, tmp_path: Path
) -> None:
    docs = _docs(tmp_path / "docs")
    with Library(RagSettings(backend="client"), ServingSettings()) as old:
        old.ingest([docs])
        before = (snapshot(old), _answers(old))
    proc = subprocess.run([sys.executable, "-c", _KILLED_MIGRATION], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    edge = spark_home / "edge"
    assert (edge / "spark_chunks.migrating").is_dir() and not (edge / "spark_chunks").exists()
    with Library(RagSettings(), ServingSettings()) as new:
        assert (snapshot(new), _answers(new)) == before
    assert not (edge / "spark_chunks.migrating").exists()


def test_edge_refuses_a_write_the_disk_cannot_hold(fake_embeddings: object, spark_home: Path, tmp_path: Path) -> None:
    """Edge writes through memory-mapped files, where a full disk kills the process: a write that would eat
    into the free-space margin fails as ENOSPC instead, the library says the disk is full, stored sources
    stay, and a delete (which needs no margin) still works."""
    settings = RagSettings(edge_path=tmp_path / "edge", keep_open=True)
    with Library(settings, ServingSettings()) as lib:
        lib.ingest([_docs(tmp_path / "docs") / "greenhouse.md"])
        before = snapshot(lib)
        backend = lib.store.backend
        assert isinstance(backend, EdgeBackend)
        backend.min_free = shutil.disk_usage(tmp_path).free  # no room left above the margin
        (tmp_path / "more.txt").write_text(_report(50), encoding="utf-8")
        with pytest.raises(RagError, match=r"The disk holding the document store .* is full"):
            lib.ingest([tmp_path / "more.txt"])
        assert snapshot(lib) == before
        [source] = lib.sources()
        lib.delete_source(source.id)
        assert lib.sources() == []


def test_a_long_section_without_breaks_is_chunked_whole() -> None:
    """NLTK's sentence tokenizer gives up after 5 s on a multi-megabyte paragraph; the text is cut into
    windows first, and no character is lost."""
    from rag.chunking import WINDOW_CHARS, split
    from rag.readers import Page, ParsedDocument

    text = " ".join(f"Sentence {i} is about topic {i % 97}." for i in range(20_000))
    assert len(text) > 20 * WINDOW_CHARS
    pieces = split(ParsedDocument(doc_type="text", title="log", pages=[Page(number=None, text=text)]))
    assert all(f"Sentence {i} is" in p.text for i, p in [(0, pieces[0]), (19_999, pieces[-1])])
    joined = " ".join(p.text for p in pieces)
    assert all(f"Sentence {i} is about topic {i % 97}." in joined for i in range(0, 20_000, 997))
