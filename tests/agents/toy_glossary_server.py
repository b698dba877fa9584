"""A toy MCP server for the tests: the team glossary, a few terms (the fifth capability of
tests/agents/test_toy_capability.py). The SDK's own server class (FastMCP; MCPServer on 2.x), run over stdio
by the agents' MCP pool."""

from __future__ import annotations

from pydantic import BaseModel

from mcp_servers.sdk import MCPServer, ToolError

GLOSSARY = {
    "ephemeral port": "A short-lived port the operating system assigns to the client side of a connection.",
    "backpressure": "A consumer slowing its producer down because it cannot keep up with what it is sent.",
}


class Entry(BaseModel):
    term: str
    text: str
    citation: str


class Definition(BaseModel):
    results: list[Entry]


mcp = MCPServer("glossary")


@mcp.tool()
def define(term: str) -> Definition:
    """Look a term up in the team glossary."""
    key = term.strip().casefold()
    if key not in GLOSSARY:
        raise ToolError(f"No glossary entry for {term!r}; it has: {', '.join(GLOSSARY)}.")
    return Definition(results=[Entry(term=key, text=GLOSSARY[key], citation=f"team glossary · {key}")])


if __name__ == "__main__":
    mcp.run("stdio")
