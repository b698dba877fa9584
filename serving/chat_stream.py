"""Streamed chat completions from an OpenAI-compatible server, as raw JSON chunks, on a kept connection pool.

The agents' turn path makes one or more model calls per turn; the openai client spends ~2.8 ms of CPU on
each (request building, httpx, h11, its SSE reader), aiohttp ~0.6 ms (a C HTTP parser), and concurrent turns
share one core (`bench orchestration`). Errors read as `serving.client.translate` words them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from serving.errors import ModelServerError, ModelServerUnavailable
from serving.roles import Endpoint

MAX_LINE = 2**20  # one SSE line: a server that sends a whole tool call in one chunk can exceed aiohttp's 64 KiB


class ModelClients:
    """One HTTP connection pool for every model endpoint, opened on the loop that first uses it; `aclose()`
    ends it. The runtime holds one for its life; a caller without one gets a pool for its call alone."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # trust_env: HTTP(S)_PROXY and NO_PROXY apply as they did through the openai client (httpx)
            self._session = aiohttp.ClientSession(read_bufsize=MAX_LINE // 2, trust_env=True)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def stream(self, ep: Endpoint, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """POST `body` (with `stream: true`) to the endpoint's /chat/completions; yield each chunk's JSON.

        Unreachable, refused or silent past the endpoint's timeout: ModelServerUnavailable. An HTTP error, a
        body that is not an event stream of JSON objects, or an error event: ModelServerError."""
        if ep.base_url is None:
            raise ModelServerUnavailable(ep.role, None, "this role is not configured for the active profile")
        url = ep.base_url.rstrip("/") + "/chat/completions"
        headers = {"Authorization": f"Bearer {ep.api_key or 'not-needed'}", "Accept": "text/event-stream"}
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=ep.timeout, sock_read=ep.timeout)
        try:
            async with self.session().post(
                url, json={**body, "stream": True}, headers=headers, timeout=timeout
            ) as response:
                await _check_status(ep, response)
                async for data in _sse_data(response):
                    yield _chunk(ep, data)
        except TimeoutError:
            raise ModelServerUnavailable(ep.role, ep.base_url, "timed out") from None
        except aiohttp.ClientConnectionError as e:
            reason = "the connection closed mid-answer" if isinstance(e, aiohttp.ServerDisconnectedError) else None
            raise ModelServerUnavailable(
                ep.role, ep.base_url, reason or f"connection failed ({type(e).__name__})"
            ) from e
        except aiohttp.ClientPayloadError as e:
            raise ModelServerUnavailable(ep.role, ep.base_url, "the connection closed mid-answer") from e
        except (aiohttp.ClientError, ValueError) as e:
            raise ModelServerError(ep.role, ep.base_url, f"unexpected answer ({e})"[:300]) from e


async def _check_status(ep: Endpoint, response: aiohttp.ClientResponse) -> None:
    if response.status >= 400:
        raise ModelServerError(ep.role, ep.base_url, f"HTTP {response.status}: {_error_text(await response.read())}")
    kind = response.headers.get("Content-Type", "")
    if not kind.startswith("text/event-stream"):
        start = (await response.content.read(120)).decode(errors="replace")
        raise ValueError(f"not an event stream ({kind or 'no content type'}): {start!r}")


def _error_text(body: bytes) -> str:
    """The server's own error message where it sent one in OpenAI's shape; else the body's start."""
    try:
        message = _message(json.loads(body).get("error"))
        if message:
            return message[:200]
    except (ValueError, AttributeError):
        pass
    return body.decode(errors="replace")[:200]


def _message(error: Any) -> str:
    """An OpenAI-shaped error's message: `{"message": ...}`, or the error itself when it is plain."""
    message = error.get("message") if isinstance(error, dict) else error
    return str(message) if message else ""


async def _sse_data(response: aiohttp.ClientResponse) -> AsyncIterator[str]:
    """Each server-sent event's data (its `data:` lines joined), up to `[DONE]` or the end of the stream."""
    lines: list[str] = []
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("data:"):
            lines.append(line[5:].removeprefix(" "))
        elif not line and lines:
            data, lines = "\n".join(lines), []
            if data == "[DONE]":
                return
            yield data
    if lines and (data := "\n".join(lines)) != "[DONE]":
        yield data


def _chunk(ep: Endpoint, data: str) -> dict[str, Any]:
    chunk = json.loads(data)
    if not isinstance(chunk, dict):
        raise ValueError("a stream chunk is not a JSON object")
    if "error" in chunk:  # llama.cpp and vLLM report a failure mid-stream as an error event
        message = _message(chunk["error"])
        raise ModelServerError(ep.role, ep.base_url, f"the server reported an error mid-answer: {message}"[:300])
    return chunk
