from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.library import Library
from rag.settings import RagSettings
from serving.settings import ServingSettings
from tests.rag.docs import mixed_folder
from tests.support.scripted_server import ScriptedServer


@pytest.fixture
def lib(spark_home: Path) -> Iterator[Library]:
    """A library in this test's SPARK_AGENTS_HOME with the real local embedding model (all-MiniLM-L6-v2)."""
    library = Library(RagSettings(), ServingSettings())
    yield library
    library.close()


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    return mixed_folder(tmp_path / "docs")


@pytest.fixture
def fake_embeddings(scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    """Embeddings from the scripted OpenAI-compatible server (real HTTP, a deterministic bag-of-words
    vector) so subprocess tests do not each load torch; in-process tests use the real model."""
    monkeypatch.setenv("SPARK_AGENTS_EMBEDDINGS_URL", scripted.url)
    monkeypatch.setenv("SPARK_AGENTS_EMBEDDINGS_MODEL", "scripted-embedding")
    return scripted


def snapshot(lib: Library) -> tuple[list[str], int]:
    """What is stored: the source ids and the number of chunk points."""
    ids = [s.id for s in lib.sources()]
    return ids, lib.store.count_chunks()
