"""How an OpenAI chat request becomes a turn: which thread it continues and what message is sent.

The thread id comes from the `X-Thread-Id` header, else `metadata.thread_id`, else the OpenAI `user` field.
With a thread id only the last user message is sent, since the thread holds the history. Without one, the
client's earlier user and assistant messages (editor clients resend the whole conversation) are prepended
as a transcript, so the answer still sees the conversation. System messages are never forwarded: they
describe the client's own tool protocol, and each agent has its own instructions.
"""

from __future__ import annotations

import re

from api.errors import ApiError
from api.schemas import ChatCompletionRequest, ChatMessage
from core.wire import THREAD_ID

THREAD_ID_RE = re.compile(THREAD_ID)


def thread_id_of(request: ChatCompletionRequest, header: str | None) -> str | None:
    """The thread the client names (None: a new one); 400 for an id that is not a safe name."""
    tid = header or (request.metadata or {}).get("thread_id") or request.user
    if tid is not None and not THREAD_ID_RE.match(tid):
        raise ApiError(400, "thread id must be 1-128 characters of letters, digits and _.:@-", code="bad_thread_id")
    return tid


def _transcript(messages: list[ChatMessage], limit: int) -> str:
    lines = [f"{m.role}: {m.text()}" for m in messages if m.role in ("user", "assistant") and m.text().strip()]
    text = "\n".join(lines)
    return text[-limit:] if len(text) > limit else text


def compose_message(messages: list[ChatMessage], with_history: bool, limit: int) -> str:
    """The text sent to run_turn: the last user message, after a transcript of the earlier ones (its last
    `limit` characters) when the conversation has no thread. The policy reads the markers back, so a
    transcript never counts as the user's own request."""
    last = messages[-1].text()
    earlier = _transcript(messages[:-1], limit) if with_history else ""
    if not earlier:
        return last
    from agents.policy import CURRENT, EARLIER

    return f"{EARLIER}{earlier}{CURRENT}{last}"
