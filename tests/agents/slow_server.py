"""A test MCP server whose one tool takes as long as it is asked to: a tool that hangs, for the pool's timeout."""

from __future__ import annotations

import asyncio

from mcp_servers.sdk import MCPServer

mcp = MCPServer("slow")


@mcp.tool()
async def wait(seconds: float) -> str:
    """Answer after `seconds`."""
    await asyncio.sleep(seconds)
    return f"waited {seconds} s"


if __name__ == "__main__":
    mcp.run("stdio")
