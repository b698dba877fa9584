"""mcp_servers/sdk.py, the one module that touches what differs between the MCP SDK's lines and its internals:
what it relies on is pinned here, so a new SDK that moves any of it fails these tests instead of silently
skipping the compiled validation, the product's version or the completions."""

from __future__ import annotations

import inspect
from typing import Annotated

import anyio
import pytest
from mcp import ClientSession
from mcp.client.session import ClientSession as SdkClientSession
from mcp.types import CallToolResult, Tool, ToolAnnotations
from pydantic import BaseModel

from core import schemas
from mcp_servers.base import SparkMCP
from mcp_servers.sdk import (
    SDK2,
    Context,
    Elicit,
    ElicitationResult,
    MCPError,
    MCPServer,
    Resolve,
    ValidatingSession,
    compile_server_schemas_once,
    field,
    input_schema,
    is_retry,
    lowlevel,
    mcp_error,
    resource_template,
)
from tests.support.mcp_client import memory_session

ONLY_1X = pytest.mark.skipif(SDK2, reason="SDK 1.x internals: 2.x compiles each output schema once itself")


class Out(BaseModel):
    n: int


def toy_server(bad: bool = False) -> MCPServer:
    server = MCPServer("toy")

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


def test_what_both_lines_share_through_the_adapter() -> None:
    # FastMCP's (MCPServer's) resource templates, by URI template
    template = resource_template(toy_server(), "toy://items/{item}")
    assert template is not None and template.uri_template == "toy://items/{item}"
    assert resource_template(toy_server(), "toy://nothing/{x}") is None
    # fields by their wire names, whatever the line calls them
    schema = {"type": "object", "required": ["q"]}
    tool = Tool(name="t", inputSchema=schema, annotations=ToolAnnotations(readOnlyHint=True))
    assert input_schema(tool)["required"] == ["q"] and field(tool.annotations, "readOnlyHint") is True
    assert field(CallToolResult(content=[], structuredContent={"n": 1}, isError=True), "structuredContent") == {"n": 1}
    # a protocol error from code, message and data
    error = mcp_error(-32002, "gone", {"uri": "x://y"})
    assert isinstance(error, MCPError) and (error.error.code, error.error.message, error.error.data) == (
        -32002,
        "gone",
        {"uri": "x://y"},
    )
    # the low-level server, named and versioned as the product
    server = SparkMCP("toy")
    assert lowlevel(server).name == "spark-agents-toy" and lowlevel(server).version


@ONLY_1X
def test_what_the_adapter_relies_on_in_1x_is_still_there() -> None:
    import mcp.server.lowlevel.server as lowlevel_module

    # the low-level server validates tool output through a module it names `jsonschema`
    assert "jsonschema.validate(" in inspect.getsource(lowlevel_module.Server)
    compile_server_schemas_once()
    assert lowlevel_module.jsonschema is schemas
    # the client session's hook and its schema cache
    hook = SdkClientSession._validate_tool_result
    assert inspect.iscoroutinefunction(hook) and list(inspect.signature(hook).parameters) == ["self", "name", "result"]
    assert "_tool_output_schemas" in inspect.getsource(SdkClientSession.__init__)
    assert issubclass(ValidatingSession, ClientSession)


@pytest.mark.skipif(not SDK2, reason="SDK 2.x: what replaces the 1.x hooks")
def test_what_the_adapter_relies_on_in_2x_is_still_there() -> None:
    # the client compiles each output schema once (a validator cache): nothing of ours to add
    assert inspect.iscoroutinefunction(SdkClientSession.validate_tool_result)  # type: ignore[attr-defined]
    assert hasattr(SdkClientSession, "_output_schema_validator")
    # a request's session reaches its connection, whose state outlives the request; list changes for listeners
    from mcp.server.session import ServerSession

    assert "self._connection = connection" in inspect.getsource(ServerSession.__init__)
    assert "self.state = {}" in inspect.getsource(inspect.getmodule(ServerSession).Connection.__init__)  # type: ignore[union-attr]
    assert inspect.iscoroutinefunction(Context.notify_resources_changed)
    # the legacy initialize answer's list-changed flags come from an argument of the low-level server's method
    options = lowlevel(toy_server()).create_initialization_options
    assert list(inspect.signature(options).parameters)[0] == "notification_options"
    # completions and logging/setLevel are registered on the low-level server
    assert list(inspect.signature(lowlevel(toy_server()).add_request_handler).parameters)[:3] == [
        "method",
        "params_type",
        "handler",
    ]


async def _call(server: MCPServer) -> CallToolResult:
    async with memory_session(server) as session:
        return await session.call_tool("count", {})


@ONLY_1X
@pytest.mark.anyio
async def test_output_is_checked_with_compiled_schemas_on_both_sides() -> None:
    compile_server_schemas_once()
    good = await _call(toy_server())
    assert field(good, "structuredContent") == {"n": 3} and not field(good, "isError")
    # the server checks its own output through core.schemas: a result that breaks its schema is an error result
    bad = await _call(toy_server(bad=True))
    assert field(bad, "isError") and "validation" in str(bad.content[0]).lower()
    # the client checks a result against the schema the server listed
    send, receive = anyio.create_memory_object_stream[object](1)
    async with send, receive:
        session = ValidatingSession(receive, send)  # type: ignore[arg-type]
        session._tool_output_schemas["count"] = {"type": "object", "properties": {"n": {"type": "string"}}}
        with pytest.raises(RuntimeError, match="Invalid structured content returned by tool count"):
            await session._validate_tool_result("count", CallToolResult(content=[], structuredContent={"n": 3}))
        await session._validate_tool_result("count", CallToolResult(content=[], structuredContent={"n": "3"}))


class Ok(BaseModel):
    ok: bool


retries_seen: list[bool] = []  # per round of a call to `act`: whether it was a retry


def ask_to_proceed(ctx: Context) -> Elicit[Ok]:  # type: ignore[type-arg]
    retries_seen.append(is_retry(ctx))
    return Elicit("Proceed?", Ok)


def act(answer: Annotated[ElicitationResult[Ok], Resolve(ask_to_proceed)]) -> str:
    return f"{answer.action} {answer.data.ok}"


@pytest.mark.skipif(not SDK2, reason="SDK 2.x: a question asked in either protocol era")
@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_a_resolved_question_is_asked_in_either_era(mode: str) -> None:
    """A resolver's `Elicit` is an elicitation request on a legacy connection and an input_required round trip
    on a 2026-07-28 one, whose second round `is_retry` tells apart (the gateway's approval rests on both)."""
    from mcp import Client
    from mcp.types import ElicitResult

    server = MCPServer("toy")
    server.tool()(act)

    async def yes(context: object, params: object) -> ElicitResult:
        return ElicitResult(action="accept", content={"ok": True})

    retries_seen.clear()
    async with Client(server, mode=mode, elicitation_callback=yes) as client:
        done = await client.call_tool("act", {})
    assert done.content[0].text == "accept True"  # type: ignore[union-attr]
    assert retries_seen == ([False] if mode == "legacy" else [False, True])
