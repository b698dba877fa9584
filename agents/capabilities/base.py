"""What a capability is: its registry entry, and the hooks through which the specialist loop asks it what
its tools' results mean.

The loop (agents/specialist.py) knows no tool and no agent by name. A capability says how its results
become citations, what follows one of its tools (the documents capability adds the knowledge graph's
facts to a search; the vision capability reads the image with OCR when no vision model described it),
how a small model's answer is written from a result, what fills an argument the user named by its
title, and how the supervisor probes it before routing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from serving.roles import Role

if TYPE_CHECKING:
    from mcp.types import Tool

    from agents.mcp_pool import MCPPool, ToolOutcome
    from agents.settings import AgentSettings, Rule
    from core.wire import Event


@dataclass
class ToolContext:
    """What a hook may use during a specialist's visit."""

    agent: str
    question: str  # the user's own request (an API client's transcript of earlier turns left out)
    tools: Mapping[str, Tool]  # the capability server's tools by name
    settings: AgentSettings
    pool: MCPPool  # any server's tools, unlogged (a hook shows what it adds with `emit`)
    emit: Callable[[Event], None]
    call: Callable[[str, dict[str, Any]], Awaitable[ToolOutcome]]  # a tool of this server, shown in the trace
    fixed: Callable[[Tool], dict[str, Any]]  # the arguments the user's choices set (attached images, sources)


@dataclass(frozen=True)
class Probe:
    """What a capability's probe found, and the call that found it: handed over to the specialist, whose
    first call of that tool it answers (a documents turn makes one search, not two)."""

    note: str  # how the handoff is shown ("your documents cover blackwell, tensor")
    tool: str
    arguments: dict[str, Any]
    outcome: ToolOutcome

    def handover(self) -> dict[str, Any]:
        """As the thread's state keeps it (plain data)."""
        return {"tool": self.tool, "arguments": self.arguments, "outcome": self.outcome.model_dump()}


AfterTool = Callable[[ToolContext, "ToolOutcome"], Awaitable["ToolOutcome"]]
Renderer = Callable[[dict[str, Any]], str]
Resolver = Callable[[ToolContext, "Tool", list[str]], Awaitable[dict[str, Any]]]
Citer = Callable[["ToolOutcome", int], list[dict[str, Any]]]
Prober = Callable[["MCPPool", str], Awaitable[Probe | None]]


def shorten(text: str, limit: int = 500) -> str:
    """A tool result as the trace shows it: cut with a marker that says how much is left out."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def citations_from(outcome: ToolOutcome, start: int) -> list[dict[str, Any]]:
    """Citations from a search tool's structured result (`hits`/`results`/`chunks` with a `citation`, and
    the knowledge graph's `graph_facts`), numbered on from `start`."""
    from rag.passages import quoted

    data: Any = outcome.structured or {}
    if "result" in data and isinstance(data["result"], dict | list):
        data = data["result"]
    items: list[Any] = (
        data
        if isinstance(data, list)
        else next((data[k] for k in ("hits", "results", "chunks") if isinstance(data.get(k), list)), [])
    )
    found: list[dict[str, Any]] = []
    query = str(data.get("query") or "") if isinstance(data, dict) else ""

    def cite(citation: str, item: dict[str, Any]) -> None:
        label = str(start + len(found) + 1)
        where = {k: item.get(k) for k in ("source_id", "chunk_id", "title", "path", "page")}
        snippet = quoted(str(item.get("text", "")), query, str(item.get("title") or ""))  # the line that answers
        found.append({"label": label, "citation": citation, **where, "snippet": snippet})

    for item in items:
        if isinstance(item, dict) and item.get("citation"):
            cite(item["citation"], item)
    for fact in data.get("graph_facts") or [] if isinstance(data, dict) else []:
        cite(f"knowledge graph · {fact.get('citation', '')}", fact)  # a fact has no title, path or page
    return found


@dataclass(frozen=True)
class Capability:
    name: str  # the agent's name in events, `--agent`, the API's `spark-agents-<name>` model
    server: str  # the MCP server it acts through
    primary_tool: str  # forced on a small model's first step
    label: str
    icon: str
    prompt: str
    model_description: str  # GET /v1/models
    server_description: str  # client configurations (Continue, VS Code, Claude Desktop)
    routing_examples: tuple[str, ...]
    sample_prompts: tuple[str, ...]
    summary: str  # what it does, as the supervisor's prompt lists it
    route_hint: str  # what it is for, as a small model's routing choice lists it
    module: str = ""  # the server's module, run over stdio; `mcp_servers.<server>` when empty
    role: Role = Role.SUPERVISOR  # the model that drives the specialist
    fallback_tool: str | None = None  # the primary tool when the `needs` role's model is not configured
    needs: Role | None = None
    takes_images: bool = False  # a message with an image attached comes here before any routing
    medium: str = ""  # a regex: a message that names this medium asks this capability, not the documents
    # requests that ask for a tool other than the primary one: a small model's forced call is chosen among
    # the primary and these by similarity to the request (agents/intent.py)
    tool_examples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    approvals: Mapping[str, Rule] = field(default_factory=dict)  # tools that change or run things ask first
    failure_hint: str = ""  # what the user can do when a tool failed and no answer came of it
    # --- behaviour hooks, called by the specialist loop -----------------------------------------------
    renderers: Mapping[str, Renderer] = field(default_factory=dict)  # a small model's answer, per tool
    after: Mapping[str, AfterTool] = field(default_factory=dict)  # what follows a tool's result, per tool
    cite: Citer = citations_from  # a result's citations
    resolve: Resolver | None = None  # required arguments the user named by a title, looked up
    probe: Prober | None = None  # the supervisor's check that this capability's data covers a question

    @property
    def server_module(self) -> str:
        return self.module or f"mcp_servers.{self.server}"
