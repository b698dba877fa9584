"""Real MCP clients for tests: a server module over stdio, or as an HTTP subprocess on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client

from serving.llama_server import free_port


@asynccontextmanager
async def stdio_session(module: str, env: dict[str, str] | None = None) -> AsyncIterator[ClientSession]:
    """`python -m <module>` as a stdio MCP server, with an initialized client session."""
    params = StdioServerParameters(command=sys.executable, args=["-m", module], env={**os.environ, **(env or {})})
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@contextmanager
def http_server(module: str, env: dict[str, str] | None = None, timeout: float = 60) -> Iterator[str]:
    """Start `python -m <module> --http` on a free loopback port; yield its MCP URL."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - a file, not a pipe: a chatty server never blocks on it
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "--http", "--port", str(port)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"{module} exited: {log.read().decode(errors='replace')[-2000:]}")
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{module} did not listen on {url}") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@asynccontextmanager
async def http_session(url: str) -> AsyncIterator[ClientSession]:
    async with streamablehttp_client(url) as (read, write, _), ClientSession(read, write) as session:
        await session.initialize()
        yield session
