from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.runtime import reset_runtime


@pytest.fixture(autouse=True)
def fresh_runtime() -> Iterator[None]:
    """Each test gets its own runtime (graph, checkpointer, MCP sessions), closed afterwards."""
    reset_runtime()
    yield
    reset_runtime()


@pytest.fixture
def llm_routing(monkeypatch: pytest.MonkeyPatch, scripted_roles: object) -> object:
    """Behave like gpt-oss: the supervisor model routes with handoff tool calls."""
    monkeypatch.setenv("SPARK_AGENTS_AGENT_ROUTING", "llm")
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "false")
    return scripted_roles


@pytest.fixture
def warranty_doc(tmp_path: Path) -> Path:
    """One ingested document in the test's data directory (ingested before the runtime opens the store)."""
    from rag.library import Library

    doc = tmp_path / "docs" / "warranty.md"
    doc.parent.mkdir()
    doc.write_text(
        "# Warranty\n\nThe Spark Widget carries a warranty period of three years from the date of purchase.\n\n"
        "# Returns\n\nReturns are accepted within 30 days with the original receipt.\n"
    )
    with Library() as library:
        report = library.ingest([doc])
    assert library and report
    return doc
