"""The LangGraph graph: a supervisor that routes each turn, four specialists that act through MCP tools.

Nodes write typed events (core/wire.py) to LangGraph's custom stream as they happen; the runtime turns
the finished state into the FinalEvent. Specialists keep their tool-calling scratch messages to
themselves and put one answer into the shared thread, so the supervisor's history stays small and valid.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import Command, interrupt
from mcp.types import Tool

from agents import approval, grounding, intent, policy, prompts
from agents.capabilities import CAPABILITIES, SPECIALISTS, server_of
from agents.llm import chat
from agents.mcp_pool import MCPPool, ToolOutcome
from agents.render import render
from agents.route import Reason, Route
from agents.router import EVIDENCE_HITS, SemanticRouter, documents_cover, may_prefer_documents
from agents.settings import AgentSettings
from core.errors import SparkAgentsError
from core.wire import ApprovalRequest, HandoffEvent, TokenEvent, ToolCallEvent, ToolResultEvent
from rag.passages import quoted
from serving.client import json_schema_format
from serving.registry import Role, endpoint
from serving.settings import ServingSettings


class TurnState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    attachments: list[str]
    sources: list[str] | None
    forced_agent: str | None
    hops: int
    citations: list[dict[str, Any]]
    route: dict[str, Any] | None  # the supervisor's Route (agents/route.py) for the specialist now running
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


@dataclass
class Scratch:
    """A specialist's visit: its private messages, the model's tool calls not made yet, what it found.
    Kept in the thread's state (plain data, checkpointed) only while the visit waits for an approval."""

    agent: str
    messages: list[BaseMessage]
    citations: list[dict[str, Any]]
    outcomes: list[ToolOutcome] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # arguments dropped or retried, calls declined
    last_tool: str = ""
    reason: str = ""  # what the model said with its tool calls
    retried: bool = False  # an invalid tool call was sent back once
    step: int = 0  # model calls made
    waiting: str = ""  # the id of the approval asked for

    @classmethod
    def start(cls, agent: str, messages: list[BaseMessage], citations: list[dict[str, Any]]) -> Scratch:
        return cls(agent=agent, messages=messages, citations=citations)

    @classmethod
    def restore(cls, saved: dict[str, Any] | None, agent: str) -> Scratch | None:
        if not saved or saved.get("agent") != agent:
            return None
        outcomes = [ToolOutcome.model_validate(o) for o in saved.get("outcomes") or []]
        return cls(**{**saved, "outcomes": outcomes})

    def dump(self) -> dict[str, Any]:
        return {**self.__dict__, "outcomes": [o.model_dump() for o in self.outcomes]}


HANDOFF_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": f"transfer_to_{agent}",
            "description": f"Hand the request to the {agent} agent. {CAPABILITIES[agent].prompt.split('.')[0]}.",
            "parameters": {
                "type": "object",
                "properties": {"task": {"type": "string", "description": "what the agent should do, self-contained"}},
            },
        },
    }
    for agent in SPECIALISTS
]
ROUTE_SCHEMA = {
    "type": "object",
    "properties": {"agent": {"type": "string", "enum": [*SPECIALISTS, "general"]}},
    "required": ["agent"],
}


def _last_user_text(state: TurnState) -> str:
    for m in reversed(state.get("messages", [])):
        if isinstance(m, HumanMessage):
            return str(m.content)
    return ""


def conversation(state: TurnState, limit: int) -> list[BaseMessage]:
    """The thread as plain user/assistant turns (handoff bookkeeping left out), most recent `limit`."""
    plain: list[BaseMessage] = [
        m
        for m in state.get("messages", [])
        if isinstance(m, HumanMessage) or (isinstance(m, AIMessage) and not m.tool_calls and m.content)
    ]
    return plain[-limit:]


def shorten(text: str, limit: int = 500) -> str:
    """A tool result as the trace shows it: cut with a marker that says how much is left out."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def hits_of(outcome: ToolOutcome) -> list[dict[str, Any]]:
    """The hits of a search_documents result."""
    return [h for h in (outcome.structured or {}).get("hits") or [] if isinstance(h, dict)]


def citations_from(outcome: ToolOutcome, start: int) -> list[dict[str, Any]]:
    """Citations from a search tool's structured result (`hits`/`results`/`chunks` with a `citation`)."""
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


def build_graph(deps: Deps, checkpointer: Any = None) -> Any:
    settings = deps.settings
    chooser = intent.ToolChooser(deps.router.embedder)  # a small model's forced tool, by the request's intent

    def serving() -> ServingSettings:
        return deps.serving

    def emit_tokens(agent: str) -> Callable[[str], None]:
        writer = get_stream_writer()
        return lambda text: writer(TokenEvent(text=text, agent=agent))

    async def answer_directly(state: TurnState) -> Command:
        ep = endpoint(Role.SUPERVISOR, serving())
        messages = [SystemMessage(prompts.SUPERVISOR), *conversation(state, settings.history_messages)]
        ai = await chat(
            ep,
            messages,
            max_tokens=settings.max_tokens,
            on_token=emit_tokens("supervisor"),
            timeout=deps.serving.request_timeout,
        )
        return Command(
            goto=END,
            update={
                "messages": [AIMessage(content=ai.content, name="supervisor", additional_kwargs=ai.additional_kwargs)]
            },
        )

    def handoff(route: Route, update: dict[str, Any] | None = None) -> Command:
        get_stream_writer()(HandoffEvent(agent=route.agent, reason=route.shown()))
        return Command(goto=route.agent, update={"route": route.model_dump(), **(update or {})})

    async def supervisor(state: TurnState) -> Command:
        """hop 0: forced agent, then image attachments, then the router (auto: when it is confident or the
        model is small), else the model. Later hops: a large model may hand off again; else the turn ends."""
        hops = state.get("hops", 0)
        small = settings.is_small(serving())
        mode = settings.routing
        if hops >= settings.hop_limit:
            return Command(goto=END)
        if hops == 0 and state.get("forced_agent"):
            return handoff(Route(agent=state["forced_agent"], reason=Reason.REQUESTED))  # type: ignore[arg-type]
        if hops == 0 and state.get("attachments"):
            return handoff(Route(agent="vision", reason=Reason.ATTACHMENT, note="image attached"))
        if hops > 0 and (mode == "router" or small or state.get("forced_agent")):
            return Command(goto=END)  # the specialist's answer is the turn's answer
        if hops == 0 and mode != "llm":
            text = _last_user_text(state)
            decision = await asyncio.to_thread(deps.router.route, text)
            if may_prefer_documents(decision.agent, text) and (covered := await covered_by_documents(text)):
                note = f"router: your documents cover {', '.join(covered[:5])}"
                return handoff(Route(agent="rag", reason=Reason.DOCUMENTS, note=note))
            if mode == "router" or small or decision.confident(settings.router_min_score, settings.router_min_margin):
                if decision.agent == "general":
                    return await answer_directly(state)
                return handoff(Route(agent=decision.agent, reason=Reason.ROUTER, note=f"router {decision.score:.2f}"))
        if small:  # a small model cannot be trusted with tool calling: a schema-constrained choice instead
            agent = await route_with_json(_last_user_text(state))
            return (
                await answer_directly(state) if agent == "general" else handoff(Route(agent=agent, reason=Reason.MODEL))
            )
        # A capable model decides with ordinary tool calling (gpt-oss), and may hand off again later.
        ep = endpoint(Role.SUPERVISOR, serving())
        window = state.get("messages", [])[-settings.history_messages * 3 :]
        messages: list[BaseMessage] = [SystemMessage(prompts.SUPERVISOR), *window]
        while messages[1:] and isinstance(messages[1], ToolMessage):
            messages.pop(1)  # never start the window on an orphaned tool result
        ai = await chat(
            ep,
            messages,
            timeout=deps.serving.request_timeout,
            tools=HANDOFF_TOOLS,
            tool_choice="auto",
            max_tokens=settings.max_tokens,
            on_token=emit_tokens("supervisor"),
            repair_tool_calls=True,  # a broken handoff is asked for again (agents/llm.py), not dropped
        )
        calls = [c for c in ai.tool_calls if c["name"].removeprefix("transfer_to_") in SPECIALISTS]
        if calls:
            call = calls[0]
            agent = call["name"].removeprefix("transfer_to_")
            ai = AIMessage(content=ai.content, tool_calls=[call], additional_kwargs=ai.additional_kwargs)
            done = ToolMessage(content=f"Transferred to the {agent} agent.", tool_call_id=call["id"])
            task = str(call["args"].get("task") or "")
            return handoff(Route(agent=agent, reason=Reason.MODEL, task=task), {"messages": [ai, done]})
        reply = AIMessage(content=ai.content, name="supervisor", additional_kwargs=ai.additional_kwargs)
        return Command(goto=END, update={"messages": [reply]})

    async def covered_by_documents(text: str) -> list[str]:
        """The question's terms found in the best-matching chunks, when they are enough (else [])."""
        try:
            outcome = await deps.pool.call("rag", "search_documents", {"query": text[:2000], "k": EVIDENCE_HITS})
        except SparkAgentsError:
            return []  # the documents agent would fail the same way: let the router's choice stand
        hits = [] if outcome.is_error else hits_of(outcome)
        return documents_cover(text, [str(h.get("text", "")) for h in hits], [str(h.get("title", "")) for h in hits])

    async def route_with_json(text: str) -> str:
        ep = endpoint(Role.SUPERVISOR, serving())
        messages = [SystemMessage(prompts.ROUTE_JSON), HumanMessage(text)]
        ai = await chat(
            ep,
            messages,
            response_format=json_schema_format(ep, "route", ROUTE_SCHEMA),
            max_tokens=32,
            timeout=deps.serving.request_timeout,
        )
        try:
            agent = json.loads(str(ai.content))["agent"]
        except (ValueError, KeyError, TypeError):
            return "general"
        return agent if agent in (*SPECIALISTS, "general") else "general"

    async def logged_call(writer: Any, agent: str, name: str, args: dict[str, Any], note: str = "") -> ToolOutcome:
        """A tool call on the agent's server, shown in the event stream as it starts and as it ends; `note`
        says what was taken out of the model's arguments (it belongs in the trace, not the answer)."""
        server = server_of(agent)
        writer(ToolCallEvent(server=server, tool=name, arguments=args, agent=agent, note=note))
        outcome = await deps.pool.call(server, name, args)
        writer(ToolResultEvent(server=server, tool=name, summary=shorten(outcome.text), is_error=outcome.is_error))
        return outcome

    async def vision_fallback(
        failed: ToolOutcome, by_name: dict[str, Any], state: TurnState, writer: Any
    ) -> ToolOutcome:
        """No VLM (or it is down): read the image with OCR and image_info instead, and say so."""
        parts = [f"describe_image failed: {failed.text}"]
        for name in ("extract_text", "image_info"):
            if name not in by_name:
                continue
            args = policy.fix_arguments(by_name[name], {}, None, state.get("attachments") or [])
            if not args:
                continue
            result = await logged_call(writer, "vision", name, args)
            parts.append(f"{name}: {result.text}")
        parts.append("Tell the user that describing the image needs the vision model; report what OCR found.")
        return ToolOutcome(text="\n\n".join(parts), is_error=True)

    async def with_graph_facts(found: ToolOutcome, question: str, writer: Any) -> ToolOutcome:
        """Mixed retrieval (the LightRAG idea): the documents agent's hits, plus what the knowledge graph
        knows about the entities the question and the hits name, each fact cited to its chunk. Nothing is
        added when there is no graph, it knows none of them, or the kg server fails."""
        hits = hits_of(found)
        if not hits:
            return found
        keep = ("text", "source_id", "chunk_id", "citation")
        args = {"question": question[:2000], "hits": [{k: str(h.get(k) or "") for k in keep} for h in hits]}
        try:
            extra = await deps.pool.call("kg", "graph_facts", args)
        except SparkAgentsError:
            return found
        facts = (extra.structured or {}).get("facts") or [] if not extra.is_error else []
        if not facts:
            return found
        writer(ToolCallEvent(server="kg", tool="graph_facts", arguments={"question": question[:200]}, agent="rag"))
        writer(ToolResultEvent(server="kg", tool="graph_facts", summary=shorten(extra.text), is_error=False))
        lines = "\n".join(f"- {f['text']} ({f['citation']})" for f in facts)
        return ToolOutcome(
            text=f"{found.text}\n\nFacts from the knowledge graph:\n{lines}",
            structured={**(found.structured or {}), "graph_facts": facts},
        )

    def specialist(agent: str) -> Callable[[TurnState], Any]:
        server = server_of(agent)

        async def node(state: TurnState) -> Command:
            writer = get_stream_writer()
            sv = serving()
            small = settings.is_small(sv)
            user_text = _last_user_text(state)
            tools = await deps.pool.tools(server)
            by_name = {t.name: t for t in tools}
            vision_up = endpoint(Role.VISION, sv).configured
            primary = policy.primary_tool(agent, tools, vision_up)
            ep = endpoint(Role.CODER if agent == "coding" else Role.SUPERVISOR, sv)
            supervisor_task = Route.task_of(state.get("route"))
            # A visit resumed after an approval pause picks up its scratch where it stopped.
            run = Scratch.restore(state.get("scratch"), agent) or Scratch.start(
                agent,
                [SystemMessage(prompts.specialist(agent)), *conversation(state, settings.history_messages)]
                + ([HumanMessage(f"Task from the supervisor: {supervisor_task}")] if supervisor_task else []),
                list(state.get("citations") or []),
            )
            messages = run.messages
            answer_given = approval.answer_of(state.get("approval"), run.waiting)
            allowed_in_thread = set(state.get("approved_tools") or [])

            async def use_tool(
                tool: Tool, args: dict[str, Any], note: str = "", resolved: dict[str, Any] | None = None
            ) -> ToolOutcome:
                """One tool call, a small model's ids grounded (agents/grounding.py); a call that fails
                with ids the model chose is retried once without them. `resolved`: ids looked up from what
                the user named (a source's title), kept like the user's own choices."""
                fixed = {
                    **policy.fixed_arguments(tool, state.get("sources"), state.get("attachments") or []),
                    **(resolved or {}),
                }
                merged = {**args, **fixed}
                # a small model's ids must be found in the conversation; a large model's are tried as given
                grounded = (
                    grounding.ground(merged, grounding.evidence_text(messages), fixed)
                    if small
                    else grounding.Grounded(merged)
                )
                note = " ".join(n for n in (note, grounded.note()) if n)
                outcome = await logged_call(writer, agent, tool.name, grounded.args, note)
                retry = grounding.retry_without_ids(grounded.args, fixed) if outcome.is_error else None
                if retry:
                    run.notes.append(grounding.retry_note(retry, tool.name, outcome))
                    outcome = await logged_call(writer, agent, tool.name, retry.args)
                return outcome

            async def source_named_in(request: str) -> str | None:
                """The id of the one source whose title or file name the request names (looked up with
                list_sources, shown in the trace)."""
                try:
                    listed = await logged_call(writer, agent, "list_sources", {})
                except SparkAgentsError:
                    return None
                found = [] if listed.is_error else (listed.structured or {}).get("sources") or []
                return intent.source_named(request, [s for s in found if isinstance(s, dict)])

            def pause(tool: Tool, args: dict[str, Any]) -> Command:
                request = ApprovalRequest(
                    id=approval.new_id(),
                    agent=agent,
                    server=server,
                    tool=tool.name,
                    arguments=args,
                    reason=run.reason or supervisor_task or user_text[:200],
                )
                run.waiting = request.id
                return Command(
                    goto="approve",
                    update={"scratch": run.dump(), "pending_approval": request.model_dump(), "approval": None},
                )

            answer = ""
            superseded = False
            while True:
                if run.pending:  # the model's tool calls, one at a time
                    call = run.pending[0]
                    tool = by_name.get(call["name"])
                    if tool is None:
                        text = f"Error: there is no tool {call['name']!r}; available: {', '.join(by_name)}."
                        outcome = ToolOutcome(text=text, is_error=True)
                        writer(ToolResultEvent(server=server, tool=call["name"], summary=text, is_error=True))
                    else:
                        args = call["args"]
                        lacking: list[str] = []
                        note = ""  # ids the model invented, dropped: shown with the call
                        resolved: dict[str, Any] = {}  # ids looked up from the names the user wrote
                        decided: approval.ApprovalAnswer | None = None
                        if small and run.step == 1:  # the forced call: the user's words over the model's
                            fixed = policy.fixed_arguments(tool, state.get("sources"), state.get("attachments") or [])
                            settled = intent.settle(tool, args, user_text, messages, fixed)
                            args, lacking, note = settled.args, settled.missing, " ".join(settled.notes)
                            if lacking == ["source_id"] and "list_sources" in by_name:
                                named = await source_named_in(policy.own_request(user_text))
                                if named:
                                    resolved = {"source_id": named}
                                    args, lacking = {**args, **resolved}, []
                        if lacking:  # asking for approval of a call that can only fail helps nobody
                            outcome = intent.lacking_outcome(tool, lacking, note)
                            writer(ToolResultEvent(server=server, tool=tool.name, summary=outcome.text, is_error=True))
                        elif approval.needs_approval(tool, settings.approval, allowed_in_thread):
                            if answer_given is None:
                                return pause(tool, args)
                            decided, answer_given, run.waiting = answer_given, None, ""
                            if approval.covers_thread(tool, settings.approval, decided):
                                allowed_in_thread.add(tool.name)
                            if not decided.approved:
                                superseded = decided.superseded
                                run.notes.append(approval.declined_note(tool.name, superseded))
                        if decided is not None and not decided.approved:
                            text = "The user declined this call; do not try it again. Answer without it."
                            outcome = ToolOutcome(text=text, is_error=True)
                            writer(ToolResultEvent(server=server, tool=tool.name, summary=text, is_error=True))
                        elif not lacking:
                            outcome = await use_tool(tool, args, note, resolved)
                            if tool.name == "search_documents" and settings.graph_facts and not outcome.is_error:
                                outcome = await with_graph_facts(outcome, user_text, writer)
                            run.citations += citations_from(outcome, len(run.citations))
                            if tool.name == "describe_image" and outcome.is_error:
                                outcome = await vision_fallback(outcome, by_name, state, writer)
                    run.pending.pop(0)
                    run.outcomes.append(outcome)
                    run.last_tool = call["name"]
                    messages.append(
                        ToolMessage(
                            content=outcome.text[: settings.tool_output_chars],
                            tool_call_id=call["id"],
                            status="error" if outcome.is_error else "success",
                        )
                    )
                    if superseded:
                        break
                    continue
                if small and run.outcomes:
                    # A tiny model paraphrases tool results badly: the evidence itself is the answer.
                    last = run.outcomes[-1]
                    answer = (
                        grounding.failure_answer(agent, run.last_tool, last, small)
                        if last.is_error
                        else render(run.last_tool, last)
                    )
                    writer(TokenEvent(text=answer, agent=agent))
                    break
                if run.step >= settings.step_limit:
                    answer = f"I stopped after {settings.step_limit} steps without a final answer."
                    break
                choice: Any = "auto"
                if small and run.step == 0:
                    request = policy.own_request(user_text)
                    wanted = await asyncio.to_thread(chooser.choose, agent, tools, primary, request, messages)
                    if wanted is not None:
                        choice = {"type": "function", "function": {"name": wanted.tool}}
                ai = await chat(
                    ep,
                    messages,
                    timeout=deps.serving.request_timeout,
                    tools=[policy.openai_tool(t) for t in tools] or None,
                    tool_choice=choice,
                    max_tokens=settings.max_tokens,
                    on_token=emit_tokens(agent),
                )
                run.step += 1
                if ai.invalid_tool_calls:
                    bad = ai.invalid_tool_calls[0]
                    writer(
                        ToolResultEvent(
                            server=server,
                            tool=bad["name"] or "?",
                            is_error=True,
                            summary=f"invalid arguments: {bad['error']}",
                        )
                    )
                    if run.retried:
                        answer = (
                            f"I could not call {bad['name']} with valid arguments twice in a row, so I "
                            "stopped. Please rephrase the request."
                        )
                        break
                    run.retried = True
                    messages.append(ai)
                    messages.extend(
                        ToolMessage(
                            content=f"Error: {c['error']}. Call the tool again with a valid JSON object that "
                            "matches its schema.",
                            tool_call_id=c["id"],
                            status="error",
                        )
                        for c in ai.invalid_tool_calls
                    )
                    continue
                if not ai.tool_calls:
                    answer = str(ai.content)
                    break
                messages.append(ai)
                run.pending = [dict(c) for c in ai.tool_calls]
                run.reason = str(ai.content).strip()[:300]
            if not answer.strip() and run.outcomes:  # the model said nothing: show the evidence, or what failed
                last = run.outcomes[-1]
                answer = (
                    grounding.failure_answer(agent, run.last_tool, last, small)
                    if last.is_error
                    else last.text[: settings.tool_output_chars]
                )
            if run.notes:
                answer = "\n\n".join([a for a in (answer, *run.notes) if a])
                writer(TokenEvent(text="\n\n" + "\n\n".join(run.notes), agent=agent))
            return Command(
                goto=END if superseded else "supervisor",
                update={
                    "messages": [AIMessage(content=answer, name=agent)],
                    "hops": state.get("hops", 0) + 1,
                    "citations": run.citations,
                    "scratch": None,
                    "approval": None,
                    "approved_tools": sorted(allowed_in_thread),
                },
            )

        node.__name__ = agent
        return node

    async def approve(state: TurnState) -> Command:
        """The pause: the interrupt carries the request to the front end; on resume, the user's answer
        goes back to the specialist that asked (which runs on from its scratch)."""
        request = state["pending_approval"] or {}
        answer = interrupt(request)
        return Command(goto=request["agent"], update={"approval": answer, "pending_approval": None})

    graph: Any = StateGraph(TurnState)  # LangGraph's node typing cannot express our async node factories
    graph.add_node("supervisor", supervisor, destinations=(*SPECIALISTS, END))
    for agent in SPECIALISTS:
        graph.add_node(agent, specialist(agent), destinations=("supervisor", "approve", END))
    graph.add_node("approve", approve, destinations=SPECIALISTS)
    graph.add_edge(START, "supervisor")
    return graph.compile(checkpointer=checkpointer)
