"""Agent configuration (prefix SPARK_AGENTS_AGENT_)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from serving.settings import ServingSettings

Routing = Literal["auto", "router", "llm"]
Rule = Literal["ask", "thread", "always"]  # a tool's approval rule (agents/approval.py)
Durability = Literal["sync", "async", "exit"]


class AgentSettings(BaseSettings):
    """`routing`: `router` = the embedding router alone; `llm` = the supervisor model decides with handoff
    tools (gpt-oss); `auto` = the router when it is confident or the supervisor model is small, else the
    model (constrained JSON for a small model, handoff tools for a large one)."""

    model_config = SettingsConfigDict(env_prefix="SPARK_AGENTS_AGENT_", extra="ignore")

    routing: Routing = "auto"
    small_model: bool | None = None  # None: small exactly when the profile is `local`
    router_min_score: float = 0.30
    router_min_margin: float = 0.04
    step_limit: int = 6  # model calls per specialist visit
    hop_limit: int = 3  # specialist visits per turn
    max_tokens: int = 1024
    tool_output_chars: int = 6000
    history_messages: int = 12
    checkpoint_url: str | None = None  # postgresql://… for Postgres; default SQLite under the data dir
    # When a turn's checkpoint is written (LangGraph `durability`). `exit`: once, when the turn ends, fails
    # or pauses (an interrupt) — a crash mid-turn loses only that unfinished turn, which no front end could
    # resume anyway; `async`/`sync`: after every superstep (4 writes for a handoff turn).
    durability: Durability = "exit"
    # the documents agent adds the knowledge graph's facts about the entities its hits name (when a graph
    # knows them): mixed retrieval, one call to the kg server per search
    graph_facts: bool = True
    # Human approval per tool, as JSON: {"run_python": "thread", "ingest_documents": "always"}. `ask` before
    # every call (the default for delete_source, ingest_documents, run_python, run_tests and any tool its
    # server marks destructive), `thread` once per thread, `always` never asks (agents/approval.py).
    approval: dict[str, Rule] = Field(default_factory=dict)
    # the CLI approves every pending action without asking (`ask --yes`), for scripts
    assume_yes: bool = False

    mcp_rag_url: str | None = None
    mcp_kg_url: str | None = None
    mcp_code_url: str | None = None
    mcp_vision_url: str | None = None
    # the same token the MCP HTTP servers check (`SPARK_AGENTS_MCP_TOKEN`), sent to servers given by URL
    mcp_token: str | None = Field(default=None, validation_alias="SPARK_AGENTS_MCP_TOKEN")

    def is_small(self, serving: ServingSettings) -> bool:
        return self.small_model if self.small_model is not None else serving.profile == "local"

    def server_url(self, server: str) -> str | None:
        return getattr(self, f"mcp_{server}_url", None)
