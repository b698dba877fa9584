from __future__ import annotations

from pathlib import Path

import pytest

from rag.settings import RagSettings
from serving.settings import ServingSettings
from tests.support.agent_fixtures import fresh_runtime, llm_routing  # noqa: F401 - used by the tests here


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
    with Library(RagSettings(), ServingSettings()) as library:
        report = library.ingest([doc])
    assert library and report
    return doc
