"""The supervisor: routes each turn to a specialist, or answers it directly.

Hop 0: the agent the user chose, then an attached image (to the capability that takes images), then the
embedding router (in `auto` mode when it is confident or the model is small) — after a capability's probe
(a search of the documents) may claim a factual question — else the model: a small one with a
schema-constrained choice, a capable one with handoff tools. Later hops: a capable model may hand off
again; otherwise the specialist's answer ends the turn.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END
from langgraph.types import Command

from agents import llm, prompts
from agents.capabilities import CAPABILITIES
from agents.route import Reason, Route
from agents.router import may_probe
from agents.specialist import conversation, last_user_text
from core.wire import HandoffEvent, TokenEvent
from serving.client import json_schema_format
from serving.registry import Role, endpoint

if TYPE_CHECKING:
    from agents.graph import Deps, TurnState


def handoff_tools() -> list[dict[str, Any]]:
    """A `transfer_to_<agent>` tool per capability, for a model that routes with tool calls."""
    return [
        {
            "type": "function",
            "function": {
                "name": f"transfer_to_{c.name}",
                "description": f"Hand the request to the {c.name} agent. {c.prompt.split('.')[0]}.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "task": {"type": "string", "description": "what the agent should do, self-contained"}
                    },
                },
            },
        }
        for c in CAPABILITIES.values()
    ]


def route_schema() -> dict[str, Any]:
    """The JSON a small model's routing choice must match."""
    agents = [*CAPABILITIES, "general"]
    return {"type": "object", "properties": {"agent": {"type": "string", "enum": agents}}, "required": ["agent"]}


def handoff(route: Route, update: dict[str, Any] | None = None) -> Command:
    get_stream_writer()(HandoffEvent(agent=route.agent, reason=route.shown()))
    return Command(goto=route.agent, update={"route": route.model_dump(mode="json"), **(update or {})})


class Supervisor:
    def __init__(self, deps: Deps) -> None:
        self.deps, self.settings = deps, deps.settings

    async def __call__(self, state: TurnState) -> Command:
        hops, mode = state.get("hops", 0), self.settings.routing
        small = self.settings.is_small(self.deps.serving)
        forced = state.get("forced_agent")
        if hops >= self.settings.hop_limit:
            return Command(goto=END)
        if hops == 0 and forced:
            return handoff(Route(agent=forced, reason=Reason.REQUESTED))
        takes_images = next((c.name for c in CAPABILITIES.values() if c.takes_images), None)
        if hops == 0 and state.get("attachments") and takes_images:
            return handoff(Route(agent=takes_images, reason=Reason.ATTACHMENT, note="image attached"))
        if hops > 0 and (mode == "router" or small or forced):
            return Command(goto=END)  # the specialist's answer is the turn's answer
        if hops == 0 and mode != "llm" and (routed := await self.by_router(state, mode == "router" or small)):
            return routed
        if small:  # a small model cannot be trusted with tool calling: a schema-constrained choice instead
            agent = await self.by_json(last_user_text(state))
            return await self.answer(state) if agent == "general" else handoff(Route(agent=agent, reason=Reason.MODEL))
        return await self.by_model(state)

    async def by_router(self, state: TurnState, trusted: bool) -> Command | None:
        """The embedding router's choice, when it is `trusted` or confident; a capability's probe may claim a
        factual question first. None: the model decides."""
        text = last_user_text(state)
        decision = await asyncio.to_thread(self.deps.router.route, text)
        probing = [c for c in CAPABILITIES.values() if c.probe and may_probe(decision.agent, c.name, text)]
        for cap in probing:
            assert cap.probe is not None
            if (found := await cap.probe(self.deps.pool, text)) is not None:
                route = Route(agent=cap.name, reason=Reason.PROBE, note=f"router: {found.note}")
                return handoff(route, {"handover": found.handover()})
        if trusted or decision.confident(self.settings.router_min_score, self.settings.router_min_margin):
            if decision.agent == "general":
                return await self.answer(state)
            return handoff(Route(agent=decision.agent, reason=Reason.ROUTER, note=f"router {decision.score:.2f}"))
        return None

    async def by_json(self, text: str) -> str:
        ep = endpoint(Role.SUPERVISOR, self.deps.serving)
        ai = await llm.chat(
            ep,
            [SystemMessage(prompts.route_json()), HumanMessage(text)],
            response_format=json_schema_format(ep, "route", route_schema()),
            max_tokens=32,
            serving=self.deps.serving,
            clients=self.deps.models,
        )
        try:
            agent = json.loads(str(ai.content))["agent"]
        except (ValueError, KeyError, TypeError):
            return "general"
        return agent if agent in CAPABILITIES else "general"

    async def by_model(self, state: TurnState) -> Command:
        """A capable model decides with ordinary tool calling (gpt-oss), and may hand off again later."""
        window = state.get("messages", [])[-self.settings.history_messages * 3 :]
        messages: list[BaseMessage] = [SystemMessage(prompts.supervisor()), *window]
        while messages[1:] and isinstance(messages[1], ToolMessage):
            messages.pop(1)  # never start the window on an orphaned tool result
        ai = await self.chat(messages, tools=handoff_tools(), tool_choice="auto", repair_tool_calls=True)
        calls = [c for c in ai.tool_calls if c["name"].removeprefix("transfer_to_") in CAPABILITIES]
        if not calls:
            reply = AIMessage(content=ai.content, name="supervisor", additional_kwargs=ai.additional_kwargs)
            return Command(goto=END, update={"messages": [reply]})
        call = calls[0]
        agent = call["name"].removeprefix("transfer_to_")
        ai = AIMessage(content=ai.content, tool_calls=[call], additional_kwargs=ai.additional_kwargs)
        done = ToolMessage(content=f"Transferred to the {agent} agent.", tool_call_id=call["id"])
        task = str(call["args"].get("task") or "")
        return handoff(Route(agent=agent, reason=Reason.MODEL, task=task), {"messages": [ai, done]})

    async def answer(self, state: TurnState) -> Command:
        """The supervisor answers a general question itself."""
        messages = [SystemMessage(prompts.supervisor()), *conversation(state, self.settings.history_messages)]
        ai = await self.chat(messages)
        reply = AIMessage(content=ai.content, name="supervisor", additional_kwargs=ai.additional_kwargs)
        return Command(goto=END, update={"messages": [reply]})

    async def chat(self, messages: list[BaseMessage], **kwargs: Any) -> AIMessage:
        """The supervisor model, its tokens streamed as the supervisor's (a broken handoff is asked for again
        with `repair_tool_calls`, agents/llm.py)."""
        writer = get_stream_writer()
        return await llm.chat(
            endpoint(Role.SUPERVISOR, self.deps.serving),
            messages,
            max_tokens=self.settings.max_tokens,
            on_token=lambda text: writer(TokenEvent(text=text, agent="supervisor")),
            serving=self.deps.serving,
            clients=self.deps.models,
            **kwargs,
        )
