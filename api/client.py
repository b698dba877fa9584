"""The thin client every front end uses to reach the resident service (see `api.service`).

It starts the service on first use, sends the local token, turns the service's JSON errors into one
`SparkAgentsError` line, parses the event stream of a turn back into `core.wire` events, and, when
the service has died, starts a new one and says so once.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx

from api.service import ServiceHandle, ServiceSettings, ensure_service, healthy, tls_verify
from core.errors import SparkAgentsError
from core.wire import EVENT_ADAPTER, ErrorEvent, Event, ToolResult, TurnRequest

log = logging.getLogger(__name__)


class ServiceError(SparkAgentsError):
    """The service answered with an error (its message is the user's message) or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


Notice = Callable[[str], None]
T = TypeVar("T")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class ServiceClient:
    """One connection to the service for this data directory (or `SPARK_AGENTS_SERVICE_URL`)."""

    def __init__(self, settings: ServiceSettings, notice: Notice | None = _stderr) -> None:
        self.settings = settings
        self.notice = notice
        self._handle: ServiceHandle | None = None
        self._http: httpx.Client | None = None

    # --- connection --------------------------------------------------------------------------------
    def _connect(self, restarted: bool = False) -> httpx.Client:
        handle = ensure_service(self.settings)
        if handle.started and self.notice:
            if restarted or handle.restarted:  # always said, once: the user's earlier service is gone
                self.notice(f"The Spark Agents service had stopped; started it again ({handle.url}, pid {handle.pid}).")
            elif sys.stderr.isatty():  # a first start is news for a person, noise for a script
                self.notice(f"Spark Agents service started ({handle.url}, pid {handle.pid}).")
        headers = {"Authorization": f"Bearer {handle.token}"} if handle.token else {}
        if self._http is not None:
            self._http.close()
        self._handle = handle
        timeout = httpx.Timeout(30.0, read=None)
        self._http = httpx.Client(base_url=handle.url, headers=headers, timeout=timeout, verify=tls_verify(handle.url))
        return self._http

    @property
    def url(self) -> str:
        if self._handle is None:
            self._connect()
        assert self._handle is not None
        return self._handle.url

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, build: Callable[[httpx.Client], T]) -> T:
        """Send once; if the service is gone (it died, so nothing answers), start it again and resend once.

        Only a request that got no answer at all is resent, and only after the service is seen to be down."""
        http = self._http or self._connect()
        try:
            return build(http)
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as e:
            if self.settings.service_url:
                raise ServiceError(
                    f"The Spark Agents service at {self.settings.service_url} is unreachable: {e}"
                ) from e
            if self._handle is not None and healthy(self._handle.url):
                raise ServiceError(
                    f"The Spark Agents service dropped the request ({type(e).__name__}); try again."
                ) from e
            log.info("service unreachable (%s); restarting it", e)
            return build(self._connect(restarted=True))

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(lambda http: http.request(method, path, **kwargs))
        _raise_for_error(response)
        return response.json() if response.content else None

    # --- the native API ----------------------------------------------------------------------------
    def turn(self, request: TurnRequest) -> Iterator[Event]:
        """A turn's typed events as the service streams them; the last is a final or an error event.
        `request.approval` answers a paused turn: the events are the rest of that turn."""
        yield from self._events("/api/turns", request.model_dump(mode="json"))

    def _open_stream(
        self, path: str, body: dict[str, Any] | None, params: dict[str, str] | None = None, files: Any = None
    ) -> Any:
        def start(http: httpx.Client) -> tuple[Any, httpx.Response]:
            context = http.stream("POST", path, json=body, params=params, files=files)
            return context, context.__enter__()

        return self._send(start)

    def _events(self, path: str, body: dict[str, Any]) -> Iterator[Any]:
        context, response = self._open_stream(path, body)
        try:
            if response.status_code >= 400:
                response.read()
                _raise_for_error(response)
            ended = False
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                event = EVENT_ADAPTER.validate_json(line[6:])
                ended = event.type in ("final", "error")
                yield event
                if ended:
                    return
            yield ErrorEvent(message="The Spark Agents service closed the stream before the turn ended.")
        except httpx.HTTPError as e:
            yield ErrorEvent(message=f"Lost the Spark Agents service during the turn ({type(e).__name__}); try again.")
        finally:
            context.__exit__(None, None, None)

    def tool(self, server: str, tool: str, arguments: dict[str, Any] | None = None) -> ToolResult:
        """Call one capability tool through the service's MCP sessions; a tool error raises."""
        result = ToolResult.model_validate(self.request("POST", f"/api/tools/{server}/{tool}", json=arguments or {}))
        if result.is_error:
            raise ServiceError(tool_error_message(result.text) or f"{server}.{tool} failed")
        return result

    def tool_progress(
        self, server: str, tool: str, arguments: dict[str, Any], progress: Callable[[dict[str, Any]], None]
    ) -> ToolResult:
        """Like `tool`, with the server's progress notifications passed to `progress` as they arrive."""
        stream = self._open_stream(f"/api/tools/{server}/{tool}", arguments, {"stream": "true"})
        return self._progress_then_result(stream, f"{server}.{tool}", progress)

    def upload(self, files: list[tuple[str, bytes]], progress: Callable[[dict[str, Any]], None]) -> ToolResult:
        """Upload documents (name, content) to the service and ingest them, with the ingestion's progress;
        works with a service on another machine too. `structured["files"]` says what became of each file."""
        parts = [("files", (name, data)) for name, data in files]
        stream = self._open_stream("/api/documents", None, {"stream": "true"}, files=parts)
        return self._progress_then_result(stream, "rag.ingest_documents", progress)

    def _progress_then_result(
        self, stream: tuple[Any, httpx.Response], what: str, progress: Callable[[dict[str, Any]], None]
    ) -> ToolResult:
        context, r = stream
        try:
            if r.status_code >= 400:
                r.read()
                _raise_for_error(r)
            for line in r.iter_lines():
                if not line.startswith("data: "):
                    continue
                item = json.loads(line[6:])
                if item.get("type") == "progress":
                    progress(item)
                elif item.get("type") == "result":
                    result = ToolResult.model_validate(item)
                    if result.is_error:
                        raise ServiceError(tool_error_message(result.text) or f"{what} failed")
                    return result
        except httpx.HTTPError as e:
            raise ServiceError(
                f"Lost the Spark Agents service during {what} ({type(e).__name__}); what it had "
                "completed is kept — try again."
            ) from e
        finally:
            context.__exit__(None, None, None)
        raise ServiceError(f"The service closed the stream before {what} finished.")


def tool_error_message(text: str) -> str:
    """A tool error as the user should read it: without FastMCP's "Error executing tool X: " prefix."""
    return re.sub(r"^Error executing tool \S+: ", "", text.strip())


def _raise_for_error(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = response.text[:300] or f"HTTP {response.status_code}"
    raise ServiceError(message, response.status_code)
