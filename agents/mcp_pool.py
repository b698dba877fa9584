"""Persistent MCP client sessions, one per capability server, opened once and reused across turns.

Each session lives in its own task (the SDK's transports are anyio task groups, which must be entered and
exited by the same task); calls from any task on the same event loop share it. A session that dies is
dropped, the failing call raises one clear error, and the next call starts a fresh session.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Protocol, TypeVar

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, CompleteRequestParams, TextContent, Tool
from pydantic import BaseModel

from agents.settings import AgentSettings
from core.errors import SparkAgentsError
from mcp_servers.sdk import MCPError, ValidatingSession, field, http_streams

log = logging.getLogger(__name__)
T = TypeVar("T")


class Progress(Protocol):
    """A tool call's progress notifications, as both SDK lines call them back."""

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None: ...


class MCPServerUnavailable(SparkAgentsError):
    def __init__(self, server: str, reason: str) -> None:
        self.server = server
        super().__init__(f"The {server} MCP server is unavailable: {reason}. The next request restarts it.")


class MCPRequestError(SparkAgentsError):
    """A server answered a request (a resource read, a completion) with an MCP error: its code and message."""

    def __init__(self, server: str, code: int, message: str) -> None:
        self.server, self.code = server, code
        super().__init__(message)


class ToolOutcome(BaseModel):
    text: str
    structured: dict[str, Any] | None = None
    is_error: bool = False


class _Connection:
    """One live session, held open by its own task until `close()`."""

    def __init__(self, server: str, url: str | None, token: str | None, log_dir: Path, module: str = "") -> None:
        self.server, self.url, self.token, self.log_dir = server, url, token, log_dir
        self.module = module or f"mcp_servers.{server}"
        self.session: ClientSession | None = None
        self.tools: list[Tool] = []
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._error: BaseException | None = None
        self._task = asyncio.create_task(self._hold(), name=f"mcp-{server}")

    async def _hold(self) -> None:
        try:
            async with AsyncExitStack() as stack:
                if self.url:
                    headers = {"Authorization": f"Bearer {self.token}"} if self.token else None
                    read, write = await stack.enter_async_context(http_streams(self.url, headers=headers))
                else:
                    params = StdioServerParameters(
                        command=sys.executable, args=["-m", self.module], env=dict(os.environ)
                    )
                    self.log_dir.mkdir(parents=True, exist_ok=True)
                    errlog = stack.enter_context(open(self.log_dir / f"mcp-{self.server}.log", "a"))  # noqa: SIM115
                    read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
                session = await stack.enter_async_context(ValidatingSession(read, write))
                await session.initialize()
                self.tools = (await session.list_tools()).tools
                self.session = session
                self._ready.set()
                await self._stop.wait()
        except BaseException as e:  # noqa: BLE001 - reported to the waiting caller
            self._error = e
            self._ready.set()
        finally:
            self.session = None

    async def ready(self, timeout: float) -> ClientSession:
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            raise MCPServerUnavailable(self.server, f"no answer within {timeout:.0f} s") from None
        if self.session is None:
            raise MCPServerUnavailable(self.server, f"could not start ({_describe(self._error)})")
        return self.session

    @property
    def alive(self) -> bool:
        return not self._task.done() and (not self._ready.is_set() or self.session is not None)

    async def close(self) -> None:
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, 10)
        except (TimeoutError, Exception):  # noqa: BLE001 - closing is best effort
            self._task.cancel()


def _describe(error: BaseException | None) -> str:
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return f"{type(error).__name__}: {error}" if error else "unknown error"


# Completes a call's arguments from other servers before it is made (`agents.sources`), or answers it with
# the error that stopped it.
Prepare = Callable[["MCPPool", str, str, dict[str, Any]], Awaitable[dict[str, Any] | ToolOutcome]]


class MCPPool:
    """Sessions to the capabilities' servers (stdio subprocesses, or HTTP URLs). `modules`: the module each
    server runs over stdio, when it is not `mcp_servers.<server>` (a capability registered from elsewhere)."""

    def __init__(
        self,
        settings: AgentSettings,
        log_dir: Path,
        start_timeout: float = 60,
        call_timeout: float = 300,
        prepare: Prepare | None = None,
        modules: Mapping[str, str] | None = None,
    ):
        self.settings, self.log_dir = settings, log_dir
        self.prepare = prepare
        self.modules = dict(modules or {})
        self.start_timeout, self.call_timeout = start_timeout, call_timeout
        self._conns: dict[str, _Connection] = {}
        self._lock = asyncio.Lock()
        self.starts: dict[str, int] = {}

    async def _connection(self, server: str) -> _Connection:
        async with self._lock:
            conn = self._conns.get(server)
            if conn is None or not conn.alive:
                if conn is not None:
                    await conn.close()
                url, module = self.settings.server_url(server), self.modules.get(server, "")
                conn = _Connection(server, url, self.settings.mcp_token, self.log_dir, module)
                self._conns[server] = conn
                self.starts[server] = self.starts.get(server, 0) + 1
        try:
            await conn.ready(self.start_timeout)
        except MCPServerUnavailable:
            await self._drop(server, conn)
            raise
        return conn

    async def _drop(self, server: str, conn: _Connection) -> None:
        async with self._lock:
            if self._conns.get(server) is conn:
                del self._conns[server]
        await conn.close()

    async def tools(self, server: str) -> list[Tool]:
        return (await self._connection(server)).tools

    async def call(
        self, server: str, tool: str, arguments: dict[str, Any], progress: Progress | None = None
    ) -> ToolOutcome:
        """Call one tool; `progress(done, total, message)` receives the server's progress notifications."""
        if self.prepare is not None:
            prepared = await self.prepare(self, server, tool, arguments)
            if isinstance(prepared, ToolOutcome):
                return prepared  # its inputs could not be read: the call is not made
            arguments = prepared
        conn = await self._connection(server)
        assert conn.session is not None
        try:
            async with asyncio.timeout(self.call_timeout):  # no task per call, as wait_for makes
                result: CallToolResult = await conn.session.call_tool(tool, arguments, progress_callback=progress)
        except TimeoutError:
            await self._drop(server, conn)
            raise MCPServerUnavailable(server, f"{tool} did not finish within {self.call_timeout:.0f} s") from None
        except Exception as e:  # noqa: BLE001 - the session is broken: drop it, report once
            await self._drop(server, conn)
            raise MCPServerUnavailable(server, f"{tool} failed ({_describe(e)})") from e
        text = "\n".join(c.text for c in result.content if isinstance(c, TextContent))
        structured, is_error = field(result, "structuredContent"), bool(field(result, "isError"))
        return ToolOutcome(text=text, structured=structured, is_error=is_error)

    async def read_resource(self, server: str, uri: str) -> dict[str, Any]:
        """A server's resource as the MCP result JSON (`contents`); MCPRequestError when it answers an error."""
        result = await self._request(server, f"reading {uri}", lambda s: s.read_resource(uri))  # type: ignore[arg-type]
        return result.model_dump(mode="json", by_alias=True, exclude_none=True)

    async def complete(self, server: str, params: dict[str, Any]) -> dict[str, Any]:
        """A server's completion (`params`: the MCP request's `ref`, `argument`, `context`) as its result JSON."""
        p = CompleteRequestParams.model_validate(params)
        context = p.context.arguments if p.context else None
        result = await self._request(
            server, "completing", lambda s: s.complete(p.ref, p.argument.model_dump(), context)
        )
        return result.model_dump(mode="json", by_alias=True, exclude_none=True)

    async def _request(self, server: str, what: str, send: Callable[[ClientSession], Awaitable[T]]) -> T:
        conn = await self._connection(server)
        assert conn.session is not None
        try:
            return await asyncio.wait_for(send(conn.session), self.call_timeout)
        except MCPError as e:  # the server's answer: the session is fine
            raise MCPRequestError(server, e.error.code, e.error.message) from None
        except TimeoutError:
            await self._drop(server, conn)
            raise MCPServerUnavailable(server, f"{what} took over {self.call_timeout:.0f} s") from None
        except Exception as e:  # noqa: BLE001 - the session is broken: drop it, report once
            await self._drop(server, conn)
            raise MCPServerUnavailable(server, f"{what} failed ({_describe(e)})") from e

    async def aclose(self) -> None:
        async with self._lock:
            conns, self._conns = list(self._conns.values()), {}
        for conn in conns:
            await conn.close()
