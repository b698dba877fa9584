"""Every use of the MCP SDK's internals, in one place (SDK 1.x).

The servers and the client pool use the SDK's public API everywhere else. Three things it offers no public
hook for live here, each pinned by a test (tests/gateway/test_sdk_adapter.py) that fails when the SDK
changes under it, so a new SDK line is one file to port:

- tool output checked against its JSON Schema with each schema compiled once, on the server (the low-level
  server calls `jsonschema.validate` by that module name) and on the client (`ClientSession`'s
  `_validate_tool_result` hook and its `_tool_output_schemas` cache);
- the resource template a completion request names (FastMCP keeps them in `_resource_manager._templates`).
"""

from __future__ import annotations

import mcp.server.lowlevel.server as _lowlevel
from jsonschema import SchemaError
from mcp import ClientSession
from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.resources import ResourceTemplate
from mcp.types import CallToolResult
from referencing.exceptions import Unresolvable

from core import schemas


def compile_server_schemas_once() -> None:
    """The low-level server validates tool output with `jsonschema.validate` and catches
    `jsonschema.ValidationError`: the same two names from `core.schemas`, validation unchanged."""
    _lowlevel.jsonschema = schemas  # type: ignore[assignment]


def resource_template(server: FastMCP, uri_template: str) -> ResourceTemplate | None:
    """The server's resource template registered under `uri_template`, if any."""
    return server._resource_manager._templates.get(uri_template)


class ValidatingSession(ClientSession):
    """The SDK's client session, with tool results checked against their output schema through
    `core.schemas` (each schema compiled once) instead of `jsonschema.validate` per call."""

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
