"""The LangGraph graph: a supervisor that routes each turn, a specialist per capability, and the approval pause.

Nodes write typed events (core/wire.py) to LangGraph's custom stream as they happen; the runtime turns
the finished state into the FinalEvent. Specialists keep their tool-calling scratch messages to
themselves and put one answer into the shared thread, so the supervisor's history stays small and valid.
The graph is built from the capability registry as it stands: a capability added there is a node here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from agents import approval, intent
from agents.capabilities import CAPABILITIES
from agents.mcp_pool import MCPPool
from agents.router import SemanticRouter
from agents.settings import AgentSettings
from agents.specialist import specialist
from agents.supervisor import Supervisor
from serving.chat_stream import ModelClients
from serving.settings import ServingSettings


class TurnState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    attachments: list[str]
    sources: list[str] | None
    forced_agent: str | None
    hops: int
    citations: list[dict[str, Any]]
    route: dict[str, Any] | None  # the supervisor's Route (agents/route.py) for the specialist now running
    handover: dict[str, Any] | None  # a probe's call and result, for the specialist it routed to (Probe)
    scratch: dict[str, Any] | None  # a specialist's visit, kept while it waits for an approval
    pending_approval: dict[str, Any] | None  # the ApprovalRequest the turn is paused on
    approval: dict[str, Any] | None  # the user's answer to it, on resume
    approved_tools: list[str]  # tools the user allowed for the rest of this thread


@dataclass
class Deps:
    pool: MCPPool
    router: SemanticRouter
    settings: AgentSettings
    serving: ServingSettings  # read once with the runtime: a settings object costs ~2 ms to build
    models: ModelClients  # the runtime's connection pool to the model servers


def build_graph(deps: Deps, checkpointer: Any = None) -> Any:
    chooser = intent.ToolChooser(deps.router.embedder)  # a small model's forced tool, by the request's intent
    agents = tuple(CAPABILITIES)
    graph: Any = StateGraph(TurnState)  # LangGraph's node typing cannot express our async node factories
    graph.add_node("supervisor", Supervisor(deps), destinations=(*agents, END))
    for cap in CAPABILITIES.values():
        graph.add_node(cap.name, specialist(cap, deps, chooser), destinations=("supervisor", "approve", END))
    graph.add_node("approve", approval.approve, destinations=agents)
    graph.add_edge(START, "supervisor")
    return graph.compile(checkpointer=checkpointer)
