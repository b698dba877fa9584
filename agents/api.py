"""The OpenAI-compatible HTTP API over the assistant (`spark-agents serve`). A thin adapter over `run_turn`.

Endpoints: `POST /v1/chat/completions` (streamed SSE or one JSON answer), `GET /v1/models`, `GET /health`,
and the OpenAPI schema at `/openapi.json` (browsable at `/docs`).

Conversations. The thread id comes from the `X-Thread-Id` header, else `metadata.thread_id`, else the
OpenAI `user` field; the answer names it in its `X-Thread-Id` header (and in `spark_agents.thread_id`).
With a thread id only the last user message is sent, since the thread holds the history. Without one, a
new thread is started and the client's earlier user and assistant messages (editor clients resend the whole
conversation) are prepended to the message as a transcript (its last `SPARK_AGENTS_API_HISTORY_CHARS`
characters), so the answer still sees the conversation. The client's system messages are not forwarded:
they describe the client's own tool protocol, and each agent has its own instructions.

The `model` picks who answers: `spark-agents` (the supervisor routes) or `spark-agents-coding`, `-rag`,
`-vision`, `-kg` (one specialist). Handoffs and tool calls stream as chunks with an empty `delta` and a
`spark_agents.event` field, which OpenAI clients ignore; the last chunk carries `spark_agents.thread_id`
and `spark_agents.citations`. Images in the last user message (`image_url` parts with `data:` URLs) are
saved under `<home>/uploads/` and given to the vision agent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.errors import ConfigError, SparkAgentsError
from serving.settings import ServingSettings

log = logging.getLogger(__name__)

BASE_MODEL = "spark-agents"
MODELS: dict[str, str | None] = {
    BASE_MODEL: None,
    f"{BASE_MODEL}-coding": "coding",
    f"{BASE_MODEL}-rag": "rag",
    f"{BASE_MODEL}-vision": "vision",
    f"{BASE_MODEL}-kg": "kg",
}
MODEL_DESCRIPTIONS = {
    BASE_MODEL: "the full assistant: the supervisor routes to the coding, rag, vision and kg agents",
    f"{BASE_MODEL}-coding": "the coding agent alone (writes and runs code in the sandbox)",
    f"{BASE_MODEL}-rag": "the documents agent alone (answers from ingested sources, with citations)",
    f"{BASE_MODEL}-vision": "the vision agent alone (images as data: URLs in image_url parts)",
    f"{BASE_MODEL}-kg": "the knowledge-graph agent alone",
}
THREAD_ID_RE = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


class ApiSettings(BaseSettings):
    """`spark-agents serve` configuration (prefix `SPARK_AGENTS_API_`)."""

    model_config = SettingsConfigDict(env_prefix="SPARK_AGENTS_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8800
    token: str | None = None  # bearer token; required when `host` is not a loopback address
    max_body_bytes: int = 512 * 1024  # larger request bodies get 413
    history_chars: int = 6000  # transcript of earlier user/assistant messages sent when no thread id is given
    emit_events: bool = True  # stream handoff/tool events as extra `spark_agents.event` chunks
    # Each running turn holds a worker thread while it waits for its next event; anyio's default pool (40)
    # would make the 41st concurrent turn wait for another to finish.
    run_threads: int = 1024


def is_loopback(host: str) -> bool:
    if host.strip("[]") in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to expose the assistant beyond this machine without a bearer token."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"refusing to serve on {host} without a token: anyone who reaches it could use the assistant. "
            "Set SPARK_AGENTS_API_TOKEN (or pass --token), or bind to 127.0.0.1."
        )


# --- the OpenAI request and response shapes --------------------------------------------------------


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class ImageURL(BaseModel):
    url: str
    detail: str | None = None


class ImagePart(BaseModel):
    type: Literal["image_url"]
    image_url: ImageURL


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text for p in self.content or [] if isinstance(p, TextPart))

    def images(self) -> list[str]:
        if isinstance(self.content, str) or self.content is None:
            return []
        return [p.image_url.url for p in self.content if isinstance(p, ImagePart)]


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat request. Sampling fields (`temperature`, `max_tokens`, `tools`, ...) are accepted and
    ignored: each agent uses its own settings. `n` must be 1."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "model": "spark-agents",
                    "messages": [{"role": "user", "content": "What do my notes say about Qdrant?"}],
                    "stream": True,
                    "metadata": {"thread_id": "3f2a9c1b7e40"},
                }
            ]
        },
    )

    model: str = Field(description="`spark-agents` or `spark-agents-<coding|rag|vision|kg>`; see /v1/models")
    messages: list[ChatMessage] = Field(min_length=1, description="the last one must be a user message")
    stream: bool = False
    user: str | None = Field(None, description="used as the thread id when no X-Thread-Id/metadata.thread_id")
    metadata: dict[str, str] | None = Field(None, description="`thread_id` continues a thread")
    n: int = Field(1, ge=1, le=1)


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class SparkAgentsInfo(BaseModel):
    thread_id: str
    citations: list[dict[str, Any]] = Field(default_factory=list)
    events: list[dict[str, Any]] = Field(default_factory=list, description="handoffs and tool calls, in order")


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    spark_agents: SparkAgentsInfo


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "spark-agents"
    description: str = ""


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    active_runs: int = Field(description="turns running now (a cancelled stream frees its run)")
    profile: str


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


def error_response(status: int, message: str, type_: str, code: str | None = None, **headers: str) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(message=message, type=type_, code=code))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers or None)


class ApiError(StarletteHTTPException):
    """An HTTP error with an OpenAI-shaped JSON body."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None):
        super().__init__(status, message)
        self.type, self.code = type_, code


# --- request plumbing ------------------------------------------------------------------------------


class _Guard:
    """Pure ASGI middleware (streams and disconnects pass through untouched): a request-size limit (413)
    and, when no token is set, a Host check against DNS rebinding (a browser page on another site cannot
    reach a loopback API through a name it controls)."""

    def __init__(self, app: ASGIApp, settings: ApiSettings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        limit = self.settings.max_body_bytes
        if not self.settings.token and not _host_allowed(headers.get("host", ""), self.settings.host):
            await error_response(421, "unexpected Host header (DNS-rebinding protection)", "invalid_request_error")(
                scope, receive, send
            )
            return
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise ApiError(413, _too_large_text(limit), code="request_too_large")
            return message

        await self.app(scope, limited, send)


def _too_large_text(limit: int) -> str:
    return f"request body over {limit} bytes; send less (the limit is SPARK_AGENTS_API_MAX_BODY_BYTES)"


def _too_large(limit: int) -> JSONResponse:
    return error_response(413, _too_large_text(limit), "invalid_request_error", "request_too_large")


def _host_allowed(host_header: str, bound: str) -> bool:
    name = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
    if host_header.startswith("["):
        name = host_header[: host_header.find("]") + 1]
    return is_loopback(name) or name.strip("[]") == bound.strip("[]")


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for e in error.errors()[:3]:
        if e.get("type") == "json_invalid":
            return "the request body is not valid JSON"
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
        parts.append(f"{loc or 'body'}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _thread_id(request: ChatCompletionRequest, header: str | None) -> str | None:
    tid = header or (request.metadata or {}).get("thread_id") or request.user
    if tid is not None and not THREAD_ID_RE.match(tid):
        raise ApiError(400, "thread id must be 1-128 characters of letters, digits and _.:@-", code="bad_thread_id")
    return tid


def _transcript(messages: list[ChatMessage], limit: int) -> str:
    # The client's system/developer prompts describe its own tool protocol; each agent has its own instructions.
    lines = [f"{m.role}: {m.text()}" for m in messages if m.role in ("user", "assistant") and m.text().strip()]
    text = "\n".join(lines)
    return text[-limit:] if len(text) > limit else text


def compose_message(messages: list[ChatMessage], with_history: bool, limit: int) -> str:
    """The text sent to run_turn: the last user message, after a transcript of the earlier ones when the
    conversation has no thread (documented in the module docstring)."""
    last = messages[-1].text()
    earlier = _transcript(messages[:-1], limit) if with_history else ""
    if not earlier:
        return last
    from agents.policy import CURRENT, EARLIER

    return f"{EARLIER}{earlier}{CURRENT}{last}"


def save_images(urls: list[str], settings: ServingSettings) -> list[str]:
    """Write `data:image/...;base64,` URLs under `<home>/uploads/` (named by content hash); return paths."""
    paths = []
    for url in urls:
        m = re.match(r"^data:image/([a-zA-Z0-9.+-]+);base64,(.*)$", url, re.S)
        if not m:
            raise ApiError(400, "image_url must be a data:image/...;base64 URL (remote URLs are not fetched)")
        try:
            data = base64.b64decode(m.group(2), validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "image_url holds invalid base64", code="bad_image") from None
        ext = {"jpeg": "jpg", "svg+xml": "svg"}.get(m.group(1).lower(), m.group(1).lower())
        folder = settings.home / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}.{ext}"
        if not path.exists():
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(path)
        paths.append(str(path))
    return paths


_END = object()
BEARER = HTTPBearer(auto_error=False, description="the token given to `spark-agents serve`, when one is set")


def _next(gen: Iterator[Any]) -> Any:
    return next(gen, _END)


class _Run:
    """One run_turn generator, driven from worker threads, always closed (which frees the run)."""

    def __init__(self, app: FastAPI, gen: Iterator[Any]) -> None:
        self.app, self.gen = app, gen

    async def __aenter__(self) -> _Run:
        if getattr(self.app.state, "run_limiter", None) is None:
            self.app.state.run_limiter = anyio.CapacityLimiter(self.app.state.settings.run_threads)
        self.limiter = self.app.state.run_limiter
        self.app.state.active_runs += 1
        return self

    async def events(self) -> AsyncIterator[Any]:
        while True:
            # Not abandoned on cancel: a cancelled request waits for the current step, then closes the run.
            event = await anyio.to_thread.run_sync(_next, self.gen, limiter=self.limiter)
            if event is _END:
                return
            yield event

    async def __aexit__(self, *exc: object) -> None:
        with anyio.CancelScope(shield=True):
            try:
                await anyio.to_thread.run_sync(self.gen.close, limiter=self.limiter)
            except Exception:  # noqa: BLE001 - closing is best effort; the run is gone either way
                log.exception("closing a run failed")
            finally:
                self.app.state.active_runs -= 1


def _is_event(event: Any, kind: str) -> bool:
    return getattr(event, "type", None) == kind


def _sse(payload: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode()


# --- the app ---------------------------------------------------------------------------------------


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """The FastAPI app; `spark-agents serve` runs it with uvicorn."""
    settings = settings or ApiSettings()
    app = FastAPI(
        title="Spark Agents API",
        version="0.1.0",
        summary="An OpenAI-compatible chat API over the Spark Agents assistant.",
        description=__doc__,
        responses={
            400: {"model": ErrorResponse, "description": "malformed or invalid request"},
            401: {"model": ErrorResponse, "description": "missing or wrong bearer token"},
            413: {"model": ErrorResponse, "description": "request body too large"},
        },
    )
    app.state.active_runs = 0
    app.state.settings = settings
    app.add_middleware(_Guard, settings=settings)

    def authorize(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
        if settings.token is None:
            return
        given = credentials.credentials if credentials else ""
        if not secrets.compare_digest(given.encode(), settings.token.encode()):
            raise ApiError(401, "missing or wrong bearer token (Authorization: Bearer <token>)", code="invalid_api_key")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(400, _validation_message(error), "invalid_request_error")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if isinstance(error, ApiError):
            extra = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else {}
            return error_response(error.status_code, str(error.detail), error.type, error.code, **extra)
        return error_response(error.status_code, str(error.detail), "invalid_request_error")

    @app.exception_handler(Exception)
    async def _crash(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error in %s %s", request.method, request.url.path)
        return error_response(500, f"internal error ({type(error).__name__}); see the server log", "server_error")

    @app.get("/health", response_model=Health, tags=["meta"])
    async def health() -> Health:
        """Liveness, and how many turns are running. Needs no token."""
        return Health(active_runs=app.state.active_runs, profile=ServingSettings().profile)

    @app.get("/v1/models", response_model=ModelList, dependencies=[Depends(authorize)], tags=["openai"])
    async def models() -> ModelList:
        """The assistant and each single specialist, as OpenAI model ids."""
        return ModelList(data=[ModelCard(id=m, description=MODEL_DESCRIPTIONS[m]) for m in MODELS])

    @app.post(
        "/v1/chat/completions",
        response_model=ChatCompletion,
        dependencies=[Depends(authorize)],
        tags=["openai"],
        responses={
            200: {
                "content": {"text/event-stream": {"description": "`chat.completion.chunk` events, then [DONE]"}},
                "headers": {"X-Thread-Id": {"description": "the thread this turn belongs to"}},
            },
            404: {"model": ErrorResponse, "description": "unknown model"},
            502: {"model": ErrorResponse, "description": "the model server or an agent failed"},
        },
    )
    async def chat_completions(
        request: Request,
        body: ChatCompletionRequest,
        x_thread_id: Annotated[str | None, Header(description="continue this thread")] = None,
    ) -> Any:
        """One turn of the assistant, streamed (`stream: true`, SSE) or as one JSON answer."""
        if body.model not in MODELS:
            raise ApiError(
                404, f"unknown model {body.model!r}; use one of: {', '.join(MODELS)}", code="model_not_found"
            )
        last = body.messages[-1]
        if last.role != "user":
            raise ApiError(400, "the last message must be a user message", code="bad_messages")
        if not last.text().strip() and not last.images():
            raise ApiError(400, "the last user message is empty", code="bad_messages")
        given = _thread_id(body, x_thread_id)
        serving = ServingSettings()
        attachments = save_images(last.images(), serving)
        message = compose_message(body.messages, given is None, settings.history_chars)
        from agents.threads import ThreadStore
        from agents.turn import run_turn

        thread_id = given or uuid.uuid4().hex[:12]
        ThreadStore().touch(thread_id, last.text())
        gen = run_turn(message, thread_id=thread_id, attachments=attachments, agent=MODELS[body.model])
        headers = {"X-Thread-Id": thread_id}
        cid = f"chatcmpl-{uuid.uuid4().hex[:20]}"
        created = int(time.time())
        if body.stream:
            stream = _stream(app, gen, cid, created, body.model, thread_id, settings.emit_events)
            return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
        return await _complete(app, request, gen, cid, created, body.model, thread_id, headers)

    return app


async def _complete(
    app: FastAPI,
    request: Request,
    gen: Iterator[Any],
    cid: str,
    created: int,
    model: str,
    thread_id: str,
    headers: dict[str, str],
) -> JSONResponse:
    parts: list[str] = []
    trace: list[dict[str, Any]] = []
    async with _Run(app, gen) as run:
        try:
            async for event in run.events():
                if await request.is_disconnected():  # nobody is waiting: free the run
                    return error_response(499, "client closed the request", "invalid_request_error")
                if _is_event(event, "token"):
                    parts.append(event.text)
                elif _is_event(event, "final"):
                    info = SparkAgentsInfo(
                        thread_id=event.thread_id or thread_id, citations=event.citations, events=trace
                    )
                    answer = ChatCompletion(
                        id=cid,
                        created=created,
                        model=model,
                        choices=[Choice(message=AssistantMessage(content=event.text or "".join(parts)))],
                        spark_agents=info,
                    )
                    return JSONResponse(answer.model_dump(), headers=headers)
                elif _is_event(event, "error"):
                    return error_response(502, event.message, "upstream_error", "run_failed", **headers)
                else:
                    trace.append(event.model_dump(mode="json"))
        except SparkAgentsError as e:
            return error_response(502, str(e), "upstream_error", "run_failed", **headers)
    return error_response(502, "the run ended without an answer", "upstream_error", "run_failed", **headers)


async def _stream(
    app: FastAPI, gen: Iterator[Any], cid: str, created: int, model: str, thread_id: str, emit_events: bool
) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None, extra: dict[str, Any] | None = None) -> bytes:
        payload: dict[str, Any] = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if extra:
            payload["spark_agents"] = extra
        return _sse(payload)

    def error(message: str, type_: str) -> bytes:
        return _sse({"error": {"message": message, "type": type_, "code": "run_failed"}})

    async with _Run(app, gen) as run:
        yield chunk({"role": "assistant", "content": ""})
        streamed = False
        try:
            async for event in run.events():
                if _is_event(event, "token"):
                    if event.text:
                        streamed = True
                        yield chunk({"content": event.text})
                elif _is_event(event, "final"):
                    if not streamed and event.text:
                        yield chunk({"content": event.text})
                    extra = {"thread_id": event.thread_id or thread_id, "citations": event.citations}
                    yield chunk({}, "stop", extra)
                    yield b"data: [DONE]\n\n"
                    return
                elif _is_event(event, "error"):
                    yield error(event.message, "upstream_error")
                    return
                elif emit_events:
                    yield chunk({}, None, {"event": event.model_dump(mode="json")})
        except SparkAgentsError as e:
            yield error(str(e), "upstream_error")
            return
        except Exception as e:  # noqa: BLE001 - reported in the stream, logged with its traceback
            log.exception("run failed mid-stream")
            yield error(f"internal error ({type(e).__name__}); see the server log", "server_error")
            return
        yield error("the run ended without an answer", "upstream_error")
