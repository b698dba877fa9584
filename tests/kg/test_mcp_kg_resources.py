"""The kg server's resources, prompt and completions through a real MCP client, and a cancelled graph build
that stops (the model is asked about fewer chunks than there are, and the graph stays unchanged)."""

from __future__ import annotations

import asyncio
import base64
import json

import networkx as nx
import pytest
from mcp.types import (
    CancelledNotification,
    CancelledNotificationParams,
    ClientNotification,
    PromptReference,
    ResourceTemplateReference,
    TextContent,
)

from kg.settings import KGSettings
from kg.store import GraphStore
from mcp_servers.base import RESOURCE_NOT_FOUND
from mcp_servers.sdk import SDK2, MCPError, field
from tests.kg.conftest import CORPUS
from tests.support.mcp_client import stdio_session
from tests.support.scripted_server import Reply, ScriptedServer


def test_graph_resources_prompt_and_completions() -> None:
    async def scenario() -> None:
        async with stdio_session("mcp_servers.kg") as session:
            r = await session.call_tool("extract_graph", {"text": CORPUS, "extractor": "offline"})
            assert not field(r, "isError"), r.content
            stats = field(r, "structuredContent")

            graphs = json.loads((await session.read_resource("kg://graphs")).contents[0].text)  # type: ignore
            assert graphs == [{"name": "default", "nodes": stats["nodes"], "edges": stats["edges"]}]
            read = await session.read_resource("kg://graphs/default")  # type: ignore[arg-type]
            assert json.loads(read.contents[0].text)["nodes"] == stats["nodes"]  # type: ignore[union-attr]

            read = await session.read_resource("kg://graphs/default/entities/Guido%20van%20Rossum")  # type: ignore
            facts = json.loads(read.contents[0].text)["facts"]  # type: ignore[union-attr]
            assert ("Python", "created by", "Guido van Rossum") in {
                (f["subject"], f["relation"], f["object"]) for f in facts
            }

            read = await session.read_resource("kg://graphs/default/graphml")  # type: ignore[arg-type]
            g = nx.parse_graphml(read.contents[0].text)  # type: ignore[union-attr]
            assert g.number_of_nodes() == stats["nodes"] and g.number_of_edges() == stats["edges"]

            read = await session.read_resource("kg://graphs/default/view.html")  # type: ignore[arg-type]
            view = read.contents[0]
            assert field(view, "mimeType") == "text/html"
            html = base64.b64decode(view.blob)  # type: ignore[union-attr]
            assert b"<html" in html and b"Guido van Rossum" in html and b"cdn.jsdelivr" not in html

            with pytest.raises(MCPError) as unknown:
                await session.read_resource("kg://graphs/default/entities/Zanzibar")  # type: ignore[arg-type]
            assert unknown.value.error.code == RESOURCE_NOT_FOUND and "Zanzibar" in unknown.value.error.message
            with pytest.raises(MCPError) as nowhere:
                await session.read_resource("kg://graphs/nowhere")  # type: ignore[arg-type]
            assert nowhere.value.error.code == RESOURCE_NOT_FOUND and "nowhere" in nowhere.value.error.message

            entity = ResourceTemplateReference(type="ref/resource", uri="kg://graphs/{collection}/entities/{entity}")
            done = await session.complete(entity, {"name": "entity", "value": "gui"}, {"collection": "default"})
            assert done.completion.values[0] == "Guido van Rossum"
            done = await session.complete(entity, {"name": "collection", "value": "def"})
            assert done.completion.values == ["default"]

            prompt = await session.get_prompt("build_graph", {"text": "Ada Lovelace worked with Charles Babbage."})
            text = prompt.messages[0].content
            assert isinstance(text, TextContent) and "extract_graph" in text.text and "Ada Lovelace" in text.text
            build = PromptReference(type="ref/prompt", name="build_graph")
            done = await session.complete(build, {"name": "collection", "value": ""})
            assert done.completion.values == ["default"]

    asyncio.run(scenario())


def test_a_cancelled_build_stops_and_changes_nothing(scripted: ScriptedServer, monkeypatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_SUPERVISOR_URL", scripted.url)
    monkeypatch.setenv("SPARK_AGENTS_SUPERVISOR_MODEL", "scripted-model")
    monkeypatch.setenv("SPARK_AGENTS_KG_LLM_CONCURRENCY", "1")
    scripted.default = Reply(content='{"triples": []}', delay=0.3)  # each chunk's model call is slow
    paragraphs = [f"Paragraph {i}. " + "The river Vistula flows through Warsaw. " * 40 for i in range(12)]
    text = "\n\n".join(paragraphs)

    async def scenario() -> int:
        async with stdio_session("mcp_servers.kg") as session:
            started = asyncio.Event()
            totals: list[float | None] = []

            async def on_progress(done: float, total: float | None, message: str | None) -> None:
                totals.append(total)
                started.set()

            request_id = getattr(session, "_request_id", None)  # 1.x: the id the next request gets
            call = asyncio.create_task(
                session.call_tool("extract_graph", {"text": text, "extractor": "llm"}, progress_callback=on_progress)
            )
            await asyncio.wait_for(started.wait(), 60)
            if SDK2:  # abandoning the call sends notifications/cancelled (and the server does not answer it)
                call.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await call
            else:  # 1.x sends no cancel itself: one for the request's id, which the server answers cancelled
                cancel = CancelledNotification(params=CancelledNotificationParams(requestId=request_id, reason="test"))
                await session.send_notification(ClientNotification(cancel))
                with pytest.raises(MCPError) as cancelled:
                    await call
                assert "cancelled" in cancelled.value.error.message.lower()
            still = await session.call_tool("graph_stats", {})  # the server keeps serving
            assert not field(still, "isError")
            assert field(still, "structuredContent")["nodes"] == 0  # type: ignore[index]
            assert totals[0] is not None and totals[0] > 3
            return int(totals[0])

    chunks = asyncio.run(scenario())  # the server has exited: what it asked the model is all it asked
    assert len(scripted.chat_requests) < chunks  # the chunks after the cancel were never sent to the model
    assert not GraphStore(None, KGSettings()).exists
