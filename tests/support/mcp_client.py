"""Real MCP clients for tests: a server module over stdio, or as an HTTP subprocess on a free port."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
import httpx
from mcp import Client, ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.memory import create_client_server_memory_streams

from core.daemon import free_port
from mcp_servers.sdk import MCPServer, http_streams, lowlevel
from tests.support.processes import serving_process


@asynccontextmanager
async def stdio_session(module: str, env: dict[str, str] | None = None, **options: Any) -> AsyncIterator[ClientSession]:
    """`python -m <module>` as a stdio MCP server, with an initialized client session (`options`: the
    ClientSession's own, e.g. an `elicitation_callback`)."""
    params = StdioServerParameters(command=sys.executable, args=["-m", module], env={**os.environ, **(env or {})})
    async with stdio_client(params) as (read, write), ClientSession(read, write, **options) as session:
        await session.initialize()
        yield session


MODERN_VERSION = "2026-07-28"  # the stateless revision: `server/discover`, then each request carries its `_meta`


@asynccontextmanager
async def modern_stdio_client(module: str, env: dict[str, str] | None = None, **options: Any) -> AsyncIterator[Client]:
    """`python -m <module>` as a stdio MCP server, spoken to in protocol revision 2026-07-28 by the SDK's client
    (which discovers the server's revisions first; `options`: the Client's own, e.g. an `elicitation_callback`)."""
    params = StdioServerParameters(command=sys.executable, args=["-m", module], env={**os.environ, **(env or {})})
    async with modern_client(params, **options) as client:
        yield client


@asynccontextmanager
async def modern_http_client(url: str, **options: Any) -> AsyncIterator[Client]:
    """The streamable HTTP server at `url`, spoken to in protocol revision 2026-07-28 (explicit timeouts)."""
    async with modern_client(http_streams(url), **options) as client:
        yield client


@asynccontextmanager
async def modern_client(server: Any, **options: Any) -> AsyncIterator[Client]:
    async with Client(server, mode="auto", **options) as client:
        assert client.protocol_version == MODERN_VERSION
        yield client


@asynccontextmanager
async def memory_session(server: MCPServer, **options: Any) -> AsyncIterator[ClientSession]:
    """A client session with `server` in this process (memory streams, the legacy `initialize` handshake)."""
    low = lowlevel(server)
    async with create_client_server_memory_streams() as (client, served), anyio.create_task_group() as tg:
        tg.start_soon(lambda: low.run(served[0], served[1], low.create_initialization_options()))
        try:
            async with ClientSession(client[0], client[1], **options) as session:
                await session.initialize()
                yield session
        finally:
            tg.cancel_scope.cancel()


@contextmanager
def http_server(module: str, env: dict[str, str] | None = None, timeout: float = 60) -> Iterator[str]:
    """Start `python -m <module> --http` on a free loopback port; yield its MCP URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    with serving_process([sys.executable, "-m", module, "--http", "--port", str(port)], url, env=env, timeout=timeout):
        yield url


@asynccontextmanager
async def http_session(url: str) -> AsyncIterator[ClientSession]:
    async with http_streams(url) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def post_initialize(url: str, **headers: str) -> httpx.Response:
    """A raw MCP `initialize` POST with extra headers (Host, Origin, Authorization), for transport checks."""
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    base = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    return httpx.post(url, json=body, headers={**base, **headers}, timeout=10)
