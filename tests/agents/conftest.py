from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.agent_fixtures import fresh_runtime, ingest, llm_routing, warranty_file  # noqa: F401 - fixtures


@pytest.fixture
def warranty_doc(tmp_path: Path) -> Path:
    """One ingested document in the test's data directory (ingested before the runtime opens the store)."""
    doc = warranty_file(tmp_path / "docs")
    ingest(doc)
    return doc
