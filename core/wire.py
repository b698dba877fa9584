"""The types that travel between a front end and the assistant: one turn's request, its event stream, the
approval a paused turn waits for and its answer, a thread's summary and a tool's result.

Every front end (the CLI, the HTTP API and its client, the UI, the MCP gateway) and the graph speak these, so
this module imports nothing of the project: a client can use the service without loading the agents.
"""

from __future__ import annotations

import json
import os
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, field_validator

THREAD_ID = r"^[A-Za-z0-9_.:@-]{1,128}$"
MAX_MESSAGE_CHARS = 200_000
Scope = Literal["once", "thread"]


def short_json(value: Any, limit: int = 160) -> str:
    """Arguments as one line of JSON, cut with an ellipsis past `limit` characters."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- approvals -----------------------------------------------------------------------------------------


class ApprovalRequest(BaseModel):
    """What a paused turn waits for: the tool, its arguments and why the agent wants it."""

    id: str
    thread_id: str = ""
    agent: str
    server: str
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    reason: str = ""

    def prompt(self) -> str:
        """The message every front end can show, including those that only show text (OpenAI clients)."""
        why = f" — {self.reason}" if self.reason else ""
        return (
            f"Approval needed: the {self.agent} agent wants to call {self.server}.{self.tool} "
            f"{short_json(self.arguments, 400)}{why}\n\n"
            f"Reply `approve {self.id}` to allow it (`approve {self.id} for this thread` to stop asking in this "
            f"thread), or `deny {self.id}` to skip it."
        )


class ApprovalAnswer(BaseModel):
    """The user's answer to one ApprovalRequest."""

    id: str = Field(pattern=r"^[0-9a-f]{6,32}$")
    approved: bool
    scope: Scope = "once"
    superseded: bool = False  # denied because the user sent a new message instead of an answer


ANSWER_RE = re.compile(
    r"^\s*(?P<verb>approve|allow|deny|reject)\s+(?P<id>[0-9a-f]{6,32})(?P<thread>\s+for\s+(this\s+)?thread)?\s*\.?\s*$",
    re.I,
)


def parse_answer(request: str) -> ApprovalAnswer | None:
    """An approval typed as the whole of the user's own message (`approve 3f2a…`, `deny 3f2a…`)."""
    m = ANSWER_RE.match(request)
    if m is None:
        return None
    approved = m["verb"].lower() in ("approve", "allow")
    scope: Scope = "thread" if m["thread"] and approved else "once"
    return ApprovalAnswer(id=m["id"].lower(), approved=approved, scope=scope)


# --- one turn ------------------------------------------------------------------------------------------


class TurnRequest(BaseModel):
    """One turn as every front end asks for it, and as the graph runs it."""

    message: str = Field("", max_length=MAX_MESSAGE_CHARS, description="the user's message (empty with `approval`)")
    thread_id: str | None = Field(None, pattern=THREAD_ID, description="continue this thread (new when empty)")
    agent: str | None = Field(None, description="skip routing: one specialist (coding, rag, vision, kg)")
    sources: list[str] | None = Field(None, description="limit document search to these source ids")
    attachments: list[str] = Field(default_factory=list, description="image paths on the service's machine")
    approval: ApprovalAnswer | None = Field(
        None, description="answer a paused turn (its final event's `approval.id`); the rest of it streams"
    )

    @field_validator("attachments", mode="before")
    @classmethod
    def _paths(cls, value: Any) -> Any:
        """Paths as the strings that cross the wire."""
        if isinstance(value, list | tuple):
            return [os.fspath(v) if isinstance(v, os.PathLike) else v for v in value]
        return value


class TokenEvent(BaseModel):
    type: Literal["token"] = "token"
    text: str
    agent: str = "supervisor"


class HandoffEvent(BaseModel):
    type: Literal["handoff"] = "handoff"
    agent: str = Field(description="the specialist taking over (coding, rag, vision, kg), or supervisor")
    reason: str = ""


class ToolCallEvent(BaseModel):
    type: Literal["tool_call"] = "tool_call"
    server: str
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    agent: str = ""
    note: str = ""  # what was taken out of the model's arguments first (ids nothing in the conversation names)


class ToolResultEvent(BaseModel):
    type: Literal["tool_result"] = "tool_result"
    server: str
    tool: str
    summary: str
    is_error: bool = False


class ApprovalEvent(ApprovalRequest):
    """The turn pauses here until the user approves or denies the call; its FinalEvent follows, carrying the
    same request and a text that says how to answer."""

    type: Literal["approval"] = "approval"


class FinalEvent(BaseModel):
    type: Literal["final"] = "final"
    text: str
    citations: list[dict[str, Any]] = Field(default_factory=list)
    thread_id: str | None = None
    approval: ApprovalRequest | None = None  # set when the turn is paused, waiting for the user


class ErrorEvent(BaseModel):
    type: Literal["error"] = "error"
    message: str


Event = Annotated[
    TokenEvent | HandoffEvent | ToolCallEvent | ToolResultEvent | ApprovalEvent | FinalEvent | ErrorEvent,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


# --- threads and tools ---------------------------------------------------------------------------------


class ThreadInfo(BaseModel):
    id: str
    title: str
    created: float
    updated: float


class ToolResult(BaseModel):
    """A capability tool's answer as the service relays it: its text, its structured content, whether it failed."""

    text: str
    structured: dict[str, Any] | None = None
    is_error: bool = False
