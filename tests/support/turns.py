"""The test's runtime, built explicitly from the test's environment on first use and closed by the
`fresh_runtime` fixture: tests configure through `monkeypatch.setenv` before their first turn. A group of tests
whose subject is a turn, not a start, shares one runtime lent to each (tests/support/agent_fixtures.OneRuntime)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from agents.runtime import BlockingRuntime
from agents.settings import AgentSettings
from core.wire import Event, TurnRequest
from serving.settings import ServingSettings

_runtime: BlockingRuntime | None = None
_lent = False


def get_runtime() -> BlockingRuntime:
    global _runtime
    if _runtime is None:
        _runtime = BlockingRuntime(ServingSettings(), AgentSettings())
    return _runtime


def reset_runtime() -> None:
    """Close the runtime (its MCP servers, checkpointer and threads); the next turn builds a new one."""
    global _runtime
    if _lent:
        raise RuntimeError("a shared runtime is not reset by one of its tests: give that test a runtime of its own")
    runtime, _runtime = _runtime, None
    if runtime is not None:
        runtime.close()


@contextmanager
def lent(runtime: BlockingRuntime) -> Iterator[None]:
    """`runtime` as the test's runtime for a block; its owner closes it."""
    global _runtime, _lent
    reset_runtime()
    _runtime, _lent = runtime, True
    try:
        yield
    finally:
        _runtime, _lent = None, False


def turn_request(request: TurnRequest | str, **fields: Any) -> TurnRequest:
    """A TurnRequest as given, or made from a message and TurnRequest's own fields (`thread_id=`, `agent=`…)."""
    if isinstance(request, TurnRequest):
        return request.model_copy(update=fields) if fields else request
    return TurnRequest(message=request, **fields)


def run_turn(request: TurnRequest | str, **fields: Any) -> Iterator[Event]:
    """One turn's events; the last is a FinalEvent or an ErrorEvent (see Runtime.astream)."""
    yield from get_runtime().stream(turn_request(request, **fields))


def thread_messages(thread_id: str) -> list[dict[str, str]]:
    return get_runtime().messages(thread_id)
