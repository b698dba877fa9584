"""The code MCP server: generate code with the coder model, run it and its tests in a sandbox, explain errors.

    python -m mcp_servers.code            # stdio
    python -m mcp_servers.code --http     # streamable HTTP on 127.0.0.1:8813/mcp

Thin adapter over the `coding` library (settings: `SPARK_AGENTS_CODE_*`). The sandbox and the limit on runs
at once live in the server's lifespan; a `tools/list` (the gateway reads `mcp.list_tools()`) never enters it.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

import anyio
from pydantic import Field

from coding.codegen import ErrorExplanation, GeneratedCode
from coding.codegen import explain_error as explain
from coding.codegen import generate_code as generate
from coding.results import RunResult, TestsResult
from coding.sandbox import Sandbox
from coding.settings import CodeSettings
from core.errors import SparkAgentsError
from mcp_servers.base import SparkMCP
from mcp_servers.common import READS, RUNS_CODE, serve
from mcp_servers.prompts import add_prompts
from mcp_servers.sdk import Context, MCPServer, ToolError

T = TypeVar("T")


@dataclass
class CodeTools:
    """What the tools share: the settings, the limiter on sandbox runs at once, and the sandbox itself, made
    on first use so that a sandbox that cannot work here is a tool error rather than a server that will not
    start."""

    settings: CodeSettings = field(default_factory=CodeSettings)
    limiter: anyio.CapacityLimiter = field(init=False)
    _sandbox: Sandbox | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.limiter = anyio.CapacityLimiter(self.settings.max_concurrent_runs)

    def sandbox(self) -> Sandbox:
        with self._lock:
            if self._sandbox is None:
                self._sandbox = Sandbox(self.settings)
            return self._sandbox


class _Lifespan:
    """Streamable HTTP enters the lifespan once per client session: the sessions open at once share one
    `CodeTools`, so `max_concurrent_runs` holds for the server, not for each session."""

    def __init__(self) -> None:
        self.tools: CodeTools | None = None
        self.sessions = 0

    @asynccontextmanager
    async def __call__(self, server: MCPServer) -> AsyncIterator[CodeTools]:
        if self.tools is None:
            self.tools = CodeTools()
        tools, self.sessions = self.tools, self.sessions + 1
        try:
            yield tools
        finally:
            self.sessions -= 1
            if self.sessions == 0:
                self.tools = None


mcp = SparkMCP(
    "code",
    lifespan=_Lifespan(),
    instructions=(
        "Write, run and test code. generate_code asks the coder model for code; run_python runs Python in a "
        "sandbox (no network, no access to the user's files, hard limits on time, memory, processes and "
        "output) and reports which limit stopped it; run_tests runs pytest tests against code in the same "
        "sandbox; explain_error explains a traceback. Typical loop: generate, run_tests, explain_error, fix."
    ),
)
add_prompts(mcp, ("code",))


def _tools(ctx: Context) -> CodeTools:  # type: ignore[type-arg]
    return ctx.request_context.lifespan_context


async def _call(fn: Callable[[], T], limiter: anyio.CapacityLimiter | None = None) -> T:
    """Run blocking library code off the event loop (sandbox runs wait for the limiter); project errors
    become one-line tool errors."""
    try:
        return await anyio.to_thread.run_sync(fn, limiter=limiter)
    except SparkAgentsError as e:
        raise ToolError(str(e)) from e


@mcp.tool(annotations=READS)
async def generate_code(
    task: Annotated[str, Field(description="what the code must do")],
    ctx: Context,  # type: ignore[type-arg]
    language: Annotated[str, Field(description="programming language, e.g. python")] = "python",
    context: Annotated[str | None, Field(description="existing code, an error to fix, or constraints")] = None,
) -> GeneratedCode:
    """Write code for a task with the coder model and return the code block of its answer."""
    settings = _tools(ctx).settings
    return await _call(lambda: generate(language, task, context, settings=settings))


@mcp.tool(annotations=RUNS_CODE)
async def run_python(
    ctx: Context,  # type: ignore[type-arg]
    code: Annotated[str, Field(description="a Python program, run as main.py")],
    stdin: Annotated[str | None, Field(description="text given on standard input")] = None,
    files: Annotated[
        dict[str, str] | None, Field(description="extra text files beside main.py: relative path -> content")
    ] = None,
    timeout_s: Annotated[
        float | None, Field(gt=0, description="wall-time limit in seconds (at most the server's limit)")
    ] = None,
) -> RunResult:
    """Run Python code in the sandbox and return stdout, stderr, exit code, duration, truncation flags and,
    when a limit or isolation rule stopped it, which one (`stopped_by`)."""
    tools = _tools(ctx)

    def go() -> RunResult:
        sandbox = tools.sandbox()
        limits = sandbox.default_limits()
        if timeout_s is not None:
            limits = limits.model_copy(update={"wall_time_s": min(timeout_s, limits.wall_time_s)})
        return sandbox.run_python(code, stdin=stdin, files=files, limits=limits)

    return await _call(go, tools.limiter)


@mcp.tool(annotations=RUNS_CODE)
async def run_tests(
    ctx: Context,  # type: ignore[type-arg]
    code: Annotated[str, Field(description="the code under test, saved as <module>.py")],
    tests: Annotated[str, Field(description="pytest tests, saved as test_<module>.py; import from <module>")],
    module: Annotated[str, Field(description="module name the tests import")] = "solution",
    files: Annotated[dict[str, str] | None, Field(description="extra text files: relative path -> content")] = None,
) -> TestsResult:
    """Run pytest tests against code in the sandbox; return pass/fail counts, each test's outcome, and the run."""
    tools = _tools(ctx)
    return await _call(lambda: tools.sandbox().run_tests(code, tests, module=module, files=files), tools.limiter)


@mcp.tool(annotations=READS)
async def explain_error(
    error: Annotated[str, Field(description="the traceback or error message")],
    ctx: Context,  # type: ignore[type-arg]
    code: Annotated[str | None, Field(description="the code that raised it")] = None,
    language: Annotated[str, Field(description="programming language")] = "python",
) -> ErrorExplanation:
    """Explain an error with the coder model: what it means, the likely cause, and how to fix it."""
    settings = _tools(ctx).settings
    return await _call(lambda: explain(error, code, language, settings=settings))


if __name__ == "__main__":
    serve(mcp)
