"""mcp_servers/sdk.py, the one module that touches the MCP SDK's internals: what it relies on is pinned here,
so a new SDK that moves any of it fails these tests instead of silently skipping the compiled validation."""

from __future__ import annotations

import inspect

import anyio
import mcp.server.lowlevel.server as lowlevel
import pytest
from mcp import ClientSession
from mcp.client.session import ClientSession as SdkClientSession
from mcp.server.fastmcp import FastMCP
from mcp.shared.memory import create_client_server_memory_streams
from mcp.types import CallToolResult
from pydantic import BaseModel

from core import schemas
from mcp_servers.sdk import ValidatingSession, compile_server_schemas_once, resource_template


class Out(BaseModel):
    n: int


def toy_server(bad: bool = False) -> FastMCP:
    server = FastMCP("toy")

    @server.tool()
    def count() -> Out:
        return Out(n=3)

    @server.resource("toy://items/{item}")
    def item(item: str) -> str:
        return item

    if bad:  # a tool whose declared output schema its result breaks (as a buggy server would send it)
        server._tool_manager._tools["count"].output_schema = {  # test-only reach into a toy server
            "type": "object",
            "properties": {"n": {"type": "string"}},
            "required": ["n"],
        }
    return server


def test_what_the_adapter_relies_on_is_still_there() -> None:
    # the low-level server validates tool output through a module it names `jsonschema`
    assert "jsonschema.validate(" in inspect.getsource(lowlevel.Server)
    compile_server_schemas_once()
    assert lowlevel.jsonschema is schemas
    # the client session's hook and its schema cache
    hook = SdkClientSession._validate_tool_result
    assert inspect.iscoroutinefunction(hook) and list(inspect.signature(hook).parameters) == ["self", "name", "result"]
    assert "_tool_output_schemas" in inspect.getsource(SdkClientSession.__init__)
    assert issubclass(ValidatingSession, ClientSession)
    # FastMCP's resource templates, by URI template
    template = resource_template(toy_server(), "toy://items/{item}")
    assert template is not None and template.uri_template == "toy://items/{item}"
    assert resource_template(toy_server(), "toy://nothing/{x}") is None


async def _call(server: FastMCP) -> CallToolResult:
    low = server._mcp_server
    options = low.create_initialization_options()
    async with (
        create_client_server_memory_streams() as (client_streams, server_streams),
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(lambda: low.run(server_streams[0], server_streams[1], options, raise_exceptions=True))
        try:
            async with ValidatingSession(*client_streams) as session:
                await session.initialize()
                return await session.call_tool("count", {})
        finally:
            tg.cancel_scope.cancel()


@pytest.mark.anyio
async def test_output_is_checked_with_compiled_schemas_on_both_sides() -> None:
    compile_server_schemas_once()
    good = await _call(toy_server())
    assert good.structuredContent == {"n": 3} and not good.isError
    # the server checks its own output through core.schemas: a result that breaks its schema is an error result
    bad = await _call(toy_server(bad=True))
    assert bad.isError and "validation" in str(bad.content[0]).lower()
    # the client checks a result against the schema the server listed
    send, receive = anyio.create_memory_object_stream[object](1)
    async with send, receive:
        session = ValidatingSession(receive, send)  # type: ignore[arg-type]
        session._tool_output_schemas["count"] = {"type": "object", "properties": {"n": {"type": "string"}}}
        with pytest.raises(RuntimeError, match="Invalid structured content returned by tool count"):
            await session._validate_tool_result("count", CallToolResult(content=[], structuredContent={"n": 3}))
        await session._validate_tool_result("count", CallToolResult(content=[], structuredContent={"n": "3"}))
