"""A specialist: the generic tool loop every capability runs — the model, its tool calls one at a time, their
results, the model again — until it answers.

It knows no tool and no agent by name: what a result means (citations, what follows it, how a small model's
answer is written from it) is the capability's hooks (agents/capabilities/). Around each call: a small
model's ids are grounded in the conversation (agents/grounding.py), a call that needs the user's approval
pauses the turn (agents/approval.py), and a call that failed on ids the model chose is retried once without.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END
from langgraph.types import Command
from mcp.types import Tool

from agents import approval, grounding, intent, llm, policy, prompts
from agents.capabilities import Capability, ToolContext
from agents.capabilities.base import shorten
from agents.mcp_pool import ToolOutcome
from agents.render import render
from agents.route import Route
from core.wire import ApprovalRequest, TokenEvent, ToolCallEvent, ToolResultEvent
from serving.registry import endpoint

if TYPE_CHECKING:
    from agents.graph import Deps, TurnState


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
    handover: dict[str, Any] | None = None  # the supervisor's probe: it answers this visit's first call of its tool

    @classmethod
    def restore(cls, saved: dict[str, Any] | None, agent: str) -> Scratch | None:
        if not saved or saved.get("agent") != agent:
            return None
        outcomes = [ToolOutcome.model_validate(o) for o in saved.get("outcomes") or []]
        return cls(**{**saved, "outcomes": outcomes})

    def dump(self) -> dict[str, Any]:
        return {**self.__dict__, "outcomes": [o.model_dump() for o in self.outcomes]}


@dataclass
class Ready:
    """A call about to be made: its arguments, what was dropped from the model's (`note`), the required
    arguments nothing fills, and those looked up from what the user named (kept like the user's choices)."""

    args: dict[str, Any]
    note: str = ""
    lacking: list[str] = field(default_factory=list)
    resolved: dict[str, Any] = field(default_factory=dict)


def conversation(state: TurnState, limit: int) -> list[BaseMessage]:
    """The thread as plain user/assistant turns (handoff bookkeeping left out), most recent `limit`."""
    plain: list[BaseMessage] = [
        m
        for m in state.get("messages", [])
        if isinstance(m, HumanMessage) or (isinstance(m, AIMessage) and not m.tool_calls and m.content)
    ]
    return plain[-limit:]


def last_user_text(state: TurnState) -> str:
    for m in reversed(state.get("messages", [])):
        if isinstance(m, HumanMessage):
            return str(m.content)
    return ""


def specialist(capability: Capability, deps: Deps, chooser: intent.ToolChooser) -> Any:
    """The graph node of one capability."""

    async def node(state: TurnState) -> Command:
        visit = Visit(capability, deps, chooser, state, await deps.pool.tools(capability.server))
        return await visit.run()

    node.__name__ = capability.name
    return node


class Visit:
    """One run of the loop, from the handoff (or the approval it resumes from) to the answer."""

    def __init__(
        self, cap: Capability, deps: Deps, chooser: intent.ToolChooser, state: TurnState, tools: list[Tool]
    ) -> None:
        self.cap, self.deps, self.chooser, self.state, self.tools = cap, deps, chooser, state, tools
        self.settings = deps.settings
        self.small = self.settings.is_small(deps.serving)
        self.user_text = last_user_text(state)
        self.task = Route.task_of(state.get("route"))
        self.by_name = {t.name: t for t in tools}
        self.emit = get_stream_writer()
        task = [HumanMessage(f"Task from the supervisor: {self.task}")] if self.task else []
        system = SystemMessage(prompts.specialist(cap.name))
        history = conversation(state, self.settings.history_messages)
        # A visit resumed after an approval pause picks up its scratch where it stopped.
        self.scratch = Scratch.restore(state.get("scratch"), cap.name) or Scratch(
            cap.name, [system, *history, *task], list(state.get("citations") or []), handover=state.get("handover")
        )
        answer = approval.answer_of(state.get("approval"), self.scratch.waiting)
        self.gate = approval.Gate(self.settings.approval, set(state.get("approved_tools") or []), answer)
        self.ctx = ToolContext(
            agent=cap.name,
            question=policy.own_request(self.user_text),
            tools=self.by_name,
            settings=self.settings,
            pool=deps.pool,
            emit=self.emit,
            call=self.logged,
            fixed=self.fixed,
        )

    def fixed(self, tool: Tool) -> dict[str, Any]:
        return policy.fixed_arguments(tool, self.state.get("sources"), self.state.get("attachments") or [])

    async def run(self) -> Command:
        scratch = self.scratch
        answer: str | None = None
        while answer is None:
            if scratch.pending:  # the model's tool calls, one at a time
                paused = await self.next_call()
                if paused is not None:
                    return paused
                if self.gate.superseded:
                    answer = ""
            elif self.small and scratch.outcomes:  # a tiny model paraphrases badly: the evidence is the answer
                answer = self.evidence_answer()
                self.emit(TokenEvent(text=answer, agent=self.cap.name))
            elif scratch.step >= self.settings.step_limit:
                answer = f"I stopped after {self.settings.step_limit} steps without a final answer."
            else:
                answer = await self.ask_model()
        return self.finish(answer)

    async def next_call(self) -> Command | None:
        """Make the first pending call (or pause for its approval), and put its result in the messages."""
        scratch = self.scratch
        call = scratch.pending[0]
        tool = self.by_name.get(call["name"])
        if tool is None:
            outcome = self.failed(
                call["name"], f"Error: there is no tool {call['name']!r}; available: {', '.join(self.by_name)}."
            )
        else:
            ready = await self.settle(tool, call["args"])
            if ready.lacking:  # asking for approval of a call that can only fail helps nobody
                outcome = self.failed(tool.name, intent.lacking_outcome(tool, ready.lacking, ready.note).text)
            elif (verdict := self.gate.verdict(tool)) is approval.Verdict.ASK:
                return self.pause(tool, ready.args)
            elif verdict is approval.Verdict.DECLINED:
                scratch.notes.append(approval.declined_note(tool.name, self.gate.superseded))
                outcome = self.failed(tool.name, approval.DECLINED)
            else:
                outcome = await self.use(tool, ready)
        scratch.pending.pop(0)
        scratch.outcomes.append(outcome)
        scratch.last_tool = call["name"]
        status = "error" if outcome.is_error else "success"
        content = outcome.text[: self.settings.tool_output_chars]
        scratch.messages.append(ToolMessage(content=content, tool_call_id=call["id"], status=status))
        return None

    async def settle(self, tool: Tool, args: dict[str, Any]) -> Ready:
        """A small model's forced call (its first): the user's words over the model's arguments, its invented
        ids dropped (the note says which), and what the user named by a title looked up by the capability."""
        if not (self.small and self.scratch.step == 1):
            return Ready(args)
        settled = intent.settle(tool, args, self.user_text, self.scratch.messages, self.fixed(tool))
        found = await self.cap.resolve(self.ctx, tool, settled.missing) if settled.missing and self.cap.resolve else {}
        lacking = [name for name in settled.missing if name not in found]
        return Ready({**settled.args, **found}, " ".join(settled.notes), lacking, found)

    async def use(self, tool: Tool, ready: Ready) -> ToolOutcome:
        """One tool call, a small model's ids grounded; a call that fails with ids the model chose is retried
        once without them. Then the capability's hooks: what follows the tool, the result's citations."""
        scratch = self.scratch
        fixed = {**self.fixed(tool), **ready.resolved}  # the user's choices, and what the user's words named
        merged = {**ready.args, **fixed}
        grounded = (
            grounding.ground(merged, grounding.evidence_text(scratch.messages), fixed)
            if self.small
            else grounding.Grounded(merged)
        )
        note = " ".join(n for n in (ready.note, grounded.note()) if n)
        outcome = self.handed_over(tool.name) or await self.logged(tool.name, grounded.args, note)
        retry = grounding.retry_without_ids(grounded.args, fixed) if outcome.is_error else None
        if retry:
            scratch.notes.append(grounding.retry_note(retry, tool.name, outcome))
            outcome = await self.logged(tool.name, retry.args)
        if (after := self.cap.after.get(tool.name)) is not None:
            outcome = await after(self.ctx, outcome)
        scratch.citations += self.cap.cite(outcome, len(scratch.citations))
        return outcome

    async def logged(self, name: str, args: dict[str, Any], note: str = "") -> ToolOutcome:
        """A tool call on the capability's server, shown in the event stream as it starts and as it ends;
        `note` says what was taken out of the model's arguments (it belongs in the trace, not the answer)."""
        server = self.cap.server
        self.emit(ToolCallEvent(server=server, tool=name, arguments=args, agent=self.cap.name, note=note))
        outcome = await self.deps.pool.call(server, name, args)
        self.emit(ToolResultEvent(server=server, tool=name, summary=shorten(outcome.text), is_error=outcome.is_error))
        return outcome

    def handed_over(self, name: str) -> ToolOutcome | None:
        """The supervisor's probe result, for the first call of the tool it called (shown with its arguments)."""
        handed = self.scratch.handover
        if not handed or handed["tool"] != name:
            return None
        self.scratch.handover = None
        server, note = self.cap.server, "the supervisor's call before the handoff, not repeated"
        self.emit(
            ToolCallEvent(server=server, tool=name, arguments=handed["arguments"], agent=self.cap.name, note=note)
        )
        outcome = ToolOutcome.model_validate(handed["outcome"])
        self.emit(ToolResultEvent(server=server, tool=name, summary=shorten(outcome.text), is_error=outcome.is_error))
        return outcome

    def failed(self, tool: str, text: str) -> ToolOutcome:
        self.emit(ToolResultEvent(server=self.cap.server, tool=tool, summary=text, is_error=True))
        return ToolOutcome(text=text, is_error=True)

    def pause(self, tool: Tool, args: dict[str, Any]) -> Command:
        reason = self.scratch.reason or self.task or self.user_text[:200]
        request = ApprovalRequest(
            id=approval.new_id(),
            agent=self.cap.name,
            server=self.cap.server,
            tool=tool.name,
            arguments=args,
            reason=reason,
        )
        self.scratch.waiting = request.id
        return approval.pause(request, self.scratch.dump())

    async def ask_model(self) -> str | None:
        """One model call: its tool calls become pending (None), or its text is the answer."""
        scratch = self.scratch
        choice: Any = "auto"
        if self.small and scratch.step == 0:  # a small model calls a tool only when one is forced
            primary = policy.primary_tool(self.cap, self.tools, self.deps.serving)
            request = policy.own_request(self.user_text)
            wanted = await asyncio.to_thread(
                self.chooser.choose, self.cap.name, self.tools, primary, request, scratch.messages
            )
            if wanted is not None:
                choice = {"type": "function", "function": {"name": wanted.tool}}
        ai = await llm.chat(
            endpoint(self.cap.role, self.deps.serving),
            scratch.messages,
            serving=self.deps.serving,
            tools=[policy.openai_tool(t) for t in self.tools] or None,
            tool_choice=choice,
            max_tokens=self.settings.max_tokens,
            on_token=lambda text: self.emit(TokenEvent(text=text, agent=self.cap.name)),
            clients=self.deps.models,
        )
        scratch.step += 1
        if ai.invalid_tool_calls:
            return self.invalid_calls(ai)
        if not ai.tool_calls:
            return str(ai.content)
        scratch.messages.append(ai)
        scratch.pending = [dict(c) for c in ai.tool_calls]
        scratch.reason = str(ai.content).strip()[:300]
        return None

    def invalid_calls(self, ai: AIMessage) -> str | None:
        """A tool call with broken arguments goes back to the model once; twice in a row ends the visit."""
        bad = ai.invalid_tool_calls[0]
        summary = f"invalid arguments: {bad['error']}"
        self.emit(ToolResultEvent(server=self.cap.server, tool=bad["name"] or "?", is_error=True, summary=summary))
        if self.scratch.retried:
            return (
                f"I could not call {bad['name']} with valid arguments twice in a row, so I stopped. "
                "Please rephrase the request."
            )
        self.scratch.retried = True
        self.scratch.messages.append(ai)
        self.scratch.messages.extend(
            ToolMessage(
                content=f"Error: {c['error']}. Call the tool again with a valid JSON object that matches its schema.",
                tool_call_id=c["id"],
                status="error",
            )
            for c in ai.invalid_tool_calls
        )
        return None

    def evidence_answer(self, raw: bool = False) -> str:
        """The last result as the answer: what failed and what to do, or the result rendered (or raw)."""
        last, tool = self.scratch.outcomes[-1], self.scratch.last_tool
        if last.is_error:
            return grounding.failure_answer(self.cap.name, tool, last, self.small)
        return last.text[: self.settings.tool_output_chars] if raw else render(tool, last, self.cap)

    def finish(self, answer: str) -> Command:
        """The visit's one message into the shared thread; back to the supervisor (or the end, when the user
        moved on)."""
        scratch = self.scratch
        if not answer.strip() and scratch.outcomes:  # the model said nothing: show the evidence, or what failed
            answer = self.evidence_answer(raw=True)
        if scratch.notes:
            answer = "\n\n".join([a for a in (answer, *scratch.notes) if a])
            self.emit(TokenEvent(text="\n\n" + "\n\n".join(scratch.notes), agent=self.cap.name))
        return Command(
            goto=END if self.gate.superseded else "supervisor",
            update={
                "messages": [AIMessage(content=answer, name=self.cap.name)],
                "hops": self.state.get("hops", 0) + 1,
                "citations": scratch.citations,
                "scratch": None,
                "handover": None,
                "approval": None,
                "approved_tools": sorted(self.gate.allowed),
            },
        )
