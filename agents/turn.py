"""The public face of a turn: `run_turn` yields its typed events; the CLI, the API and the UI call it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

from agents.approval import ApprovalAnswer
from agents.events import Event


def run_turn(
    message: str,
    *,
    thread_id: str | None = None,
    attachments: Sequence[str | Path] = (),
    sources: list[str] | None = None,
    agent: str | None = None,
    approval: ApprovalAnswer | None = None,
) -> Iterator[Event]:
    """Run one turn and yield its events; the last is a FinalEvent or an ErrorEvent.

    `thread_id` continues a thread (a new one is made when None; FinalEvent.thread_id names it),
    `attachments` are image paths for the vision agent, `sources` limits RAG to those source ids, and
    `agent` forces one specialist ("coding", "rag", "vision", "kg") instead of letting the supervisor route.
    A turn that pauses for the user's approval ends with a FinalEvent whose `approval` names the request;
    `approval` answers it (so does a message that is only `approve <id>` or `deny <id>`), and the paused
    turn runs on in its own thread.
    """
    from agents.runtime import get_runtime

    yield from get_runtime().stream(
        message, thread_id=thread_id, attachments=attachments, sources=sources, agent=agent, approval=approval
    )


async def arun_turn(
    message: str,
    *,
    thread_id: str | None = None,
    attachments: Sequence[str | Path] = (),
    sources: list[str] | None = None,
    agent: str | None = None,
    approval: ApprovalAnswer | None = None,
) -> AsyncIterator[Event]:
    """`run_turn` for async callers (the API): the events arrive on the caller's event loop."""
    import asyncio

    from agents.runtime import get_runtime

    runtime = await asyncio.to_thread(get_runtime)  # the first call builds the runtime: seconds
    turn = runtime.aturn(
        message, thread_id=thread_id, attachments=attachments, sources=sources, agent=agent, approval=approval
    )
    try:
        async for event in turn:
            yield event
    finally:
        await turn.aclose()


def thread_messages(thread_id: str) -> list[dict[str, str]]:
    """A thread's visible history (role, content, agent), restored from the checkpointer."""
    from agents.runtime import get_runtime

    return get_runtime().messages(thread_id)


def delete_thread(thread_id: str) -> None:
    from agents.runtime import get_runtime

    get_runtime().delete_thread(thread_id)
