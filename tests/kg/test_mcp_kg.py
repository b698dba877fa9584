"""The kg MCP server through a real MCP client, over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import os

from mcp_servers.sdk import field
from tests.kg.conftest import CORPUS
from tests.support.mcp_client import http_server, http_session, stdio_session


async def _exercise(session) -> None:
    tools = {t.name for t in (await session.list_tools()).tools}
    assert {"extract_graph", "query_graph", "graph_stats", "render_graph"} <= tools

    r = await session.call_tool("extract_graph", {"text": CORPUS, "extractor": "offline"})
    assert not field(r, "isError"), r.content
    assert (
        field(r, "structuredContent")["edges_added"] > 10 and field(r, "structuredContent")["collection"] == "default"
    )

    r = await session.call_tool("query_graph", {"mode": "path", "entity": "Warsaw", "target": "France"})
    assert not field(r, "isError"), r.content
    assert "Paris —capital of→ France" in field(r, "structuredContent")["text"]
    assert field(r, "structuredContent")["facts"][0]["source_id"].startswith("text:")

    r = await session.call_tool("query_graph", {"mode": "neighbours", "entity": "python"})
    assert field(r, "structuredContent")["facts"][0]["object"] == "Guido van Rossum"

    r = await session.call_tool("query_graph", {"mode": "neighbours", "entity": "Rossum"})  # a unique partial name
    assert field(r, "structuredContent")["matched"] == ["Guido van Rossum"]
    r = await session.call_tool("query_graph", {"mode": "neighbours", "entity": "Curie"})  # two Curies
    assert not field(r, "isError") and sorted(field(r, "structuredContent")["matched"]) == [
        "Marie Curie",
        "Pierre Curie",
    ]
    assert "ambiguous" in field(r, "structuredContent")["text"]
    r = await session.call_tool("query_graph", {"mode": "path", "entity": "Curie", "target": "Paris"})
    assert field(r, "isError") and "Marie Curie" in r.content[0].text and "Pierre Curie" in r.content[0].text

    r = await session.call_tool("query_graph", {"mode": "subgraph", "question": "Where was Pierre Curie born?"})
    assert ("Pierre Curie", "born in", "Paris") in {
        (f["subject"], f["relation"], f["object"]) for f in field(r, "structuredContent")["facts"]
    }

    r = await session.call_tool("query_graph", {"entity": "Warsaw", "target": "Paris"})  # mode inferred
    assert field(r, "structuredContent")["mode"] == "path" and field(r, "structuredContent")["matched"] == [
        "Warsaw",
        "Paris",
    ]

    r = await session.call_tool("query_graph", {"mode": "global", "question": "Who created Python?", "top": 1})
    assert not field(r, "isError"), r.content
    out = field(r, "structuredContent")
    assert out["mode"] == "global" and len(out["communities"]) == 1 and "Python" in out["communities"][0]["entities"]
    assert out["communities"][0]["citations"] == list(range(1, len(out["facts"]) + 1))
    assert out["facts"][0]["chunk_id"] and "Python created by Guido van Rossum" in out["text"]
    assert "Sources:\n[1] " in out["text"]
    r = await session.call_tool("query_graph", {"mode": "global"})
    assert field(r, "isError") and "needs question" in r.content[0].text

    r = await session.call_tool("graph_stats", {})
    assert field(r, "structuredContent")["nodes"] > 10

    r = await session.call_tool("render_graph", {"max_nodes": 5})
    assert not field(r, "isError") and field(r, "structuredContent")["nodes"] == 5
    assert os.path.getsize(field(r, "structuredContent")["path"]) > 100_000

    r = await session.call_tool("query_graph", {"mode": "neighbours", "entity": "Zanzibar"})
    assert field(r, "isError") and "No entity named 'Zanzibar'" in r.content[0].text
    r = await session.call_tool("query_graph", {"mode": "path", "entity": "Warsaw", "target": "Berlin"})
    assert field(r, "isError") and "No path between" in r.content[0].text


def test_kg_server_over_stdio():
    async def run() -> None:
        async with stdio_session("mcp_servers.kg") as session:
            await _exercise(session)

    asyncio.run(run())


def test_kg_server_over_http():
    async def run(url: str) -> None:
        async with http_session(url) as session:
            r = await session.call_tool("extract_graph", {"text": "Ada Lovelace worked with Charles Babbage."})
            assert not field(r, "isError") and field(r, "structuredContent")["edges_added"] == 1
            r = await session.call_tool("query_graph", {"mode": "neighbours", "entity": "ada lovelace"})
            assert field(r, "structuredContent")["facts"][0]["object"] == "Charles Babbage"

    with http_server("mcp_servers.kg") as url:
        asyncio.run(run(url))
