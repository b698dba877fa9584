"""Building a graph from an ingested RAG source's chunks (as the documents server's rag://sources/{id}/chunks
gives them): chunk ids and source ids flow into edge provenance."""

from __future__ import annotations

import asyncio

import pytest

from kg.settings import KGSettings
from mcp_servers.sdk import field
from rag.settings import RagSettings
from serving.settings import ServingSettings
from tests.kg.conftest import CORPUS
from tests.support.mcp_client import stdio_session
from tests.support.scripted_server import fake_embedding

library = pytest.importorskip("rag.library")
from rag.resources import source_chunks as rag_source_chunks  # noqa: E402


def passages(lib, source_id: str) -> list[dict]:
    """The source's chunks as the rag server's resource serialises them."""
    return [c.model_dump(mode="json") for c in rag_source_chunks(lib, source_id).chunks]


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
    with library.Library(RagSettings(), ServingSettings(), embedder=HashEmbedder()) as lib:
        lib.ingest([doc])
        source = lib.sources()[0]
        rag_chunk_ids = {c.chunk_id for c in lib.chunks(source.id)}
        chunks = source_chunks(source.id, passages(lib, source.id))
    assert {c.chunk_id for c in chunks} == rag_chunk_ids
    report = build_graph(chunks, collection="docs", settings=KGSettings())
    assert report.source_ids == [source.id] and report.edges_added > 5
    kg = GraphStore("docs", KGSettings()).load()
    for _u, _v, d in kg.graph.edges(data=True):
        assert d["source_id"] == source.id and d["chunk_id"] in rag_chunk_ids
    assert paths(kg, "Warsaw", "Paris").paths


def test_a_source_without_chunks_is_a_clear_error():
    from kg.build import source_chunks
    from kg.errors import SourceUnavailable

    with pytest.raises(SourceUnavailable, match="no-such-source"):
        source_chunks("no-such-source", [])


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
    with library.Library(RagSettings(), ServingSettings(), embedder=HashEmbedder()) as lib:
        source = lib.ingest([doc]).added[0]
        chunks = source_chunks(source.id, passages(lib, source.id))
    assert "| Memory bandwidth | 204 GB/s |" in chunks[0].text
    build_graph(chunks, collection="html", settings=KGSettings())
    facts = {(u, d["relation"], v) for u, v, d in GraphStore("html", KGSettings()).load().graph.edges(data=True)}
    assert ("Aurora AX-7", "memory bandwidth", "204 GB/s") in facts
    assert ("Aurora AX-7", "memory", "96 GB") in facts


def test_the_kg_server_builds_from_chunks_it_is_given_and_never_opens_the_document_store(tmp_path):
    """This process holds the embedded store (one process at a time) all along: the kg server extracts from
    the chunks handed to it, and without them says where they come from."""
    doc = tmp_path / "curie.txt"
    doc.write_text(CORPUS)
    with library.Library(RagSettings(), ServingSettings(), embedder=HashEmbedder()) as lib:
        source = lib.ingest([doc]).added[0]
        given = passages(lib, source.id)

        async def scenario() -> None:
            async with stdio_session("mcp_servers.kg") as session:
                r = await session.call_tool("extract_graph", {"source_id": source.id, "chunks": given})
                assert not field(r, "isError"), r.content
                assert (
                    field(r, "structuredContent")["chunks"] == len(given)
                    and field(r, "structuredContent")["edges_added"] > 5
                )
                r = await session.call_tool("extract_graph", {"source_id": source.id})
                assert field(r, "isError") and "needs its chunks" in r.content[0].text

        asyncio.run(scenario())
    from kg.store import GraphStore

    cited = {d["chunk_id"] for _, _, d in GraphStore(None, KGSettings()).load().graph.edges(data=True)}
    assert cited <= {p["chunk_id"] for p in given}
