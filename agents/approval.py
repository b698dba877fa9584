"""Human approval for tools that change or run things.

Before a specialist calls such a tool the turn pauses (a LangGraph interrupt, checkpointed with the thread)
and every front end asks its user; the turn resumes on the answer. Only the user can answer: an approval
arrives through a front end's own control, or as a message that is *only* `approve <id>` — the id is
random and shown to the user alone, so a document, a tool result or an earlier turn can never approve.
"""

from __future__ import annotations

import re
import secrets
from typing import Any, Literal

from mcp.types import Tool
from pydantic import BaseModel, Field

Rule = Literal["ask", "thread", "always"]
# `ask`: before every call; `thread`: once per thread (an approval covers the rest of it); `always`: never.
DEFAULT_RULES: dict[str, Rule] = {
    "delete_source": "ask",
    "ingest_documents": "ask",
    "run_python": "ask",
    "run_tests": "ask",
}
Scope = Literal["once", "thread"]


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
        from agents.collector import short_json

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
    merged = {**DEFAULT_RULES, **rules}
    if tool.name in merged:
        return merged[tool.name]
    destructive = tool.annotations is not None and tool.annotations.destructiveHint is True
    return "ask" if destructive else "always"


def needs_approval(tool: Tool, rules: dict[str, Rule], allowed_in_thread: set[str]) -> bool:
    return rule_for(tool, rules) != "always" and tool.name not in allowed_in_thread


def covers_thread(tool: Tool, rules: dict[str, Rule], answer: ApprovalAnswer) -> bool:
    """Whether an approval also allows the tool for the rest of the thread."""
    return answer.approved and (answer.scope == "thread" or rule_for(tool, rules) == "thread")
