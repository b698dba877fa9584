"""The SDK's decorator server as every Spark Agents server uses it.

- serverInfo names the product (`spark-agents-<server>`) and its version, not the SDK's.
- Log notifications go to a client at the level it asked for: a legacy client's `logging/setLevel` sets it
  for its connection (warnings and errors until it asks); a 2026-07-28 client names it in each request's
  `_meta` (none when it does not). The servers' own stderr is set separately (SPARK_AGENTS_MCP_LOG_LEVEL,
  see `common.serve`).
- 2026-07-28 clients may cache the tool, prompt and template lists for a minute (`ttlMs`, `cacheScope`).
- Completions are declared per argument name (`@server.completes("source_id")`): one function serves that
  argument in every prompt and resource template, so the names stay consistent across them.
- A resource that cannot be read is one MCP error with the library's message; one that does not exist is
  -32002 to a legacy client (2025-11-25) and -32602 with its URI on 2026-07-28 (SEP-2164).
- Tool output is checked against its schema as the SDK does, but with the schema compiled once
  (`core.schemas`): the SDK's per-call `jsonschema.validate` was a quarter of a tool hop.

It runs on both SDK lines: what differs between them goes through `mcp_servers.sdk`.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar, get_args

import anyio
import anyio.to_thread
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.types import (
    INVALID_PARAMS,
    Completion,
    CompletionArgument,
    CompletionContext,
    LoggingLevel,
    PromptReference,
    ResourceTemplateReference,
)
from pydantic import AnyUrl

from core.errors import SparkAgentsError
from mcp_servers.sdk import (
    Context,
    MCPError,
    MCPServer,
    ResourceError,
    cache_hints,
    compile_server_schemas_once,
    connection_state,
    context_args,
    is_modern,
    mcp_error,
    on_complete,
    on_set_level,
    resource_template,
    set_version,
)

compile_server_schemas_once()

T = TypeVar("T")
S = TypeVar("S")
RESOURCE_NOT_FOUND = -32002  # the MCP specification's code for a resource that does not exist
MAX_COMPLETIONS = 100  # the specification's cap on values in one completion result
LEVELS: tuple[str, ...] = get_args(LoggingLevel)  # least to most severe
DEFAULT_CLIENT_LEVEL: LoggingLevel = "warning"
DEBUG: LoggingLevel = "debug"
LOG_LEVEL = "spark-agents/log-level"  # a legacy connection's level, in its state
# Fixed for a server process's life, so 2026-07-28 clients may cache them a while (resource lists and reads
# change with the libraries: immediately stale, and a resource list change is notified).
STATIC_LISTS = ("tools/list", "prompts/list", "resources/templates/list")
LISTS_TTL_MS = 60_000

Completer = Callable[[Context, str, dict[str, str]], Awaitable[list[str]]]  # type: ignore[type-arg]


class RequestCancelled(SparkAgentsError):
    """The client cancelled the request; the work stopped at its next step."""


async def cancellable(fn: Callable[[Callable[[], None]], T]) -> T:
    """Run blocking `fn(check)` off the event loop; when the client cancels the request, the next
    `check()` in `fn` (call it between steps) raises RequestCancelled, so the work ends there."""
    stop = threading.Event()

    def check() -> None:
        if stop.is_set():
            raise RequestCancelled("The request was cancelled.")

    try:
        return await anyio.to_thread.run_sync(fn, check, abandon_on_cancel=True)
    except anyio.get_cancelled_exc_class():
        stop.set()
        raise


def product_version() -> str:
    try:
        return importlib.metadata.version("spark-agents")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"  # running from a checkout that was never installed


class SparkMCP(MCPServer):  # type: ignore[type-arg]
    def __init__(self, key: str, **kwargs: Any) -> None:
        super().__init__(f"spark-agents-{key}", **cache_hints(LISTS_TTL_MS, *STATIC_LISTS), **kwargs)
        self.key = key  # the short name: `python -m mcp_servers.<key>`, the service's server name
        set_version(self, product_version())
        self._completers: dict[str, Completer] = {}
        on_set_level(self, self._set_level)
        on_complete(self, self.complete)

    # --- logging ------------------------------------------------------------------------------------
    async def _set_level(self, session: Any, level: LoggingLevel) -> None:
        connection_state(session)[LOG_LEVEL] = level

    async def notify_log(self, ctx: Context, level: LoggingLevel, message: str) -> None:  # type: ignore[type-arg]
        """A log notification to the calling client, when it asked for `level` or less severe ones (on 2026-07-28
        the SDK sends it only when the request's `_meta` asked for that level)."""
        wanted = DEBUG if is_modern(ctx) else connection_state(ctx.session).get(LOG_LEVEL, DEFAULT_CLIENT_LEVEL)
        if LEVELS.index(level) >= LEVELS.index(wanted):
            await ctx.session.send_log_message(level, message, logger=self.name, related_request_id=ctx.request_id)

    # --- completions --------------------------------------------------------------------------------
    def completes(self, *arguments: str) -> Callable[[Completer], Completer]:
        """Register `fn(ctx, partial, other_arguments) -> values` for these argument names."""

        def register(fn: Completer) -> Completer:
            for name in arguments:
                self._completers[name] = fn
            return fn

        return register

    async def complete(
        self,
        ctx: Context,  # type: ignore[type-arg]
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        fn = self._completers.get(argument.name)
        if fn is None or not self._declares(ref, argument.name):
            return None
        try:
            values = await fn(ctx, argument.value, dict((context and context.arguments) or {}))
        except SparkAgentsError:
            values = []  # nothing to offer (no store yet, unknown collection): an empty list, not an error
        return capped(values)

    def _declares(self, ref: PromptReference | ResourceTemplateReference, argument: str) -> bool:
        """Whether the prompt or template the client names has this argument (other refs get nothing)."""
        if isinstance(ref, PromptReference):
            prompt = self._prompt_manager.get_prompt(ref.name)
            return prompt is not None and any(a.name == argument for a in prompt.arguments or [])
        template = resource_template(self, ref.uri)
        return template is not None and f"{{{argument}}}" in template.uri_template

    # --- prompts ------------------------------------------------------------------------------------
    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None, context: Any = None) -> Any:
        """An unknown prompt or missing arguments are the client's mistake: invalid params with the SDK's message
        (on a 2026-07-28 connection 2.x would answer a bare internal error)."""
        try:
            return await super().get_prompt(name, arguments, *context_args(context))
        except ValueError as e:
            raise mcp_error(INVALID_PARAMS, str(e), {"name": name}) from None

    # --- resources ----------------------------------------------------------------------------------
    async def read_resource(self, uri: AnyUrl | str, context: Any = None) -> Iterable[ReadResourceContents]:
        try:
            return await super().read_resource(uri, *context_args(context))
        except (ValueError, ResourceError, MCPError) as e:
            raise in_era(resource_error(str(uri), e), context) from None


def capped(values: Iterable[str]) -> Completion:
    values = list(values)
    return Completion(values=values[:MAX_COMPLETIONS], total=len(values), hasMore=len(values) > MAX_COMPLETIONS)


def resource_error(uri: str, error: BaseException) -> MCPError:
    """The library's own message (the SDK wraps it), coded not-found or invalid-params."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, SparkAgentsError | MCPError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, MCPError):
        return cause  # an adapter's own MCP error (the gateway's, from the service's answer)
    if cause is None:
        return mcp_error(RESOURCE_NOT_FOUND, f"Resource not found: {uri}", {"uri": uri})
    from kg.errors import UnknownCollection, UnknownEntity
    from rag.errors import SourceNotFound

    missing = isinstance(cause, SourceNotFound | UnknownEntity | UnknownCollection)
    code = RESOURCE_NOT_FOUND if missing else INVALID_PARAMS
    return mcp_error(code, str(cause), {"uri": uri})


def in_era(error: MCPError, context: Any) -> MCPError:
    """A missing resource as the client's revision codes it: -32002 (2025-11-25), -32602 (2026-07-28)."""
    if error.error.code != RESOURCE_NOT_FOUND or not is_modern(context):
        return error
    return mcp_error(INVALID_PARAMS, error.error.message, error.error.data)


class ServerSettings(Generic[S]):
    """A server's settings, read from the environment as its first session opens (the process's edge) and
    shared by every session and request after it. Both SDK lines enter the lifespan (1.x once per HTTP
    session, 2.x once); neither hands a static resource its request context, so the settings live here."""

    def __init__(self, read: Callable[[], S]) -> None:
        self._read = read
        self._value: S | None = None

    @asynccontextmanager
    async def lifespan(self, server: MCPServer) -> AsyncIterator[S]:
        yield self.get()

    def get(self) -> S:
        if self._value is None:  # a request outside a session (an in-process caller): read them now, once
            self._value = self._read()
        return self._value
