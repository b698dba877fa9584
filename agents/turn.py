"""A turn for synchronous callers in one process (tests, benches, scripts): `run_turn` yields its typed events.

The resident service does not come through here: its runtime lives on its own loop (api/runtime.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from core.wire import Event, TurnRequest


def turn_request(request: TurnRequest | str, **fields: Any) -> TurnRequest:
    """A TurnRequest as given, or made from a message and TurnRequest's own fields (`thread_id=`, `agent=`…)."""
    if isinstance(request, TurnRequest):
        return request.model_copy(update=fields) if fields else request
    return TurnRequest(message=request, **fields)


def run_turn(request: TurnRequest | str, **fields: Any) -> Iterator[Event]:
    """Run one turn and yield its events; the last is a FinalEvent or an ErrorEvent (see Runtime.astream)."""
    from agents.runtime import get_runtime

    yield from get_runtime().stream(turn_request(request, **fields))


def thread_messages(thread_id: str) -> list[dict[str, str]]:
    """A thread's visible history (role, content, agent), restored from the checkpointer."""
    from agents.runtime import get_runtime

    return get_runtime().messages(thread_id)


def delete_thread(thread_id: str) -> None:
    from agents.runtime import get_runtime

    get_runtime().delete_thread(thread_id)
