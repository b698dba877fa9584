"""Fixtures for tests that drive the agent graph; conftest modules import the ones they use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.turns import reset_runtime


@pytest.fixture(autouse=True)
def fresh_runtime() -> Iterator[None]:
    """Each test gets its own runtime (graph, checkpointer, MCP sessions), closed afterwards."""
    reset_runtime()
    yield
    reset_runtime()


@pytest.fixture
def llm_routing(monkeypatch: pytest.MonkeyPatch, scripted_roles: object) -> object:
    """Behave like gpt-oss: the supervisor model routes with handoff tool calls."""
    monkeypatch.setenv("SPARK_AGENTS_AGENT_ROUTING", "llm")
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "false")
    return scripted_roles
