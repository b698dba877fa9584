"""The typed event stream of one turn. The CLI (`ask --json`), the HTTP API and the UI all consume it."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field, TypeAdapter

from agents.approval import ApprovalRequest
from agents.capabilities import SPECIALISTS


class TokenEvent(BaseModel):
    type: Literal["token"] = "token"
    text: str
    agent: str = "supervisor"


class HandoffEvent(BaseModel):
    type: Literal["handoff"] = "handoff"
    agent: Literal["coding", "rag", "vision", "kg", "supervisor"]
    reason: str = ""


class ToolCallEvent(BaseModel):
    type: Literal["tool_call"] = "tool_call"
    server: str
    tool: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    agent: str = ""


class ToolResultEvent(BaseModel):
    type: Literal["tool_result"] = "tool_result"
    server: str
    tool: str
    summary: str
    is_error: bool = False


class ApprovalEvent(ApprovalRequest):
    """The turn pauses here until the user approves or denies the call (agents/approval.py); its
    FinalEvent follows, carrying the same request and a text that says how to answer."""

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
assert set(get_args(HandoffEvent.model_fields["agent"].annotation)) == {*SPECIALISTS, "supervisor"}, (
    "HandoffEvent.agent must list agents.capabilities.SPECIALISTS"
)
