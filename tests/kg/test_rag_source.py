"""Building a graph from an ingested RAG source: chunk ids and source ids flow into edge provenance."""

from __future__ import annotations

import pytest

from tests.kg.conftest import CORPUS
from tests.support.scripted_server import fake_embedding

library = pytest.importorskip("rag.library")


class HashEmbedder:
    """A deterministic stand-in for the embedding model (the graph builder never embeds)."""

    name = "hash-64"
    dimension = 64

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [fake_embedding(t) for t in texts]


def test_build_from_rag_source_keeps_chunk_provenance(tmp_path):
    from kg.build import build_graph, source_chunks
    from kg.query import paths
    from kg.store import GraphStore

    doc = tmp_path / "curie.txt"
    doc.write_text(CORPUS)
    with library.Library(embedder=HashEmbedder()) as lib:
        lib.ingest([doc])
        source = lib.sources()[0]
        rag_chunk_ids = {c.chunk_id for c in lib.chunks(source.id)}
    chunks = source_chunks(source.id)
    assert {c.chunk_id for c in chunks} == rag_chunk_ids
    report = build_graph(chunks, collection="docs")
    assert report.source_ids == [source.id] and report.edges_added > 5
    kg = GraphStore("docs").load()
    for _u, _v, d in kg.graph.edges(data=True):
        assert d["source_id"] == source.id and d["chunk_id"] in rag_chunk_ids
    assert paths(kg, "Warsaw", "Paris").paths


def test_unknown_source_is_a_clear_error():
    from kg.build import source_chunks
    from kg.errors import SourceUnavailable

    with pytest.raises(SourceUnavailable, match="no-such-source"):
        source_chunks("no-such-source")


def test_an_ingested_html_table_becomes_facts_with_units(tmp_path):
    """HTML tables reach the chunks as Markdown rows (cells apart), so the graph reads them as a spec table."""
    from kg.build import build_graph, source_chunks
    from kg.store import GraphStore

    doc = tmp_path / "aurora.html"
    doc.write_text(
        "<html><head><title>Aurora AX-7</title></head><body><h1>Aurora AX-7 reference</h1><h2>Hardware</h2>"
        "<table><tr><th>Component</th><th>Specification</th></tr><tr><td>Memory</td><td>96 GB</td></tr>"
        "<tr><td>Memory bandwidth</td><td>204 GB/s</td></tr></table></body></html>"
    )
    with library.Library(embedder=HashEmbedder()) as lib:
        source = lib.ingest([doc]).added[0]
    chunks = source_chunks(source.id)
    assert "| Memory bandwidth | 204 GB/s |" in chunks[0].text
    build_graph(chunks, collection="html")
    facts = {(u, d["relation"], v) for u, v, d in GraphStore("html").load().graph.edges(data=True)}
    assert ("Aurora AX-7", "memory bandwidth", "204 GB/s") in facts
    assert ("Aurora AX-7", "memory", "96 GB") in facts
