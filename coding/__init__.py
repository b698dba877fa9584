"""The code sandbox and code tools: run untrusted Python under hard limits, run pytest over code, and write
or explain code with the coder model.

Plain library code (no LangGraph, no MCP): `mcp_servers.code` wraps it as MCP tools. The names below are
the public API; they load on first use, so `import coding` stays cheap (the code-generation side pulls in
the serving settings and OpenAI client only when asked for).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coding.codegen import CodingInputError, ErrorExplanation, GeneratedCode, explain_error, generate_code
    from coding.isolation import bubblewrap_works
    from coding.results import Limits, RunResult, SandboxError, TestCase, TestsResult
    from coding.sandbox import Sandbox
    from coding.settings import CodeSettings

_WHERE = {
    "CodingInputError": "coding.codegen",
    "ErrorExplanation": "coding.codegen",
    "GeneratedCode": "coding.codegen",
    "explain_error": "coding.codegen",
    "generate_code": "coding.codegen",
    "bubblewrap_works": "coding.isolation",
    "Limits": "coding.results",
    "RunResult": "coding.results",
    "SandboxError": "coding.results",
    "TestCase": "coding.results",
    "TestsResult": "coding.results",
    "Sandbox": "coding.sandbox",
    "CodeSettings": "coding.settings",
}

__all__ = [
    "CodeSettings",
    "CodingInputError",
    "ErrorExplanation",
    "GeneratedCode",
    "Limits",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "TestCase",
    "TestsResult",
    "bubblewrap_works",
    "explain_error",
    "generate_code",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines `name` only when someone asks for it (PEP 562)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'coding' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
