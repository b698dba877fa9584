"""The kg MCP server through a real MCP client, over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import os

from tests.kg.conftest import CORPUS
from tests.support.mcp_client import http_server, http_session, stdio_session


async def _exercise(session) -> None:
    tools = {t.name for t in (await session.list_tools()).tools}
    assert {"extract_graph", "query_graph", "graph_stats", "render_graph"} <= tools

    r = await session.call_tool("extract_graph", {"text": CORPUS, "extractor": "offline"})
    assert not r.isError, r.content
    assert r.structuredContent["edges_added"] > 10 and r.structuredContent["collection"] == "default"

    r = await session.call_tool("query_graph", {"mode": "path", "entity": "Warsaw", "target": "France"})
    assert not r.isError, r.content
    assert "Paris —capital of→ France" in r.structuredContent["text"]
    assert r.structuredContent["facts"][0]["source_id"].startswith("text:")

    r = await session.call_tool("query_graph", {"mode": "neighbours", "entity": "python"})
    assert r.structuredContent["facts"][0]["object"] == "Guido van Rossum"

    r = await session.call_tool("query_graph", {"mode": "neighbours", "entity": "Rossum"})  # a unique partial name
    assert r.structuredContent["matched"] == ["Guido van Rossum"]
    r = await session.call_tool("query_graph", {"mode": "neighbours", "entity": "Curie"})  # two Curies
    assert not r.isError and sorted(r.structuredContent["matched"]) == ["Marie Curie", "Pierre Curie"]
    assert "ambiguous" in r.structuredContent["text"]
    r = await session.call_tool("query_graph", {"mode": "path", "entity": "Curie", "target": "Paris"})
    assert r.isError and "Marie Curie" in r.content[0].text and "Pierre Curie" in r.content[0].text

    r = await session.call_tool("query_graph", {"mode": "subgraph", "question": "Where was Pierre Curie born?"})
    assert ("Pierre Curie", "born in", "Paris") in {
        (f["subject"], f["relation"], f["object"]) for f in r.structuredContent["facts"]
    }

    r = await session.call_tool("query_graph", {"entity": "Warsaw", "target": "Paris"})  # mode inferred
    assert r.structuredContent["mode"] == "path" and r.structuredContent["matched"] == ["Warsaw", "Paris"]

    r = await session.call_tool("query_graph", {"mode": "global", "question": "Who created Python?", "top": 1})
    assert not r.isError, r.content
    out = r.structuredContent
    assert out["mode"] == "global" and len(out["communities"]) == 1 and "Python" in out["communities"][0]["entities"]
    assert out["communities"][0]["citations"] == list(range(1, len(out["facts"]) + 1))
    assert out["facts"][0]["chunk_id"] and "Python created by Guido van Rossum" in out["text"]
    assert "Sources:\n[1] " in out["text"]
    r = await session.call_tool("query_graph", {"mode": "global"})
    assert r.isError and "needs question" in r.content[0].text

    r = await session.call_tool("graph_stats", {})
    assert r.structuredContent["nodes"] > 10

    r = await session.call_tool("render_graph", {"max_nodes": 5})
    assert not r.isError and r.structuredContent["nodes"] == 5
    assert os.path.getsize(r.structuredContent["path"]) > 100_000

    r = await session.call_tool("query_graph", {"mode": "neighbours", "entity": "Zanzibar"})
    assert r.isError and "No entity named 'Zanzibar'" in r.content[0].text
    r = await session.call_tool("query_graph", {"mode": "path", "entity": "Warsaw", "target": "Berlin"})
    assert r.isError and "No path between" in r.content[0].text


def test_kg_server_over_stdio():
    async def run() -> None:
        async with stdio_session("mcp_servers.kg") as session:
            await _exercise(session)

    asyncio.run(run())


def test_kg_server_over_http():
    async def run(url: str) -> None:
        async with http_session(url) as session:
            r = await session.call_tool("extract_graph", {"text": "Ada Lovelace worked with Charles Babbage."})
            assert not r.isError and r.structuredContent["edges_added"] == 1
            r = await session.call_tool("query_graph", {"mode": "neighbours", "entity": "ada lovelace"})
            assert r.structuredContent["facts"][0]["object"] == "Charles Babbage"

    with http_server("mcp_servers.kg") as url:
        asyncio.run(run(url))
