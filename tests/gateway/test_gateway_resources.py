"""The gateway's resources, prompts and completions through a real MCP client over stdio: an answer's citation
read back as a chunk resource, a source id completed from a title, a thread's transcript, the memory plan,
a graph entity — every read and completion forwarded to the resident service, which owns the stores."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.types import PromptReference, ResourceTemplateReference, TextContent

from mcp_servers.base import RESOURCE_NOT_FOUND
from mcp_servers.sdk import MCPError, field
from tests.rag.docs import mixed_folder
from tests.support.mcp_client import stdio_session
from tests.support.scripted_server import ScriptedServer, text, tool


async def read(session: ClientSession, uri: str) -> str:
    return (await session.read_resource(uri)).contents[0].text  # type: ignore[arg-type, union-attr]


def test_citation_chunk_completion_thread_and_plan(
    scripted_roles: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARK_AGENTS_EMBEDDINGS_URL", scripted_roles.url)
    monkeypatch.setenv("SPARK_AGENTS_EMBEDDINGS_MODEL", "scripted-embedding")
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "false")
    docs = mixed_folder(tmp_path / "docs")
    scripted_roles.default = text("Replace them below 1.5 mm [1].")

    async def scenario() -> None:
        async with stdio_session("mcp_servers.gateway") as session:
            templates = {
                field(t, "uriTemplate") for t in field(await session.list_resource_templates(), "resourceTemplates")
            }
            assert {"rag://chunks/{chunk_id}", "kg://graphs/{collection}/entities/{entity}"} <= templates
            assert "spark-agents://threads/{thread_id}" in templates
            listed = {str(r.uri) for r in (await session.list_resources()).resources}
            assert {"rag://sources", "kg://graphs", "spark-agents://threads", "spark-agents://plan"} <= listed

            r = await session.call_tool("rag_ingest_documents", {"paths": [str(docs)]})
            assert not field(r, "isError"), r.content
            scripted_roles.script(tool("search_documents", {"query": "replace brake pads thinner than", "k": 2}))
            r = await session.call_tool("ask_assistant", {"question": "When do I replace brake pads?", "agent": "rag"})
            assert not field(r, "isError"), r.content
            answer = field(r, "structuredContent")
            cited = answer["citations"][0]  # type: ignore[index]

            chunk = json.loads(await read(session, f"rag://chunks/{cited['chunk_id']}"))
            assert chunk["citation"] == cited["citation"]
            # the snippet is the part of this chunk the answer quoted (its lines, whitespace folded; … where it goes on)
            lines = [line.strip("… ") for line in cited["snippet"].splitlines() if line.strip("… ")]
            assert lines and all(line in " ".join(chunk["text"].split()) for line in lines), (cited, chunk["text"])
            assert "brake pads" in cited["snippet"]

            manual = next(s for s in json.loads(await read(session, "rag://sources"))["sources"] if s["pages"] == 2)
            prompt = PromptReference(type="ref/prompt", name="ask_documents")
            done = await session.complete(prompt, {"name": "source_id", "value": "bicycle"})
            assert done.completion.values == [manual["id"]]
            chunk_ref = ResourceTemplateReference(type="ref/resource", uri="rag://chunks/{chunk_id}")
            done = await session.complete(chunk_ref, {"name": "chunk_id", "value": f"{manual['id']}:"})
            assert cited["chunk_id"] in done.completion.values

            tid = answer["thread_id"]  # type: ignore[index]
            threads = json.loads(await read(session, "spark-agents://threads"))
            assert [t["id"] for t in threads] == [tid]
            transcript = await read(session, f"spark-agents://threads/{tid}")
            assert "When do I replace brake pads?" in transcript and answer["answer"] in transcript  # type: ignore
            assert f"rag://chunks/{cited['chunk_id']}" in transcript
            thread_ref = ResourceTemplateReference(type="ref/resource", uri="spark-agents://threads/{thread_id}")
            done = await session.complete(thread_ref, {"name": "thread_id", "value": tid[:3]})
            assert done.completion.values == [tid]

            plan = json.loads(await read(session, "spark-agents://plan"))
            assert plan  # the service's own plan (its shape is serving's)

            r = await session.call_tool("kg_extract_graph", {"text": "Ada Lovelace worked with Charles Babbage."})
            assert not field(r, "isError"), r.content
            facts = json.loads(await read(session, "kg://graphs/default/entities/Ada%20Lovelace"))["facts"]
            assert facts[0]["object"] == "Charles Babbage"
            entity_ref = ResourceTemplateReference(
                type="ref/resource", uri="kg://graphs/{collection}/entities/{entity}"
            )
            done = await session.complete(entity_ref, {"name": "entity", "value": "char"}, {"collection": "default"})
            assert done.completion.values == ["Charles Babbage"]

            for uri in (f"rag://chunks/{manual['id']}:999", "spark-agents://threads/nope", "kg://graphs/nowhere"):
                with pytest.raises(MCPError) as missing:
                    await session.read_resource(uri)  # type: ignore[arg-type]
                assert missing.value.error.code == RESOURCE_NOT_FOUND, uri
            with pytest.raises(MCPError) as bad:
                await session.read_resource("rag://chunks/not-a-chunk")  # type: ignore[arg-type]
            assert "is not a chunk id" in bad.value.error.message

            prompts = {p.name for p in (await session.list_prompts()).prompts}
            assert {"ask_documents", "explain_error", "build_graph"} <= prompts
            got = await session.get_prompt("ask_documents", {"question": "How thin?"})
            assert isinstance(got.messages[0].content, TextContent)
            assert "rag_search_documents" in got.messages[0].content.text  # the gateway's name for the tool
            await session.set_logging_level("debug")  # answered (legacy clients' logging)

    asyncio.run(scenario())
