"""A citation shows the line that answers, in the turn's final event (what the API, the UI and `ask` show)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.wire import FinalEvent
from rag.settings import RagSettings
from serving.settings import ServingSettings
from tests.support.scripted_server import ScriptedServer, tool
from tests.support.turns import run_turn

SPEC = Path(__file__).resolve().parents[2] / "examples" / "documents" / "dgx-spark.md"
QUESTION = "What memory bandwidth does the DGX Spark have?"


@pytest.fixture
def spec_ingested() -> None:
    from rag.library import Library

    with Library(RagSettings(), ServingSettings()) as library:
        assert library.ingest([SPEC]).added


def test_the_cited_snippet_holds_the_quoted_row(
    scripted_roles: ScriptedServer, monkeypatch: pytest.MonkeyPatch, spec_ingested: None
) -> None:
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "true")
    scripted_roles.script(tool("search_documents", {"query": "spark"}))
    final = list(run_turn(QUESTION, agent="rag"))[-1]
    assert isinstance(final, FinalEvent), final
    snippets = {c["label"]: c["snippet"].splitlines() for c in final.citations}
    assert any("Memory bandwidth: 273 GB/s" in lines for lines in snippets.values()), snippets
    # every passage the answer quotes is in the snippet of the citation it names
    quotes = [line[2:].split(" — ")[0] for line in final.text.splitlines() if line.startswith("- [")]
    assert quotes
    for quote in quotes:
        label, passage = quote[1:].split("] ", 1)
        for part in passage.split(" … "):
            assert any(part in line for line in snippets[label]), (part, snippets[label])
