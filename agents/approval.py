"""Human approval for tools that change or run things.

Before a specialist calls such a tool the turn pauses (a LangGraph interrupt, checkpointed with the thread)
and every front end asks its user; the turn resumes on the answer. Only the user can answer: an approval
arrives through a front end's own control, or as a message that is *only* `approve <id>` — the id is
random and shown to the user alone, so a document, a tool result or an earlier turn can never approve.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from langgraph.types import Command, interrupt
from mcp.types import Tool

from agents.capabilities import CAPABILITIES
from agents.settings import Rule
from core.wire import ApprovalAnswer, ApprovalRequest
from mcp_servers.sdk import field


def default_rules() -> dict[str, Rule]:
    """The rules the capabilities declare for their tools (`approvals`): `ask` before every call, `thread`
    once per thread (an approval covers the rest of it), `always` never."""
    return {tool: rule for c in CAPABILITIES.values() for tool, rule in c.approvals.items()}


def answer_of(raw: dict[str, Any] | None, waiting: str) -> ApprovalAnswer | None:
    """The answer a resumed turn carries, when it answers the request this visit is waiting for."""
    if not raw or not waiting or raw.get("id") != waiting:
        return None
    return ApprovalAnswer.model_validate(raw)


def declined_note(tool: str, superseded: bool) -> str:
    if superseded:
        return f"Skipped {tool}: a new message came before it was approved."
    return f"Skipped {tool}: you declined it."


def new_id() -> str:
    return secrets.token_hex(6)


def rule_for(tool: Tool, rules: dict[str, Rule]) -> Rule:
    """The settings' rule for a tool; unlisted tools ask when their server marks them destructive."""
    merged = {**default_rules(), **rules}
    if tool.name in merged:
        return merged[tool.name]
    destructive = tool.annotations is not None and field(tool.annotations, "destructiveHint") is True
    return "ask" if destructive else "always"


def needs_approval(tool: Tool, rules: dict[str, Rule], allowed_in_thread: set[str]) -> bool:
    return rule_for(tool, rules) != "always" and tool.name not in allowed_in_thread


def covers_thread(tool: Tool, rules: dict[str, Rule], answer: ApprovalAnswer) -> bool:
    """Whether an approval also allows the tool for the rest of the thread."""
    return answer.approved and (answer.scope == "thread" or rule_for(tool, rules) == "thread")


DECLINED = "The user declined this call; do not try it again. Answer without it."


class Verdict(StrEnum):
    RUN = "run"  # no approval needed, or the user approved
    ASK = "ask"  # pause the turn and ask the user
    DECLINED = "declined"  # the user said no (or wrote a new message instead of answering)


@dataclass
class Gate:
    """The approvals of one specialist visit: the settings' rules, the tools the user allowed for the rest
    of the thread, and the answer the visit resumed with (it counts for one call, the one that asked)."""

    rules: dict[str, Rule]
    allowed: set[str]
    answer: ApprovalAnswer | None = None
    superseded: bool = False  # a call was skipped because the user wrote a new message

    def verdict(self, tool: Tool) -> Verdict:
        if not needs_approval(tool, self.rules, self.allowed):
            return Verdict.RUN
        if self.answer is None:
            return Verdict.ASK
        answer, self.answer = self.answer, None
        if covers_thread(tool, self.rules, answer):
            self.allowed.add(tool.name)
        if answer.approved:
            return Verdict.RUN
        self.superseded = answer.superseded
        return Verdict.DECLINED


def pause(request: ApprovalRequest, saved_visit: dict[str, Any]) -> Command:
    """Stop the visit before the call: its scratch is kept in the thread's state until the answer comes."""
    update = {"scratch": saved_visit, "pending_approval": request.model_dump(), "approval": None}
    return Command(goto="approve", update=update)


async def approve(state: dict[str, Any]) -> Command:
    """The graph's pause: the interrupt carries the request to the front end; on resume, the user's answer
    goes back to the specialist that asked (which runs on from its scratch)."""
    request = state["pending_approval"] or {}
    answer = interrupt(request)
    return Command(goto=request["agent"], update={"approval": answer, "pending_approval": None})
