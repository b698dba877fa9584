"""The coding capability: write code, run it in the sandbox, explain errors (the `code` MCP server)."""

from __future__ import annotations

from typing import Any

from agents.capabilities.base import Capability
from serving.roles import Role


def _code(data: dict[str, Any]) -> str:
    code = f"```{data.get('language', '')}\n{str(data.get('code', '')).rstrip()}\n```"
    return code + (f"\n\n{data['explanation']}" if data.get("explanation") else "")


def _run(data: dict[str, Any]) -> str:
    parts = []
    if data.get("stdout"):
        parts.append(f"Output:\n```\n{data['stdout'].rstrip()}\n```")
    if data.get("stderr"):
        parts.append(f"Errors:\n```\n{data['stderr'].rstrip()}\n```")
    if data.get("stopped_by"):
        parts.append(f"Stopped by the {data['stopped_by']} limit. {data.get('detail') or ''}".strip())
    return "\n\n".join(parts) or f"The program exited with code {data.get('exit_code')} and printed nothing."


CAPABILITY = Capability(
    name="coding",
    server="code",
    primary_tool="generate_code",
    label="Coding",
    icon="🧑‍💻",
    prompt=(
        "You are the coding agent. Write correct, complete code in fenced blocks; use your tools to "
        "generate code, and to run or test it when the user asks. Report run output faithfully."
    ),
    model_description="the coding agent alone (writes and runs code in the sandbox)",
    server_description="write and run code in the sandbox",
    routing_examples=(
        "how do I reverse a linked list in C++",
        "convert this JSON to a TypeScript interface",
        "my Docker build fails with an error, help",
        "write a regular expression that matches email addresses",
        "add type hints to this function",
        "what does this Python snippet print",
        "create a React component with a form",
        "I get a segmentation fault in my C program",
        "write a SQL query to count orders per customer",
        "set up a GitHub Actions workflow for my tests",
        "implement quicksort and test it",
        "git says detached HEAD, how do I fix it",
        "write a Python function that parses a CSV file",
        "fix this bug in my JavaScript code",
        "why does my program raise a KeyError",
        "refactor this class to use dataclasses",
        "write unit tests with pytest for this module",
        "implement binary search in Rust",
        "run this script and show me the output",
        "what is wrong with this SQL query",
        "write a bash one-liner to find large files",
        "explain this stack trace",
        "generate a Go HTTP server",
        "optimize this loop, it is too slow",
    ),
    summary="write, fix, run and test code",
    route_hint="programming",
    sample_prompts=(
        "Write a Python function that tells whether a string is a palindrome, and run a few tests on it.",
        "Explain this error: TypeError: 'NoneType' object is not subscriptable",
    ),
    tool_examples={
        "generate_code": (
            "write a Python function that reverses a string",
            "implement quicksort in Go",
            "create a React component with a form",
            "write a SQL query to count orders per customer",
            "generate a bash script that backs up a folder",
        ),
        "run_python": (
            "run print(6 * 7)",
            "run this code and show me the output",
            "execute this Python script",
            "run it",
            "what does this program print when I run it",
            "execute print('hello')",
        ),
        "explain_error": (
            "explain this error: TypeError: 'NoneType' object is not subscriptable",
            "what does this traceback mean",
            "why do I get KeyError: 'name'",
            "explain this stack trace",
        ),
    },
    role=Role.CODER,
    approvals={"run_python": "ask", "run_tests": "ask"},
    failure_hint="Rephrase the request with the code or the error included in your message.",
    renderers={
        "generate_code": _code,
        "run_python": _run,
        "run_tests": lambda d: str(d.get("summary") or ""),
        "explain_error": lambda d: str(d.get("explanation") or ""),
    },
)
