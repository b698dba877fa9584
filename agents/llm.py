"""Streaming chat calls to an OpenAI-compatible endpoint, with LangChain messages in and out.

Our own thin adapter rather than ChatOpenAI: gpt-oss through llama.cpp or trtllm-serve needs each
assistant message's `reasoning_content` sent back on later calls, and ChatOpenAI drops it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from serving.chat_stream import ModelClients
from serving.errors import ModelServerError, ModelServerUnavailable
from serving.registry import Endpoint
from serving.settings import ServingSettings

TokenSink = Callable[[str], Awaitable[None] | None]
log = logging.getLogger(__name__)


def to_openai(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, SystemMessage):
            out.append({"role": "system", "content": m.content})
        elif isinstance(m, HumanMessage):
            out.append({"role": "user", "content": m.content})
        elif isinstance(m, ToolMessage):
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": str(m.content)})
        elif isinstance(m, AIMessage):
            msg: dict[str, Any] = {"role": "assistant", "content": m.content or None}
            calls = [
                {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": json.dumps(c["args"])}}
                for c in m.tool_calls
            ] + [
                {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["args"] or ""}}
                for c in m.invalid_tool_calls
            ]
            if calls:
                msg["tool_calls"] = calls
            if m.additional_kwargs.get("reasoning_content"):
                msg["reasoning_content"] = m.additional_kwargs["reasoning_content"]
            if msg["content"] is None and not calls:
                msg["content"] = ""
            out.append(msg)
    return out


# Harmony's control tokens: in content they mean llama.cpp's or vLLM's gpt-oss parser let raw output through.
HARMONY_TOKEN = re.compile(r"<\|(?:start|end|message|channel|constrain|call|return)\|>")
_FINAL = re.compile(r"<\|channel\|>\s*final\s*<\|message\|>(.*?)(?:<\|(?:end|return|call)\|>|$)", re.DOTALL)


def unparseable(ai: AIMessage, *, tool_calls_too: bool) -> str | None:
    """Why this answer is neither text nor tool calls (None: it is usable)."""
    text = str(ai.content)
    if HARMONY_TOKEN.search(text):
        return "its text held raw Harmony control tokens (<|channel|>…), an answer the server failed to parse"
    if tool_calls_too and ai.invalid_tool_calls and not ai.tool_calls:
        bad = ai.invalid_tool_calls[0]
        return f"its call to {bad['name'] or 'a tool'} had {bad['error']}"
    if not text.strip() and not ai.tool_calls and not ai.invalid_tool_calls:
        return "it was empty (no text and no tool call)"
    return None


def salvage_harmony(ai: AIMessage) -> AIMessage:
    """Keep the final channel's text when a leaked Harmony answer has one (nothing to repair then)."""
    text = str(ai.content)
    if not HARMONY_TOKEN.search(text):
        return ai
    finals = _FINAL.findall(text)
    if finals and finals[-1].strip() and not HARMONY_TOKEN.search(finals[-1]):
        return ai.model_copy(update={"content": finals[-1].strip()})
    return ai


def repair_instruction(reason: str) -> HumanMessage:
    return HumanMessage(
        f"(Your previous reply could not be used: {reason}. Reply again to the conversation above, either with "
        "plain text only, or with exactly one tool call whose arguments are a valid JSON object.)"
    )


async def chat(
    ep: Endpoint,
    messages: list[BaseMessage],
    *,
    serving: ServingSettings,
    tools: list[dict[str, Any]] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    response_format: dict[str, Any] | None = None,
    max_tokens: int = 1024,
    on_token: TokenSink | None = None,
    repair_tool_calls: bool = False,
    clients: ModelClients | None = None,
) -> AIMessage:
    """One model answer that is text or tool calls. An answer that is neither (empty, raw Harmony tokens from
    a gpt-oss parse failure; with `repair_tool_calls`, also tool-call arguments that are not JSON) is asked
    for once more with a repair instruction; a second such answer is one ModelServerError. Without
    `repair_tool_calls`, invalid arguments come back as `invalid_tool_calls` (with the parse error) so the
    caller can feed the error back to the model itself. `clients` is the caller's connection pool (the
    runtime's); without one, the call opens and closes its own."""
    pool = clients or ModelClients()
    try:
        if ep.managed == "llama-cpp":
            ep = await asyncio.to_thread(_ready, ep, serving)
        kwargs = dict(
            clients=pool,
            tools=tools,
            tool_choice=tool_choice,
            response_format=response_format,
            max_tokens=max_tokens,
            on_token=on_token,
        )
        ai = salvage_harmony(await chat_once(ep, messages, **kwargs))  # type: ignore[arg-type]
        reason = unparseable(ai, tool_calls_too=repair_tool_calls)
        if reason is None:
            return ai
        log.warning("%s model answer unusable (%s): asking once more", ep.role.value, reason)
        retry = salvage_harmony(await chat_once(ep, [*messages, repair_instruction(reason)], **kwargs))  # type: ignore[arg-type]
        again = unparseable(retry, tool_calls_too=repair_tool_calls)
        if again is None:
            return retry
    finally:
        if clients is None:  # the pool was this call's alone
            await pool.aclose()
    raise ModelServerError(
        ep.role,
        ep.base_url,
        f"the model's answer could not be used twice in a row ({reason}; then {again}). "
        "Try again, rephrase, or lower the sampling temperature.",
    )


def _ready(ep: Endpoint, settings: ServingSettings) -> Endpoint:
    """An on-demand local server is started (within admission) for the call and its idle clock reset."""
    if not settings.on_demand_servers:
        return ep
    from serving.lifecycle import ready, server_for

    server = server_for(ep.role, settings)
    if server is None or not server.on_demand:
        return ep
    return ready(ep.role, settings).model_copy(update={"model": ep.model})


def _first_choice(chunk: Any) -> dict[str, Any] | None:
    """The first choice of a raw stream chunk; None for a chunk without one (e.g. usage)."""
    if not isinstance(chunk, dict):
        raise ValueError("a stream chunk is not a JSON object")
    choices = chunk.get("choices") or []
    if not isinstance(choices, list):
        raise ValueError("a stream chunk's choices are not a list")
    if not choices:
        return None
    choice = choices[0]
    if not isinstance(choice, dict) or not isinstance(choice.get("delta") or {}, dict):
        raise ValueError("a stream chunk's choice is not a JSON object")
    return choice


def _text(fields: Any, key: str) -> str:
    if not isinstance(fields, dict):
        raise ValueError(f"a stream chunk's {key!r} is in something that is not a JSON object")
    value = fields.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"a stream chunk's {key!r} is not a string")
    return value


async def chat_once(
    ep: Endpoint,
    messages: list[BaseMessage],
    *,
    clients: ModelClients,
    tools: list[dict[str, Any]] | None = None,
    tool_choice: str | dict[str, Any] | None = None,
    response_format: dict[str, Any] | None = None,
    max_tokens: int = 1024,
    on_token: TokenSink | None = None,
) -> AIMessage:
    """One streamed model call, as the server answered it (within the endpoint's timeout)."""
    kwargs: dict[str, Any] = {"model": ep.model, "messages": to_openai(messages), "max_tokens": max_tokens}
    if tools:
        kwargs["tools"] = tools
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
    if response_format:
        kwargs["response_format"] = response_format
    content: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, dict[str, str]] = {}
    finished = False
    try:
        # Raw JSON chunks, no pydantic model per chunk (bench: 32 -> 14 ms of client time for a 50-token
        # answer with the openai client; the cost grows with every token).
        async for chunk in clients.stream(ep, kwargs):
            choice = _first_choice(chunk)
            if choice is None:
                continue
            delta = choice.get("delta") or {}
            if text := _text(delta, "content"):
                content.append(text)
                if on_token:
                    result = on_token(text)
                    if result is not None:
                        await result
            if text := _text(delta, "reasoning_content"):
                reasoning.append(text)
            for tc in delta.get("tool_calls") or []:
                _add_call_delta(calls, tc)
            finished = finished or choice.get("finish_reason") is not None
    except ValueError as e:  # a chunk of a shape no OpenAI-compatible server sends
        raise ModelServerError(ep.role, ep.base_url, f"unexpected answer ({e})"[:300]) from e
    if not finished:
        if not content and not calls:
            raise ModelServerError(ep.role, ep.base_url, "the answer was not an OpenAI-compatible stream")
        raise ModelServerUnavailable(ep.role, ep.base_url, "the stream ended before the answer was complete")
    valid, invalid = _tool_calls(calls)
    extra_kwargs = {"reasoning_content": "".join(reasoning)} if reasoning else {}
    return AIMessage(
        content="".join(content), tool_calls=valid, invalid_tool_calls=invalid, additional_kwargs=extra_kwargs
    )


def _add_call_delta(calls: dict[int, dict[str, str]], tc: Any) -> None:
    """One streamed piece of a tool call, added to the call it continues."""
    if not isinstance(tc, dict):
        raise ValueError("a tool call in the stream is not a JSON object")
    slot = calls.setdefault(int(tc.get("index") or 0), {"id": "", "name": "", "arguments": ""})
    slot["id"] = str(tc.get("id") or slot["id"])
    function = tc.get("function") or {}
    name = _text(function, "name")
    # OpenAI sends the name once; llama-cpp-python repeats it in every chunk.
    if name and name != slot["name"]:
        slot["name"] += name
    slot["arguments"] += _text(function, "arguments")


def _tool_calls(calls: dict[int, dict[str, str]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The streamed tool calls: those whose arguments are a JSON object, and the others with their parse error."""
    valid, invalid = [], []
    for i, slot in sorted(calls.items()):
        call_id = slot["id"] or f"call_{i}"
        try:
            args = json.loads(slot["arguments"] or "{}")
            if not isinstance(args, dict):
                raise ValueError("arguments must be a JSON object")
            valid.append({"id": call_id, "name": slot["name"], "args": args, "type": "tool_call"})
        except ValueError as e:
            error = f"arguments are not valid JSON ({e})"
            invalid.append(
                {
                    "id": call_id,
                    "name": slot["name"],
                    "args": slot["arguments"],
                    "error": error,
                    "type": "invalid_tool_call",
                }
            )
    return valid, invalid
