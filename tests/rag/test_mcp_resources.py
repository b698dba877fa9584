"""The rag server's resources, prompts, completions and logging through a real MCP client over stdio: a
search hit's chunk read back as a resource (the citation's target), a source id completed from its title."""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession
from mcp.types import LoggingMessageNotificationParams, PromptReference, ResourceTemplateReference, TextContent

from mcp_servers.base import RESOURCE_NOT_FOUND
from mcp_servers.sdk import MCPError, field
from tests.support.mcp_client import http_server, post_initialize, stdio_session


async def read_text(session: ClientSession, uri: str) -> str:
    contents = (await session.read_resource(uri)).contents  # type: ignore[arg-type]
    assert len(contents) == 1
    return contents[0].text  # type: ignore[union-attr]


def test_resources_prompts_and_completions(fake_embeddings: object, mixed: Path) -> None:
    (mixed / "empty.txt").write_text("", encoding="utf-8")  # skipped: reported as a log notification
    logged: list[LoggingMessageNotificationParams] = []

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        logged.append(params)

    async def scenario() -> None:
        async with stdio_session("mcp_servers.rag", logging_callback=on_log) as session:
            await session.set_logging_level("info")
            ingested = await session.call_tool("ingest_documents", {"paths": [str(mixed)]})
            assert not field(ingested, "isError"), ingested.content
            assert any("empty.txt" in str(m.data) and m.level == "warning" for m in logged)

            templates = {
                field(t, "uriTemplate") for t in field(await session.list_resource_templates(), "resourceTemplates")
            }
            assert {"rag://chunks/{chunk_id}", "rag://sources/{source_id}/text"} <= templates
            listed = json.loads(await read_text(session, "rag://sources"))["sources"]
            manual = next(s for s in listed if s["path"].endswith("manual.pdf"))

            # A hit's citation names its chunk: reading the chunk gives the same text and citation.
            r = await session.call_tool("search_documents", {"query": "replace brake pads thinner than", "k": 1})
            hit: dict[str, Any] = field(r, "structuredContent")["hits"][0]  # type: ignore[index]
            chunk = json.loads(await read_text(session, f"rag://chunks/{hit['chunk_id']}"))
            assert chunk["text"] == hit["text"] and chunk["citation"] == hit["citation"]
            assert chunk["page"] == hit["page"] == 2

            outline = json.loads(await read_text(session, f"rag://sources/{manual['id']}"))
            assert outline["pages"] == [1, 2] and hit["chunk_id"] in outline["chunk_ids"]
            page2 = await read_text(session, f"rag://sources/{manual['id']}/pages/2")
            assert "1.5 mm" in page2 and "300 km" not in page2
            whole = await read_text(session, f"rag://sources/{manual['id']}/text")
            assert "300 km" in whole and "1.5 mm" in whole
            chunks = json.loads(await read_text(session, f"rag://sources/{manual['id']}/chunks"))
            assert chunks["source"]["id"] == manual["id"]
            assert [c["chunk_id"] for c in chunks["chunks"]] == outline["chunk_ids"]  # what a graph cites

            car = next(s for s in listed if s["path"].endswith("car.docx"))
            sections = json.loads(await read_text(session, f"rag://sources/{car['id']}"))["sections"]
            tyres = next(s for s in sections if "Tyres" in s)
            quoted = tyres.replace(" ", "%20").replace(">", "%3E")
            section = await read_text(session, f"rag://sources/{car['id']}/sections/{quoted}")
            assert "10000 km" in section and "15000 km" not in section

            # Bad input: one clear error each, and the server keeps serving.
            with pytest.raises(MCPError) as missing:
                await session.read_resource(f"rag://chunks/{manual['id']}:999")  # type: ignore[arg-type]
            assert missing.value.error.code == RESOURCE_NOT_FOUND and "no chunk 999" in missing.value.error.message
            with pytest.raises(MCPError) as malformed:
                await session.read_resource("rag://chunks/not-a-chunk")  # type: ignore[arg-type]
            assert "is not a chunk id" in malformed.value.error.message
            with pytest.raises(MCPError) as unknown:
                await session.read_resource("rag://sources/0000000000000000/text")  # type: ignore[arg-type]
            assert unknown.value.error.code == RESOURCE_NOT_FOUND
            assert "No source has the id" in unknown.value.error.message

            # Completions: a source id from part of its title, for a template and for a prompt argument.
            template = ResourceTemplateReference(type="ref/resource", uri="rag://chunks/{chunk_id}")
            done = await session.complete(template, {"name": "chunk_id", "value": "bicycle"})
            assert done.completion.values == [f"{manual['id']}:"]
            done = await session.complete(template, {"name": "chunk_id", "value": f"{manual['id']}:"})
            assert set(done.completion.values) == set(outline["chunk_ids"])
            prompt = PromptReference(type="ref/prompt", name="ask_documents")
            done = await session.complete(prompt, {"name": "source_id", "value": "Bicycle"})
            assert done.completion.values == [manual["id"]]
            done = await session.complete(prompt, {"name": "source_id", "value": manual["id"][:5]})
            assert manual["id"] in done.completion.values
            page = ResourceTemplateReference(type="ref/resource", uri="rag://sources/{source_id}/pages/{page}")
            done = await session.complete(page, {"name": "page", "value": ""}, {"source_id": manual["id"]})
            assert done.completion.values == ["1", "2"]
            done = await session.complete(prompt, {"name": "question", "value": "x"})  # no completer: empty
            assert done.completion.values == []

            prompts = {p.name: p for p in (await session.list_prompts()).prompts}
            assert {a.name for a in prompts["ask_documents"].arguments or []} == {"question", "source_id"}
            got = await session.get_prompt("ask_documents", {"question": "How thin?", "source_id": manual["id"]})
            text = got.messages[0].content
            assert isinstance(text, TextContent) and "search_documents" in text.text and manual["id"] in text.text

            r = await session.call_tool("delete_source", {"source_id": manual["id"]})
            assert not field(r, "isError")
            with pytest.raises(MCPError):
                await session.read_resource(f"rag://chunks/{hit['chunk_id']}")  # type: ignore[arg-type]

    asyncio.run(scenario())


def test_server_info_names_the_product() -> None:
    with http_server("mcp_servers.rag") as url:
        r = post_initialize(url)
    assert r.status_code == 200
    result = next(json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: "))["result"]
    assert result["serverInfo"] == {"name": "spark-agents-rag", "version": importlib.metadata.version("spark-agents")}
    assert {"logging", "completions", "resources", "prompts", "tools"} <= set(result["capabilities"])
