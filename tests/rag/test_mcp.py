"""The rag MCP server through a real MCP client, over stdio and over streamable HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mcp import ClientSession

from mcp_servers.sdk import field
from tests.support.mcp_client import http_server, http_session, stdio_session

TOOLS = {"ingest_documents", "search_documents", "list_sources", "delete_source"}


async def exercise(session: ClientSession, folder: Path) -> None:
    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert set(tools) >= TOOLS
    assert field(tools["search_documents"], "inputSchema")["properties"]["k"]["maximum"] == 50
    assert "hits" in field(tools["search_documents"], "outputSchema")["properties"]  # type: ignore[index]

    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    r = await session.call_tool("ingest_documents", {"paths": [str(folder)]}, progress_callback=on_progress)
    assert not field(r, "isError"), r.content
    report: dict[str, Any] = field(r, "structuredContent")  # type: ignore[assignment]
    assert len(report["added"]) == 5 and report["skipped"] == []
    assert progress and progress[-1] == 5

    r = await session.call_tool("list_sources", {})
    sources = field(r, "structuredContent")["sources"]  # type: ignore[index]
    by_name = {Path(s["path"]).name: s for s in sources}
    assert by_name["manual.pdf"]["pages"] == 2 and by_name["manual.pdf"]["type"] == "pdf"

    r = await session.call_tool("search_documents", {"query": "replace brake pads thinner than", "k": 3})
    hits = field(r, "structuredContent")["hits"]  # type: ignore[index]
    top = hits[0]
    assert top["page"] == 2 and top["citation"] == "Bicycle maintenance manual (manual.pdf), p. 2"
    assert {"text", "source_id", "page", "score", "citation", "path", "title"} <= set(top)

    only = by_name["greenhouse.md"]["id"]
    r = await session.call_tool("search_documents", {"query": "water", "source_ids": [only]})
    assert {h["source_id"] for h in field(r, "structuredContent")["hits"]} == {only}  # type: ignore[index]

    r = await session.call_tool("search_documents", {"query": ""})
    assert field(r, "isError") and "The query is empty" in r.content[0].text  # type: ignore[union-attr]
    r = await session.call_tool("search_documents", {"query": "x", "k": 500})
    assert field(r, "isError")

    r = await session.call_tool("delete_source", {"source_id": only})
    assert field(r, "structuredContent")["deleted"]["id"] == only  # type: ignore[index]
    r = await session.call_tool("delete_source", {"source_id": only})
    assert field(r, "isError") and "No source has the id" in r.content[0].text  # type: ignore[union-attr]
    r = await session.call_tool("list_sources", {})
    assert len(field(r, "structuredContent")["sources"]) == 4  # type: ignore[index]


def test_stdio(fake_embeddings: object, mixed: Path) -> None:
    async def main() -> None:
        async with stdio_session("mcp_servers.rag") as session:
            await exercise(session, mixed)

    asyncio.run(main())


def test_http(fake_embeddings: object, mixed: Path) -> None:
    async def main(url: str) -> None:
        async with http_session(url) as session:
            await exercise(session, mixed)

    with http_server("mcp_servers.rag") as url:
        asyncio.run(main(url))
