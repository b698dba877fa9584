"""The code MCP server: generate code with the coder model, run it and its tests in a sandbox, explain errors.

    python -m mcp_servers.code            # stdio
    python -m mcp_servers.code --http     # streamable HTTP on 127.0.0.1:8813/mcp

Thin adapter over `agents.coding` (settings: `SPARK_AGENTS_CODE_*`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from pydantic import Field

from agents.coding.codegen import ErrorExplanation, GeneratedCode
from agents.coding.sandbox import RunResult, TestsResult
from mcp_servers.common import serve
from serving.errors import SparkAgentsError

if TYPE_CHECKING:
    from agents.coding.sandbox import Sandbox

T = TypeVar("T")

mcp = FastMCP(
    "code",
    instructions=(
        "Write, run and test code. generate_code asks the coder model for code; run_python runs Python in a "
        "sandbox (no network, no access to the user's files, hard limits on time, memory, processes and "
        "output) and reports which limit stopped it; run_tests runs pytest tests against code in the same "
        "sandbox; explain_error explains a traceback. Typical loop: generate, run_tests, explain_error, fix."
    ),
)


@functools.cache
def _sandbox() -> Sandbox:
    from agents.coding.sandbox import Sandbox

    return Sandbox()


@functools.cache
def _limiter() -> anyio.CapacityLimiter:
    from agents.coding.settings import CodeSettings

    return anyio.CapacityLimiter(CodeSettings().max_concurrent_runs)


async def _call(fn: Callable[[], T], sandboxed: bool = False) -> T:
    """Run blocking library code off the event loop; project errors become one-line tool errors."""
    try:
        if sandboxed:
            return await anyio.to_thread.run_sync(fn, limiter=_limiter())
        return await anyio.to_thread.run_sync(fn)
    except SparkAgentsError as e:
        raise ToolError(str(e)) from e


@mcp.tool()
async def generate_code(
    task: Annotated[str, Field(description="what the code must do")],
    language: Annotated[str, Field(description="programming language, e.g. python")] = "python",
    context: Annotated[str | None, Field(description="existing code, an error to fix, or constraints")] = None,
) -> GeneratedCode:
    """Write code for a task with the coder model and return the code block of its answer."""
    from agents.coding.codegen import generate_code as generate

    return await _call(lambda: generate(language, task, context))


@mcp.tool()
async def run_python(
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

    def go() -> RunResult:
        sandbox = _sandbox()
        limits = sandbox.default_limits()
        if timeout_s is not None:
            limits = limits.model_copy(update={"wall_time_s": min(timeout_s, limits.wall_time_s)})
        return sandbox.run_python(code, stdin=stdin, files=files, limits=limits)

    return await _call(go, sandboxed=True)


@mcp.tool()
async def run_tests(
    code: Annotated[str, Field(description="the code under test, saved as <module>.py")],
    tests: Annotated[str, Field(description="pytest tests, saved as test_<module>.py; import from <module>")],
    module: Annotated[str, Field(description="module name the tests import")] = "solution",
    files: Annotated[dict[str, str] | None, Field(description="extra text files: relative path -> content")] = None,
) -> TestsResult:
    """Run pytest tests against code in the sandbox; return pass/fail counts, each test's outcome, and the run."""
    return await _call(lambda: _sandbox().run_tests(code, tests, module=module, files=files), sandboxed=True)


@mcp.tool()
async def explain_error(
    error: Annotated[str, Field(description="the traceback or error message")],
    code: Annotated[str | None, Field(description="the code that raised it")] = None,
    language: Annotated[str, Field(description="programming language")] = "python",
) -> ErrorExplanation:
    """Explain an error with the coder model: what it means, the likely cause, and how to fix it."""
    from agents.coding.codegen import explain_error as explain

    return await _call(lambda: explain(error, code, language))


if __name__ == "__main__":
    serve(mcp)
