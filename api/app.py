"""The resident service's HTTP app (`spark-agents serve`): the composition root, whose state holds the runtime
(`api.runtime`), and the OpenAI-compatible API over it.

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

import functools
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request

from agents.settings import AgentSettings
from api.catalog import MODEL_DESCRIPTIONS, MODELS
from api.conversation import compose_message, thread_id_of
from api.errors import ApiError, install_error_handlers
from api.graphs import graph_router
from api.guards import BodyLimit, HostCheck, authorizer, service_authorizer
from api.images import save_images
from api.native import native_router
from api.runtime import RuntimeSlot
from api.schemas import ChatCompletion, ChatCompletionRequest, ErrorResponse, Health, ModelCard, ModelList
from api.settings import ApiSettings
from api.streaming import Reply, complete_response, run_events, stream_response
from core.wire import TurnRequest
from kg.settings import KGSettings
from serving.settings import ServingSettings


def create_app(
    settings: ApiSettings,
    serving: ServingSettings,
    agents: AgentSettings,
    graph: KGSettings,
    *,
    service_token: str | None = None,
    openai_needs_token: bool = False,
) -> FastAPI:
    """The service's FastAPI app: the OpenAI-compatible endpoints and the native API (`api.native`), whose
    routes accept `service_token` (the home's token file) or the API token; with `openai_needs_token` the
    OpenAI endpoints do too (the detached service: nobody else on the machine may drive it). The settings
    are the service process's, read once at its edge; the runtime is built from them on first use."""
    slot = RuntimeSlot(serving, agents)
    identity = {"profile": serving.profile, "home": str(serving.home), "pid": os.getpid()}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await slot.aclose()  # the MCP sessions and the checkpointer close on the loop they were opened on

    app = FastAPI(
        lifespan=lifespan,
        title="Spark Agents API",
        version="0.1.0",
        summary="The Spark Agents service: an OpenAI-compatible chat API and the native API its front ends use.",
        description=__doc__,
        responses={
            400: {"model": ErrorResponse, "description": "malformed or invalid request"},
            401: {"model": ErrorResponse, "description": "missing or wrong bearer token"},
            413: {"model": ErrorResponse, "description": "request body too large"},
        },
    )
    app.state.active_runs = 0
    app.state.settings = settings
    app.state.runtime = slot
    upload = (settings.max_upload_bytes, "SPARK_AGENTS_API_MAX_UPLOAD_BYTES")
    uploads = {path: upload for path in ("/api/documents", "/api/graph/build", "/api/graph/import")}
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, per_path=uploads)
    if not settings.token:  # a token already keeps other sites' pages out; without one, check the Host
        app.add_middleware(HostCheck, bound=settings.host)  # added last: runs first, before the size check
    install_error_handlers(app)
    always = service_authorizer(settings, service_token)
    authorize = always if openai_needs_token else authorizer(settings)
    app.include_router(native_router(always, functools.partial(run_events, app), slot, serving))
    app.include_router(graph_router(always, graph))

    @app.get("/health", response_model=Health, tags=["meta"])
    async def health() -> Health:
        """Liveness, and how many turns are running. Needs no token."""
        return Health(active_runs=app.state.active_runs, **identity)

    @app.get(
        "/v1/models",
        response_model=ModelList,
        response_model_exclude_unset=True,
        dependencies=[Depends(authorize)],
        tags=["openai"],
    )
    async def models() -> ModelList:
        """The assistant and each single specialist, as OpenAI model ids."""
        cards = [
            ModelCard(id=m, object="model", created=0, owned_by="spark-agents", description=MODEL_DESCRIPTIONS[m])
            for m in MODELS
        ]
        return ModelList(object="list", data=cards)

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
        given = thread_id_of(body, x_thread_id)
        attachments = save_images(last.images(), serving)
        message = compose_message(body.messages, given is None, settings.history_chars)
        # Named here, not by the runtime, so the X-Thread-Id header can go out before the first event;
        # the runtime records the thread (titled after the user's own request) when the turn starts.
        reply = Reply(model=body.model, thread_id=given or uuid.uuid4().hex[:12])
        gen = slot.turn(
            TurnRequest(message=message, thread_id=reply.thread_id, attachments=attachments, agent=MODELS[body.model])
        )
        if body.stream:
            return stream_response(app, gen, reply, settings.emit_events)
        return await complete_response(app, request, gen, reply)

    return app
