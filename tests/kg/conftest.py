"""Shared knowledge-graph test data."""

from __future__ import annotations

import pytest

from kg.build import build_graph, text_chunks
from kg.settings import KGSettings
from kg.store import GraphStore

CORPUS = """Marie Curie was born in Warsaw. She studied at the University of Paris and married Pierre Curie.
Pierre Curie was born in Paris. The Eiffel Tower is located in Paris.
Paris, the capital of France, hosted the Exposition Universelle.
Alan Turing worked at the University of Manchester and died in Wilmslow.
Python was created by Guido van Rossum. Guido van Rossum worked at Google.
Acme Corp acquired Widget Inc. Widget Inc is headquartered in Berlin."""


@pytest.fixture
def built() -> GraphStore:
    """The default collection built from CORPUS with the offline extractor."""
    build_graph(
        text_chunks(CORPUS, source_id="doc:corpus", settings=KGSettings()), extractor="offline", settings=KGSettings()
    )
    return GraphStore(None, KGSettings())


@pytest.fixture(autouse=True)
def _fresh_format_memory():
    """Which response_format a server accepts is learned per process; tests each start fresh."""
    from kg import llm_extract

    llm_extract._FORMAT_PREF.clear()
    yield
    llm_extract._FORMAT_PREF.clear()
