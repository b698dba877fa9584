"""Every use of the MCP SDK that differs between its 1.x and 2.x lines or reaches into its internals, in one place.

The servers and the client pool take the SDK's server names from here and go through these functions, so
the same code runs on both lines (the pin says which one is installed); each is pinned by a test
(tests/gateway/test_sdk_adapter.py) that fails when the SDK changes under it.

- Names: 2.x renamed FastMCP to MCPServer (`mcp.server.mcpserver`) and McpError to MCPError, which is built
  from a code, a message and data (`mcp_error`).
- Fields: 2.x protocol models name their fields in snake_case (constructors take both spellings);
  `field(model, "structuredContent")` reads one by its wire name on either line.
- Eras (2.x): `cache_hints` for the lists a 2026-07-28 client may cache; `is_modern` tells a 2026-07-28
  request from a legacy one; `connection_state` keeps what a legacy connection set (its log level) across
  its requests; `notify_resources_changed` reaches both eras' clients (`announce_resource_list_changes` says
  so to legacy ones: a flag the SDK takes only as an argument of `create_initialization_options`).
- Context: 2.x has no ambient context (`get_context()` is gone), calls a completion handler without one and
  has no decorator for `logging/setLevel`: `on_complete` and `on_set_level` hand the handler the request's
  context and session on both lines. Overrides of `call_tool`/`read_resource` take the `context` 2.x passes.
- HTTP: 2.x takes the transport's security settings as arguments of `streamable_http_app()`, not settings;
  its client transport takes an `httpx2` client, given explicit timeouts here (its own default is 5 s).
- Tool output is checked against its JSON Schema with each schema compiled once: on 1.x through the
  low-level server's `jsonschema` module name and the client session's `_validate_tool_result` hook and
  `_tool_output_schemas` cache; 2.x compiles each schema once itself (client side) and checks no output
  on the server.
- The resource template a completion request names (kept in `_resource_manager._templates`).
- A question to the user in either protocol era (2.x only): a tool parameter `Resolve`d by a function that
  returns `Elicit(...)`, asked as `elicitation/create` on a legacy connection and as an `input_required` result
  on a 2026-07-28 one, whose client then calls again with the answer (`is_retry`).
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from jsonschema import SchemaError
from mcp import ClientSession
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, Completion, CompletionArgument, CompletionContext, LoggingLevel, Tool
from pydantic import BaseModel
from referencing.exceptions import Unresolvable

from core import schemas

try:  # SDK 1.x
    import mcp.server.lowlevel.server as _lowlevel
    from mcp.server.fastmcp import Context
    from mcp.server.fastmcp import FastMCP as MCPServer
    from mcp.server.fastmcp.exceptions import ResourceError, ToolError
    from mcp.server.fastmcp.prompts import Prompt
    from mcp.server.fastmcp.resources import ResourceTemplate
    from mcp.shared.exceptions import McpError as MCPError
    from mcp.types import ErrorData

    SDK2 = False
except ModuleNotFoundError:  # SDK 2.x
    from mcp.server.mcpserver import (  # type: ignore[no-redef,attr-defined,import-not-found]
        Context,
        Elicit,
        ElicitationResult,
        MCPServer,
        Resolve,
    )
    from mcp.server.mcpserver.exceptions import ResourceError, ToolError  # type: ignore[no-redef,import-not-found]
    from mcp.server.mcpserver.prompts import Prompt  # type: ignore[no-redef,import-not-found]
    from mcp.server.mcpserver.resources import ResourceTemplate  # type: ignore[no-redef,import-not-found]
    from mcp.shared.exceptions import MCPError  # type: ignore[no-redef,attr-defined]

    SDK2 = True

__all__ = ["Context", "MCPError", "MCPServer", "Prompt", "ResourceError", "ToolError", "ResourceTemplate"]
__all__ += ["Elicit", "ElicitationResult", "Resolve"]  # 2.x only: a question to the user, asked in either era

Ref = Any  # a PromptReference or a ResourceTemplateReference
Completer = Callable[[Any, Ref, CompletionArgument, CompletionContext | None], Awaitable[Completion | None]]


def cache_hints(ttl_ms: int, *methods: str) -> dict[str, Any]:
    """The server's constructor arguments that let 2026-07-28 clients cache these methods' results for `ttl_ms`,
    shared by every client (`ttlMs`/`cacheScope: public`); the rest stay immediately stale. None on 1.x."""
    if not SDK2:
        return {}
    from mcp.server.caching import CacheHint  # type: ignore[import-not-found]

    return {"cache_hints": {method: CacheHint(ttl_ms=ttl_ms, scope="public") for method in methods}}


def mcp_error(code: int, message: str, data: Any = None) -> MCPError:
    """The SDK's protocol error (a JSON-RPC error answer), on either line."""
    if SDK2:
        return MCPError(code, message, data)  # type: ignore[call-arg,arg-type]
    return MCPError(ErrorData(code=code, message=message, data=data))


@cache
def _attribute(model: type[BaseModel], wire_name: str) -> str:
    return next(name for name, info in model.model_fields.items() if wire_name in (name, info.alias))


def field(model: BaseModel, wire_name: str) -> Any:
    """A protocol model's field by its wire (camelCase) name: `field(tool, "inputSchema")`."""
    return getattr(model, _attribute(type(model), wire_name))


def input_schema(tool: Tool) -> dict[str, Any]:
    """A tool's input JSON Schema (`inputSchema` on the wire)."""
    schema: dict[str, Any] = field(tool, "inputSchema") or {}
    return schema


def lowlevel(server: MCPServer) -> Any:
    """The decorator server's low-level server (private on both lines, under two names)."""
    return server._lowlevel_server if SDK2 else server._mcp_server  # type: ignore[attr-defined]


def set_version(server: MCPServer, version: str) -> None:
    """serverInfo.version: the product's, not the SDK's (1.x) or empty (2.x)."""
    lowlevel(server).version = version


def on_complete(server: MCPServer, handler: Completer) -> None:
    """`handler(ctx, ref, argument, context)` answers `completion/complete`, with the request's Context."""
    if not SDK2:
        server.completion()(lambda ref, argument, context: handler(server.get_context(), ref, argument, context))
        return
    from mcp.types import CompleteRequestParams, CompleteResult

    async def complete(request: Any, params: CompleteRequestParams) -> CompleteResult:
        ctx = Context(request_context=request, mcp_server=server)  # type: ignore[call-arg]
        done = await handler(ctx, params.ref, params.argument, params.context)
        return CompleteResult(completion=done or Completion(values=[]))

    lowlevel(server).add_request_handler("completion/complete", CompleteRequestParams, complete)


def on_set_level(server: MCPServer, handler: Callable[[Any, LoggingLevel], Awaitable[None]]) -> None:
    """`handler(session, level)` answers `logging/setLevel` (a legacy-era request)."""
    low = lowlevel(server)
    if not SDK2:
        low.set_logging_level()(lambda level: handler(low.request_context.session, level))
        return
    from mcp.types import EmptyResult, SetLevelRequestParams

    async def set_level(request: Any, params: SetLevelRequestParams) -> EmptyResult:
        await handler(request.session, params.level)
        return EmptyResult()

    low.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)


def is_modern(ctx: Any) -> bool:
    """Whether the request came over a 2026-07-28 (stateless) connection: no `logging/setLevel`, a log level per
    request, list changes through `subscriptions/listen`. False outside a request and on 1.x (legacy only)."""
    if not SDK2 or ctx is None:
        return False
    from mcp_types.version import MODERN_PROTOCOL_VERSIONS  # type: ignore[import-not-found]

    return getattr(ctx, "protocol_version", None) in MODERN_PROTOCOL_VERSIONS


_STATE_1X: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def connection_state(session: Any) -> dict[str, Any]:
    """Scratch state of the client connection a request came on, kept across its requests: 2.x builds a session
    object per request (its connection's `state` outlives it); 1.x has one session per connection."""
    if SDK2:
        state: dict[str, Any] = session._connection.state
        return state
    return _STATE_1X.setdefault(session, {})


def announce_resource_list_changes(server: MCPServer) -> None:
    """Say in a legacy client's `initialize` answer that the server notifies resource list changes
    (`resources.listChanged`; 2026-07-28 says so in `server/discover` for every server that serves
    `subscriptions/listen`). The SDK takes the flag only as an argument of the low-level server's
    `create_initialization_options`, which its transports call with none."""
    from mcp.server.lowlevel.server import NotificationOptions

    low = lowlevel(server)
    initialization_options = low.create_initialization_options

    def with_list_changes(notification_options: Any = None, *args: Any, **kwargs: Any) -> Any:
        changes = notification_options or NotificationOptions(resources_changed=True)
        return initialization_options(changes, *args, **kwargs)

    low.create_initialization_options = with_list_changes


async def notify_resources_changed(ctx: Context) -> None:  # type: ignore[type-arg]
    """Tell clients the resource list changed, in both eras: on the legacy connection's stream, and to the
    2026-07-28 clients listening (`subscriptions/listen`); each era's channel drops the other's."""
    await ctx.session.send_resource_list_changed()
    if SDK2:
        await ctx.notify_resources_changed()


def is_retry(ctx: Context) -> bool:  # type: ignore[type-arg]
    """Whether this call is a 2026-07-28 client's retry carrying the answers to what its first round asked
    (`inputResponses`); never on a legacy connection, where a question is answered within the call."""
    return getattr(ctx, "input_responses", None) is not None


def context_args(context: Any) -> tuple[Any, ...]:
    """The `context` 2.x passes to `call_tool`/`read_resource`, handed on to the SDK's own (1.x passes none)."""
    return () if context is None else (context,)


def http_app(server: MCPServer, security: TransportSecuritySettings) -> Any:
    """The server's streamable HTTP ASGI app, checking Host and Origin as `security` says."""
    if SDK2:
        return server.streamable_http_app(transport_security=security)  # type: ignore[call-arg]
    server.settings.transport_security = security
    return server.streamable_http_app()


@asynccontextmanager
async def http_streams(url: str, headers: dict[str, str] | None = None) -> AsyncIterator[tuple[Any, Any]]:
    """A streamable HTTP client transport's read and write streams: 30 s to connect, write and send,
    5 minutes for a reply (a slow tool call) or between a stream's events, on both lines."""
    if not SDK2:
        from mcp.client.streamable_http import streamablehttp_client

        async with streamablehttp_client(url, headers=headers, timeout=30, sse_read_timeout=300) as (read, write, _):
            yield read, write
        return
    import httpx2  # type: ignore[import-not-found]
    from mcp.client.streamable_http import streamable_http_client  # type: ignore[attr-defined]

    timeout = httpx2.Timeout(30, read=300)
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout) as client,
        streamable_http_client(url, http_client=client) as (read, write),
    ):
        yield read, write


def compile_server_schemas_once() -> None:
    """The 1.x low-level server validates tool output with `jsonschema.validate` and catches
    `jsonschema.ValidationError`: the same two names from `core.schemas`, validation unchanged."""
    if not SDK2:
        _lowlevel.jsonschema = schemas  # type: ignore[assignment]


def resource_template(server: MCPServer, uri_template: str) -> ResourceTemplate | None:
    """The server's resource template registered under `uri_template`, if any."""
    return server._resource_manager._templates.get(uri_template)


class ValidatingSession(ClientSession):
    """The SDK's client session, with tool results checked against their output schema through
    `core.schemas` (each schema compiled once) instead of `jsonschema.validate` per call (1.x; 2.x
    compiles each schema once itself)."""

    async def _validate_tool_result(self, name: str, result: CallToolResult) -> None:
        if name not in self._tool_output_schemas:
            await self.list_tools()  # refreshes the SDK's schema cache
        schema = self._tool_output_schemas.get(name)
        if schema is None:
            return
        if result.structuredContent is None:
            raise RuntimeError(f"Tool {name} has an output schema but did not return structured content")
        try:
            schemas.validate(result.structuredContent, schema)
        except schemas.ValidationError as e:
            raise RuntimeError(f"Invalid structured content returned by tool {name}: {e.message}") from None
        except (SchemaError, Unresolvable) as e:
            raise RuntimeError(f"Invalid schema for tool {name}: {e}") from None
