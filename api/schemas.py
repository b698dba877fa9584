"""The request and response shapes of the OpenAI-compatible endpoints.

Responses reuse `openai.types` (the shapes the official client parses) and add our `spark_agents` field;
they are sent with `exclude_unset`, so the wire carries exactly the fields we set, whatever optional fields
newer `openai` releases add to those types.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from openai.types import Model
from openai.types.chat import ChatCompletion as OpenAIChatCompletion
from openai.types.chat import ChatCompletionChunk as OpenAIChatCompletionChunk
from openai.types.shared import ErrorObject
from pydantic import BaseModel, ConfigDict, Field

# --- the request: ours, because openai's request params are client-side TypedDicts, not validating models -------


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


# --- responses ---------------------------------------------------------------------------------------------


class SparkAgentsInfo(BaseModel):
    thread_id: str
    citations: list[dict[str, Any]] = Field(default_factory=list)
    events: list[dict[str, Any]] = Field(default_factory=list, description="handoffs and tool calls, in order")


class ChatCompletion(OpenAIChatCompletion):
    """openai's `chat.completion`, plus the thread, citations and trace of the turn."""

    spark_agents: SparkAgentsInfo


class ChunkInfo(BaseModel):
    """`event` on a handoff/tool chunk (OpenAI clients ignore it); `thread_id` and `citations` on the last."""

    event: dict[str, Any] | None = None
    thread_id: str | None = None
    citations: list[dict[str, Any]] | None = None


class ChatCompletionChunk(OpenAIChatCompletionChunk):
    """openai's `chat.completion.chunk`, plus our optional `spark_agents` field."""

    spark_agents: ChunkInfo | None = None


class ModelCard(Model):
    """openai's model object, plus what each of our models does."""

    description: str = ""


class ModelList(BaseModel):
    """Ours: openai's client pages model lists (`SyncPage`) and ships no response type for them."""

    object: Literal["list"] = "list"
    data: list[ModelCard]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    service: Literal["spark-agents"] = "spark-agents"  # so a client can tell this service from another program
    active_runs: int = Field(description="turns running now (a cancelled stream frees its run)")
    profile: str
    home: str = Field("", description="the data directory this service owns")
    pid: int = 0


class ErrorResponse(BaseModel):
    """Ours: openai has the inner `ErrorObject` but no type for the `{"error": ...}` envelope."""

    error: ErrorObject
