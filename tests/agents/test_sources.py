"""A graph built from an ingested document through the service's MCP pool: the rag server, the document
store's one owner, reads the chunks and keeps running; the kg server extracts from what it is handed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agents.mcp_pool import MCPPool
from agents.settings import AgentSettings
from agents.sources import with_source_chunks
from kg.settings import KGSettings
from kg.store import GraphStore
from serving.settings import ServingSettings
from tests.kg.conftest import CORPUS


def test_a_graph_from_a_source_gets_its_chunks_from_the_rag_server(tmp_path: Path) -> None:
    doc = tmp_path / "curie.txt"
    doc.write_text(CORPUS)

    async def scenario() -> None:
        pool = MCPPool(AgentSettings(), ServingSettings().log_dir, prepare=with_source_chunks)
        try:
            ingested = await pool.call("rag", "ingest_documents", {"paths": [str(doc)]})
            assert ingested.structured and not ingested.is_error, ingested.text
            source_id = ingested.structured["added"][0]["id"]
            built = await pool.call("kg", "extract_graph", {"source_id": source_id[:8], "extractor": "offline"})
            assert not built.is_error, built.text
            assert built.structured and built.structured["edges_added"] > 5
            found = await pool.call("rag", "search_documents", {"query": "Where was Marie Curie born?"})
            assert not found.is_error
            assert pool.starts == {"rag": 1, "kg": 1}  # nothing was closed to free the store

            missing = await pool.call("kg", "extract_graph", {"source_id": "no-such-source"})
            assert missing.is_error and "no-such-source" in missing.text and "sources list" in missing.text
        finally:
            await pool.aclose()

        edges = GraphStore(None, KGSettings()).load().graph.edges(data=True)
        assert {d["source_id"] for _, _, d in edges} == {source_id}  # the full id, though a prefix was given
        assert all(d["chunk_id"].startswith(f"{source_id}:") for _, _, d in edges)

    asyncio.run(scenario())
