"""Helpers for the coding tests: call a code-server tool over HTTP, find host processes by marker."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from coding.isolation import bubblewrap_works
from mcp_servers.sdk import field
from tests.support.mcp_client import http_session

needs_bwrap = pytest.mark.skipif(
    not bubblewrap_works(), reason="bubblewrap is not installed or does not work here (apt-get install bubblewrap)"
)


def call_tool(url: str, tool: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
    """Call one tool over a fresh HTTP MCP session; (is_error, structured result or error text)."""

    async def go() -> tuple[bool, Any]:
        async with http_session(url) as session:
            result = await session.call_tool(tool, arguments)
            if field(result, "isError"):
                return True, " ".join(getattr(c, "text", "") for c in result.content)
            return False, field(result, "structuredContent")

    return asyncio.run(go())


def run(url: str, code: str, **kw: Any) -> dict[str, Any]:
    is_error, result = call_tool(url, "run_python", {"code": code, **kw})
    assert not is_error, result
    return result


def host_processes_with(marker: str) -> list[str]:
    """Command lines of host processes whose argv contains `marker` (the sandbox's PID namespace is not
    hidden from the host, so anything that survived would show up here)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmdline:
                found.append(f"{entry.name}: {cmdline}")
    return found
