"""One turn as a stream of events. For now a direct, streamed call to the supervisor model."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from agents.events import ErrorEvent, Event, FinalEvent, TokenEvent
from serving.client import stream_chat
from serving.errors import SparkAgentsError
from serving.registry import Endpoint, Role, endpoint
from serving.settings import ServingSettings

log = logging.getLogger(__name__)

SYSTEM_PROMPT = "You are Spark Agents, a helpful local assistant. Answer concisely."


def ensure_role(role: Role, settings: ServingSettings | None = None) -> Endpoint:
    """The role's endpoint, starting the local llama.cpp server first when the profile manages it."""
    settings = settings or ServingSettings()
    ep = endpoint(role, settings)
    if ep.managed == "llama-cpp" and ep.base_url is None:
        from serving.llama_server import LocalModelServer

        print("Starting the local model server (llama.cpp)…", file=sys.stderr, flush=True)
        LocalModelServer(settings).start(wait=True)
        ep = endpoint(role, settings)
    return ep


def run_turn(
    message: str,
    *,
    thread_id: str | None = None,
    attachments: Sequence[str | Path] = (),
    sources: list[str] | None = None,
    agent: str | None = None,
    settings: ServingSettings | None = None,
) -> Iterator[Event]:
    """Run one turn and yield its events; the last is a FinalEvent or an ErrorEvent.

    `thread_id` continues a thread (a new one is made when None; FinalEvent.thread_id names it),
    `attachments` are image paths for the vision agent, `sources` limits RAG to those source ids, and
    `agent` forces one specialist ("coding", "rag", "vision", "kg") instead of letting the supervisor route.
    """
    try:
        ep = ensure_role(Role.SUPERVISOR, settings)
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": message}]
        parts: list[str] = []
        for delta in stream_chat(ep, messages, max_tokens=512):
            parts.append(delta)
            yield TokenEvent(text=delta)
        yield FinalEvent(text="".join(parts), thread_id=thread_id)
    except SparkAgentsError as e:
        yield ErrorEvent(message=str(e))
