"""The code MCP server's four tools through a real MCP client over stdio (coder model: the scripted server)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcp_servers.sdk import field
from tests.coding.helpers import needs_bwrap
from tests.support.mcp_client import stdio_session
from tests.support.scripted_server import Reply, ScriptedServer, text

SOLUTION = "def add(a, b):\n    return a + b\n"
TESTS = (
    "from solution import add\n\n"
    "def test_small():\n    assert add(1, 2) == 3\n\n"
    "def test_negative():\n    assert add(-1, -2) == -3\n\n"
    "def test_wrong():\n    assert add(2, 2) == 5\n"
)


def call_all(calls: list[tuple[str, dict[str, Any]]]) -> tuple[list[str], list[Any]]:
    """List the tools, then make each call in one stdio session; (tool names, [(is_error, payload)])."""

    async def go() -> tuple[list[str], list[Any]]:
        async with stdio_session("mcp_servers.code") as session:
            names = [t.name for t in (await session.list_tools()).tools]
            results = []
            for tool, arguments in calls:
                r = await session.call_tool(tool, arguments)
                payload = (
                    " ".join(getattr(c, "text", "") for c in r.content)
                    if field(r, "isError")
                    else field(r, "structuredContent")
                )
                results.append((field(r, "isError"), payload))
            return names, results

    return asyncio.run(go())


def test_generate_code_returns_the_code_block(scripted_roles: ScriptedServer) -> None:
    scripted_roles.script(text(f"Here you go:\n\n```python\n{SOLUTION}```\n\nIt adds two numbers."))
    names, [(is_error, result)] = call_all(
        [("generate_code", {"task": "add two numbers", "context": "use a function called add"})]
    )
    assert set(names) == {"generate_code", "run_python", "run_tests", "explain_error"}
    assert not is_error, result
    assert result["code"] == SOLUTION
    assert result["language"] == "python"
    assert result["model"] == "scripted-model"
    assert "It adds two numbers." in result["explanation"]
    [request] = scripted_roles.chat_requests
    assert request["model"] == "scripted-model"
    assert "add two numbers" in request["messages"][-1]["content"]
    assert "use a function called add" in request["messages"][-1]["content"]
    assert "```python" in request["messages"][0]["content"]


def test_explain_error_sends_the_traceback_and_code(scripted_roles: ScriptedServer) -> None:
    scripted_roles.script(text("`add` is called with a string; convert the input with int() first."))
    traceback = 'Traceback (most recent call last):\n  File "main.py", line 2\nTypeError: can only concatenate str'
    _, [(is_error, result)] = call_all(
        [("explain_error", {"error": traceback, "code": "print('1' + 1)"})],
    )
    assert not is_error, result
    assert result["explanation"] == "`add` is called with a string; convert the input with int() first."
    prompt = scripted_roles.chat_requests[0]["messages"][-1]["content"]
    assert "TypeError: can only concatenate str" in prompt and "print('1' + 1)" in prompt


def test_model_server_failures_are_clear_tool_errors(scripted_roles: ScriptedServer) -> None:
    scripted_roles.script(Reply(fault="http_500"), Reply(fault="garbage"), text("   "))
    calls = [("generate_code", {"task": "add two numbers"})] * 3 + [("run_python", {"code": "print('ok')"})]
    _, results = call_all(calls)
    for (is_error, error), message in zip(results[:3], ["HTTP 500", "unexpected answer", "empty answer"], strict=True):
        assert is_error and message in error and "coder model server" in error, error
    assert results[3][1]["stdout"] == "ok\n"  # the server keeps serving


def test_unreachable_coder_is_a_clear_tool_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_CODER_URL", "http://127.0.0.1:9/v1")
    _, [(is_error, error)] = call_all([("explain_error", {"error": "NameError: x"})])
    assert is_error and "coder model server is unavailable" in error


def test_bad_arguments_are_clear_tool_errors() -> None:
    _, results = call_all(
        [
            ("generate_code", {"task": "   "}),
            ("run_tests", {"code": "x = 1", "tests": "", "module": "not a module"}),
            ("run_python", {"code": "print(1)", "files": {"/etc/passwd": "x"}}),
        ]
    )
    assert [is_error for is_error, _ in results] == [True, True, True]
    assert "task is empty" in results[0][1]
    assert "not a Python identifier" in results[1][1]
    assert "not allowed" in results[2][1]


@needs_bwrap
def test_run_tests_reports_each_test() -> None:
    _, [(is_error, result), (_, passing)] = call_all(
        [("run_tests", {"code": SOLUTION, "tests": TESTS}), ("run_tests", {"code": SOLUTION, "tests": TESTS[:-45]})]
    )
    assert not is_error, result
    assert (result["passed"], result["failed"], result["errors"]) == (2, 1, 0)
    assert result["ok"] is False
    assert result["summary"].startswith("1 failed, 2 passed")
    outcomes = {c["name"]: c["outcome"] for c in result["cases"]}
    assert outcomes == {
        "test_solution.py::test_small": "passed",
        "test_solution.py::test_negative": "passed",
        "test_solution.py::test_wrong": "failed",
    }
    [failed] = [c for c in result["cases"] if c["outcome"] == "failed"]
    assert "assert 4 == 5" in failed["message"]
    assert result["run"]["isolation"] == "bubblewrap"
    assert passing["ok"] is True and passing["passed"] == 2 and passing["failed"] == 0


@needs_bwrap
def test_run_python_with_stdin_and_files() -> None:
    code = "import json, sys\nfrom helper import double\ndata = json.load(open('data/in.json'))\n"
    code += "print(double(data['n']), sys.stdin.read().strip())\n"
    files = {"helper.py": "def double(x):\n    return 2 * x\n", "data/in.json": '{"n": 21}'}
    _, [(is_error, result)] = call_all([("run_python", {"code": code, "stdin": "from stdin\n", "files": files})])
    assert not is_error, result
    assert result["stdout"] == "42 from stdin\n"
    assert result["ok"] is True


def test_missing_bubblewrap_when_required_is_a_clear_tool_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_CODE_ISOLATION", "bubblewrap")
    monkeypatch.setenv("SPARK_AGENTS_CODE_BWRAP_PATH", "/nonexistent/bwrap")
    _, [(is_error, error)] = call_all([("run_python", {"code": "print(1)"})])
    assert is_error and "bubblewrap is required" in error and "apt-get install -y bubblewrap" in error
