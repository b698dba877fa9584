"""What every server declares, read in memory through the SDK's client: each tool's annotations and output
schema (results are structured), the product's name, and the prompts' arguments."""

from __future__ import annotations

import asyncio
import importlib

import pytest
from mcp.types import TextContent

from mcp_servers.sdk import field
from tests.support.mcp_client import memory_session

SERVERS = ["gateway", "rag", "kg", "code", "vision"]


@pytest.mark.parametrize("server", SERVERS)
def test_every_tool_is_annotated_and_structured(server: str) -> None:
    module = importlib.import_module(f"mcp_servers.{server}")

    async def scenario() -> None:
        async with memory_session(module.mcp) as session:
            tools = (await session.list_tools()).tools
            assert tools
            for t in tools:
                assert t.annotations is not None and field(t.annotations, "readOnlyHint") is not None, t.name
                assert field(t.annotations, "openWorldHint") is False, t.name
                assert field(t, "outputSchema") and field(t, "outputSchema").get("properties"), t.name

    asyncio.run(scenario())


def test_explain_error_prompt_through_the_code_server() -> None:
    from mcp_servers.code import mcp

    async def scenario() -> None:
        async with memory_session(mcp) as session:
            prompts = {p.name: p for p in (await session.list_prompts()).prompts}
            args = {a.name: a.required for a in prompts["explain_error"].arguments or []}
            assert args == {"error": True, "code": False, "language": False}
            got = await session.get_prompt("explain_error", {"error": "ZeroDivisionError: division by zero"})
            content = got.messages[0].content
            assert isinstance(content, TextContent)
            assert "ZeroDivisionError" in content.text and "explain_error" in content.text
            with pytest.raises(Exception, match="error"):
                await session.get_prompt("explain_error", {})  # a required argument missing: one clear error

    asyncio.run(scenario())
