"""The one place a turn's events become its outcome: answer, citations, thread, trace, error.

Every adapter (the CLI, the OpenAI-compatible API, the MCP gateway, the UI) streams the events it wants to
show and feeds each one to a `TurnCollector`, so what "the answer" of a turn is is decided here once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.wire import ApprovalRequest, Event, FinalEvent, short_json


class TurnCollector:
    """Folds the events of one turn as they arrive."""

    def __init__(self, thread_id: str | None = None, agent: str | None = None) -> None:
        self.thread_id = thread_id
        self.tokens: list[str] = []
        self.steps: list[Event] = []  # handoffs, tool calls and tool results, in order
        self.citations: list[dict[str, Any]] = []
        self.agent = agent or "supervisor"  # who is answering: the last handoff or token
        self.final: FinalEvent | None = None
        self.error: str | None = None

    def add(self, event: Event) -> Event:
        if event.type == "token":
            self.tokens.append(event.text)
            self.agent = event.agent or self.agent
        elif event.type == "final":
            self.final = event
            self.citations = list(event.citations)
            self.thread_id = event.thread_id or self.thread_id
        elif event.type == "error":
            self.error = event.message
        else:
            self.steps.append(event)
            if event.type == "handoff":
                self.agent = event.agent
        return event

    @property
    def done(self) -> bool:
        return self.final is not None or self.error is not None

    @property
    def streamed(self) -> str:
        return "".join(self.tokens)

    @property
    def answer(self) -> str:
        """The final text, or what streamed when the final event carried none. A paused turn's answer is
        what streamed before the pause, then how to approve or deny the call it waits on."""
        if self.final is not None and self.final.approval is not None:
            return "\n\n".join(part for part in (self.streamed.strip(), self.final.text) if part)
        return (self.final.text if self.final else "") or self.streamed

    @property
    def approval(self) -> ApprovalRequest | None:
        """The request the turn is paused on, if it is."""
        return self.final.approval if self.final is not None else None

    def trace(self) -> list[dict[str, Any]]:
        return [step.model_dump(mode="json") for step in self.steps]

    def trace_lines(self) -> list[str]:
        return [trace_line(step) for step in self.steps]


def trace_line(event: Event, limit: int = 200) -> str:
    """One human-readable line for a handoff, tool call or tool result."""
    if event.type == "handoff":
        return f"handoff -> {event.agent}" + (f" ({event.reason})" if event.reason else "")
    if event.type == "tool_call":
        note = f" ({event.note})" if event.note else ""
        return f"call {event.server}.{event.tool} {short_json(event.arguments)}{note}"
    if event.type == "tool_result":
        mark = "error" if event.is_error else "result"
        return f"{mark} {event.server}.{event.tool}: {event.summary[:limit]}"
    return event.type


def collect(events: Iterable[Event], thread_id: str | None = None) -> TurnCollector:
    """Run a whole turn and return its outcome (for callers that show nothing while it runs)."""
    collector = TurnCollector(thread_id)
    for event in events:
        collector.add(event)
    return collector
