"""Human approval for tools that change or run things.

Before a specialist calls such a tool the turn pauses (a LangGraph interrupt, checkpointed with the thread)
and every front end asks its user; the turn resumes on the answer. Only the user can answer: an approval
arrives through a front end's own control, or as a message that is *only* `approve <id>` — the id is
random and shown to the user alone, so a document, a tool result or an earlier turn can never approve.
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

from mcp.types import Tool

from core.wire import ApprovalAnswer
from mcp_servers.sdk import field

Rule = Literal["ask", "thread", "always"]
# `ask`: before every call; `thread`: once per thread (an approval covers the rest of it); `always`: never.
DEFAULT_RULES: dict[str, Rule] = {
    "delete_source": "ask",
    "ingest_documents": "ask",
    "run_python": "ask",
    "run_tests": "ask",
}


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
    destructive = tool.annotations is not None and field(tool.annotations, "destructiveHint") is True
    return "ask" if destructive else "always"


def needs_approval(tool: Tool, rules: dict[str, Rule], allowed_in_thread: set[str]) -> bool:
    return rule_for(tool, rules) != "always" and tool.name not in allowed_in_thread


def covers_thread(tool: Tool, rules: dict[str, Rule], answer: ApprovalAnswer) -> bool:
    """Whether an approval also allows the tool for the rest of the thread."""
    return answer.approved and (answer.scope == "thread" or rule_for(tool, rules) == "thread")
