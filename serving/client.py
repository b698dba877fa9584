"""OpenAI-compatible clients per role, with transport failures turned into one clear project error."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, cast

import openai
from openai.types.chat import ChatCompletionChunk

from serving.errors import ModelServerError, ModelServerUnavailable
from serving.registry import Endpoint


def openai_client(ep: Endpoint) -> openai.OpenAI:
    if ep.base_url is None:
        raise ModelServerUnavailable(ep.role, None, "this role is not configured for the active profile")
    return openai.OpenAI(
        base_url=ep.base_url,
        api_key=ep.api_key or "not-needed",
        timeout=ep.timeout,
        max_retries=0,
    )


def translate(ep: Endpoint, error: Exception) -> Exception:
    """Map the openai/httpx exception zoo onto ModelServerUnavailable / ModelServerError."""
    if isinstance(error, openai.APITimeoutError):
        return ModelServerUnavailable(ep.role, ep.base_url, "timed out")
    if isinstance(error, openai.APIConnectionError):
        cause = error.__cause__ or error
        return ModelServerUnavailable(ep.role, ep.base_url, f"connection failed ({type(cause).__name__})")
    if isinstance(error, openai.APIStatusError):
        return ModelServerError(ep.role, ep.base_url, f"HTTP {error.status_code}: {error.message[:200]}")
    if isinstance(error, openai.APIError | ValueError | KeyError | TypeError):
        return ModelServerError(ep.role, ep.base_url, f"unexpected answer ({error})"[:300])
    return error


def stream_chat(ep: Endpoint, messages: list[dict[str, Any]], **kwargs: Any) -> Iterator[str]:
    """Yield the answer's text deltas as they arrive; a stream cut short is an error, not a short answer."""
    client = openai_client(ep)
    chunks, finished = 0, False
    try:
        stream: Iterable[ChatCompletionChunk] = client.chat.completions.create(
            model=ep.model, messages=cast(Any, messages), stream=True, **kwargs
        )
        for chunk in stream:
            chunks += 1
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content
            finished = finished or bool(chunk.choices and chunk.choices[0].finish_reason)
    except Exception as e:  # noqa: BLE001 - re-raised as a project error
        raise translate(ep, e) from e
    if chunks == 0:
        raise ModelServerError(ep.role, ep.base_url, "the answer was not an OpenAI-compatible stream")
    if not finished:
        raise ModelServerUnavailable(ep.role, ep.base_url, "the stream ended before the answer was complete")


def json_schema_format(ep: Endpoint, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A `response_format` that constrains the answer to `schema` on this endpoint's server.

    llama-cpp-python's server takes `{"type": "json_object", "schema": ...}` (upstream llama-server accepts
    that too); OpenAI, vLLM and trtllm-serve take `{"type": "json_schema", "json_schema": ...}`.
    """
    if ep.managed == "llama-cpp":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}
