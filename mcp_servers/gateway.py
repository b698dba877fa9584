"""The gateway MCP server: the whole assistant as one tool (`ask_assistant`), plus every capability tool.

The capability tools (rag, kg, code, vision) are re-exported under `<server>_<tool>` names with their own
schemas. The gateway reads their definitions from the server modules (a cheap import: tools load their
heavy libraries lazily) and forwards every call — `ask_assistant` and each capability tool — to the
resident service (`api.client.ServiceClient`, started on first use), whose persistent MCP sessions run the
real servers. So the gateway an IDE launches holds no runtime and no store: it works while the UI, the CLI
and other IDEs use the same data directory. Servers not installed are left out.

Resources, prompts and completions follow the same rule: the capability servers' resource templates
(`rag://…`, `kg://…`) are listed beside the gateway's own (`spark-agents://threads/{thread_id}`,
`spark-agents://plan`), and every read or completion goes to the service (`/api/resources`,
`/api/completions`, `/api/threads`, `/api/plan`). The prompts are the capability servers', naming the
tools as the gateway exports them.

An action the assistant must have approved is asked in the client's own prompt, in either protocol era
(`turn_until_approval` and `approval_question`, resolved before `ask_assistant`'s body); a client that cannot
ask gets the pending action explained, and nothing runs.

Run: `python -m mcp_servers.gateway` (stdio) or `python -m mcp_servers.gateway --http [--port 8810]`.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import json
import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal
from urllib.parse import quote, unquote

import anyio.to_thread
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.types import (
    INVALID_PARAMS,
    CallToolResult,
    ClientCapabilities,
    Completion,
    CompletionArgument,
    CompletionContext,
    ContentBlock,
    ElicitationCapability,
    PromptReference,
    ResourceTemplate,
    ResourceTemplateReference,
    TextContent,
)
from mcp.types import Resource as MCPResource
from mcp.types import Tool as MCPTool
from pydantic import AnyUrl, BaseModel, Field

from agents.capabilities import SERVERS
from api.client import ServiceClient, ServiceError, ToolResult
from api.service import ServiceSettings
from core.wire import ApprovalAnswer, ApprovalRequest, TurnRequest, parse_answer
from mcp_servers.base import RESOURCE_NOT_FOUND, SparkMCP, in_era
from mcp_servers.common import ASKS, serve
from mcp_servers.prompts import add_prompts
from mcp_servers.sdk import (
    Context,
    Elicit,
    ElicitationResult,
    Resolve,
    ToolError,
    context_args,
    field,
    is_retry,
    mcp_error,
)

log = logging.getLogger(__name__)

CAPABILITY_SERVERS = SERVERS
MAX_PAUSED = 64  # turns waiting for a 2026-07-28 client's retry with the user's approval


class AskResult(BaseModel):
    answer: str = Field(description="the assistant's answer")
    thread_id: str = Field(description="pass it back as thread_id to continue the conversation")
    citations: list[dict[str, Any]] = Field(default_factory=list, description="sources the answer rests on")
    trace: list[str] = Field(default_factory=list, description="handoffs and tool calls, in order, one line each")


def exported_name(server: str, tool: str) -> str:
    return tool if tool.startswith(f"{server}_") else f"{server}_{tool}"


class Gateway(SparkMCP):
    """The server with the capability servers' tools, resources and completions beside its own, forwarded to
    them through the service."""

    def __init__(self, servers: Sequence[str] = CAPABILITY_SERVERS, **kwargs: Any) -> None:
        super().__init__("gateway", **kwargs)
        self.servers = tuple(servers)
        self._remote: dict[str, tuple[str, str, MCPTool]] | None = None
        self._remote_resources: RemoteResources | None = None
        self._service: ServiceClient | None = None
        self.paused: dict[str, TurnSoFar] = {}  # a call's arguments -> its turn, paused for an approval

    def pause(self, key: str, turn: TurnSoFar) -> None:
        """Keep a turn paused for an approval until the call is retried with the answer (the oldest is
        forgotten first: a client that never retries leaves its action pending in its thread)."""
        self.paused[key] = turn
        while len(self.paused) > MAX_PAUSED:
            del self.paused[next(iter(self.paused))]

    @property
    def service(self) -> ServiceClient:
        """The client of the resident service (connected on first use; thread-safe)."""
        if self._service is None:
            self._service = ServiceClient(ServiceSettings())  # read once, as the gateway first needs it
        return self._service

    async def remote_tools(self) -> dict[str, tuple[str, str, MCPTool]]:
        """Exported name -> (server, the server's name for it, definition), for the servers installed."""
        if self._remote is None:
            remote: dict[str, tuple[str, str, MCPTool]] = {}
            for server in self.servers:
                module_name = f"mcp_servers.{server}"
                if importlib.util.find_spec(module_name) is None:
                    continue
                try:
                    module = importlib.import_module(module_name)
                    tools = await module.mcp.list_tools()
                except Exception:  # noqa: BLE001 - one broken server must not take the gateway down
                    log.exception("cannot load the %s MCP server's tools; leaving them out", server)
                    continue
                for t in tools:
                    name = exported_name(server, t.name)
                    description = f"[{server} server] {t.description or ''}".strip()
                    remote[name] = (server, t.name, t.model_copy(update={"name": name, "description": description}))
            self._remote = remote
        return self._remote

    async def list_tools(self) -> list[MCPTool]:
        own = await super().list_tools()
        taken = {t.name for t in own}
        return own + [t for name, (_, _, t) in (await self.remote_tools()).items() if name not in taken]

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Any = None
    ) -> Sequence[ContentBlock] | dict[str, Any]:
        remote = await self.remote_tools()
        if self._tool_manager.get_tool(name) is not None or name not in remote:
            return await super().call_tool(name, arguments, *context_args(context))
        server, original, _ = remote[name]
        return await self._forward(server, original, arguments)  # type: ignore[return-value]

    # --- resources and completions of the capability servers ------------------------------------------
    async def remote_resources(self) -> RemoteResources:
        if self._remote_resources is None:
            found = RemoteResources()
            for server in self.servers:
                module = _server_module(server)
                if module is None:
                    continue
                found.resources += await module.mcp.list_resources()
                for t in await module.mcp.list_resource_templates():
                    found.templates.append(t)
                    found.owner[field(t, "uriTemplate")] = server
                    found.schemes[_scheme(t)] = server
            self._remote_resources = found
        return self._remote_resources

    async def list_resources(self) -> list[MCPResource]:
        return await super().list_resources() + (await self.remote_resources()).resources

    async def list_resource_templates(self) -> list[ResourceTemplate]:
        return await super().list_resource_templates() + (await self.remote_resources()).templates

    async def read_resource(self, uri: AnyUrl | str, context: Any = None) -> Iterable[ReadResourceContents]:
        server = (await self.remote_resources()).schemes.get(str(uri).split("://", 1)[0])
        if server is None:
            return await super().read_resource(uri, context)
        try:
            raw = await self._ask("GET", f"/api/resources/{server}", params={"uri": str(uri)})
        except ServiceError as e:
            code = RESOURCE_NOT_FOUND if e.status == 404 else INVALID_PARAMS
            raise in_era(mcp_error(code, str(e), {"uri": str(uri)}), context) from None
        return [_contents(c) for c in raw["contents"]]

    async def complete(
        self,
        ctx: Context,  # type: ignore[type-arg]
        ref: PromptReference | ResourceTemplateReference,
        argument: CompletionArgument,
        context: CompletionContext | None,
    ) -> Completion | None:
        """The gateway's own arguments here; the others from the server that owns the template, or (a prompt's
        argument) from the server with a template of that argument (source ids: rag; entities: kg)."""
        if argument.name in self._completers:
            return await super().complete(ctx, ref, argument, context)
        remote = await self.remote_resources()
        template = ref.uri if isinstance(ref, ResourceTemplateReference) else remote.template_for(argument.name)
        if template is None or template not in remote.owner:
            return None
        params = {
            "ref": {"type": "ref/resource", "uri": template},
            "argument": argument.model_dump(),
            "context": context.model_dump() if context else None,
        }
        try:
            raw = await self._ask("POST", f"/api/completions/{remote.owner[template]}", json=params)
        except ServiceError:
            return None  # nothing to offer (the service cannot start, the server failed): no values
        return Completion.model_validate(raw["completion"])

    async def _ask(self, method: str, path: str, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(lambda: self.service.request(method, path, **kwargs))

    async def _forward(self, server: str, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        """Call the tool on the service's persistent MCP session to that server (one owner of its stores)."""
        try:
            raw = await anyio.to_thread.run_sync(
                lambda: self.service.request("POST", f"/api/tools/{server}/{tool}", json=arguments)
            )
        except Exception as e:  # noqa: BLE001 - reported to the client as a tool error
            return CallToolResult(content=[TextContent(type="text", text=str(e))], isError=True)
        outcome = ToolResult.model_validate(raw)
        return CallToolResult(
            content=[TextContent(type="text", text=outcome.text)],
            structuredContent=outcome.structured,
            isError=outcome.is_error,
        )


class RemoteResources:
    """The capability servers' resources and templates, and which server owns each (by template and scheme)."""

    def __init__(self) -> None:
        self.resources: list[MCPResource] = []
        self.templates: list[ResourceTemplate] = []
        self.owner: dict[str, str] = {}  # URI or URI template -> server
        self.schemes: dict[str, str] = {}  # "rag" -> "rag"

    def template_for(self, argument: str) -> str | None:
        """The first template with this parameter (a prompt's `source_id` completes like rag's)."""
        uris = (field(t, "uriTemplate") for t in self.templates)
        return next((uri for uri in uris if f"{{{argument}}}" in uri), None)


def _server_module(server: str) -> Any:
    module_name = f"mcp_servers.{server}"
    if importlib.util.find_spec(module_name) is None:
        return None
    try:
        return importlib.import_module(module_name)
    except Exception:  # noqa: BLE001 - one broken server must not take the gateway down
        log.exception("cannot load the %s MCP server; leaving it out", server)
        return None


def _scheme(template: ResourceTemplate) -> str:
    return str(field(template, "uriTemplate")).split("://", 1)[0]


def _contents(item: dict[str, Any]) -> ReadResourceContents:
    if "blob" in item:
        return ReadResourceContents(content=base64.b64decode(item["blob"]), mime_type=item.get("mimeType"))
    return ReadResourceContents(content=item.get("text", ""), mime_type=item.get("mimeType"))


mcp = Gateway(
    instructions=(
        "ask_assistant puts a question to the whole Spark Agents assistant: a supervisor that routes to "
        "coding, document (RAG, with citations), image and knowledge-graph agents; pass the returned "
        "thread_id back to continue a conversation. The other tools are the capability servers' own tools, "
        "named <server>_<tool>, for direct use. Resources: documents and cited chunks (rag://), graphs "
        "(kg://), conversations (spark-agents://threads/{thread_id}) and the memory plan (spark-agents://plan)."
    )
)
add_prompts(mcp, tuple(CAPABILITY_SERVERS), name=exported_name)


@mcp.resource("spark-agents://threads", name="threads", title="Conversations", mime_type="application/json")
async def threads_resource() -> list[dict[str, Any]]:
    """Every conversation: id, title, when it was created and last updated."""
    result: list[dict[str, Any]] = await mcp._ask("GET", "/api/threads")
    return result


@mcp.resource(
    "spark-agents://threads/{thread_id}", name="thread", title="A conversation's transcript", mime_type="text/markdown"
)
async def thread_resource(thread_id: str) -> str:
    """A conversation as Markdown: each question and answer, with the answer's agent and citations."""
    tid = unquote(thread_id)
    try:
        detail = await mcp._ask("GET", f"/api/threads/{quote(tid, safe='')}")
    except ServiceError as e:
        code = RESOURCE_NOT_FOUND if e.status == 404 else INVALID_PARAMS
        raise mcp_error(code, str(e), {"uri": f"spark-agents://threads/{thread_id}"}) from None
    return transcript(detail)


@mcp.resource("spark-agents://plan", name="plan", title="The memory plan", mime_type="application/json")
async def plan_resource() -> dict[str, Any]:
    """The serving profile's memory plan: each model server's weights, KV cache, buffers against the budget."""
    result: dict[str, Any] = await mcp._ask("GET", "/api/plan")
    return result


@mcp.completes("thread_id")
async def complete_thread(ctx: Context, partial: str, _: dict[str, str]) -> list[str]:  # type: ignore[type-arg]
    """Thread ids by id prefix or a word of the title, most recent first."""
    p = unquote(partial).lower()
    threads = sorted(await mcp._ask("GET", "/api/threads"), key=lambda t: -t["updated"])
    return [t["id"] for t in threads if t["id"].lower().startswith(p) or p in t["title"].lower()]


def transcript(detail: dict[str, Any]) -> str:
    """A thread (the service's `/api/threads/{id}` answer) as Markdown."""
    lines = [f"# {detail['thread']['title']}", ""]
    for m in detail["messages"]:
        who = "You" if m["role"] == "user" else f"Assistant ({m['agent']})" if m.get("agent") else "Assistant"
        lines += [f"**{who}:** {m['content']}", ""]
        for c in m.get("citations") or []:
            target = f" — rag://chunks/{c['chunk_id']}" if c.get("chunk_id") else ""
            lines.append(f"- [{c['label']}] {c['citation']}{target}")
        if m.get("citations"):
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


class TurnSoFar(BaseModel):
    """A turn up to its answer, or up to the approval it waits for."""

    thread_id: str
    answer: str = ""
    citations: list[dict[str, Any]] = Field(default_factory=list)
    steps: list[str] = Field(default_factory=list)
    approval: ApprovalRequest | None = None


class ApprovalForm(BaseModel):
    """What the client's approval prompt asks the user."""

    approve: bool = Field(description="allow this action")
    for_this_thread: bool = Field(False, description="also allow this tool for the rest of the conversation")


async def turn_until_approval(
    question: str,
    thread_id: str | None,
    agent: str | None,
    sources: list[str] | None,
    attachments: list[str] | None,
    ctx: Context,  # type: ignore[type-arg]
) -> TurnSoFar:
    """The turn up to its answer or the approval it waits for. A 2026-07-28 client answers the approval by
    calling again with the same arguments: that call gets back the turn its first round paused, not a new one."""
    if not question.strip():
        raise ToolError("question is empty")
    if parse_answer(question) is not None:
        # The question is written by the client's model: it must not approve what its own request set off.
        raise ToolError(
            "Approvals are not taken through ask_assistant (the calling model could approve its own request); "
            "the user answers in the client's approval prompt, the Spark Agents UI or `spark-agents ask`."
        )
    key = call_key(question, thread_id, agent, sources, attachments)
    if is_retry(ctx) and key in mcp.paused:
        return mcp.paused[key]
    request = TurnRequest(
        message=question,
        thread_id=thread_id or uuid.uuid4().hex[:12],
        attachments=attachments or [],
        sources=sources,
        agent=agent,
    )
    turn = await run_turn(ctx, request, TurnSoFar(thread_id=request.thread_id or ""))
    if turn.approval is not None:
        mcp.pause(key, turn)
    return turn


async def approval_question(
    turn: Annotated[TurnSoFar, Resolve(turn_until_approval)],
    ctx: Context,  # type: ignore[type-arg]
) -> Elicit[ApprovalForm] | None:
    """The approval the turn waits for, asked in the client's own prompt (an `elicitation/create` request on
    a legacy connection, an `input_required` result on a 2026-07-28 one); none for a client that cannot ask."""
    if turn.approval is None or not ctx.session.check_client_capability(CAN_ELICIT):
        return None
    return Elicit(turn.approval.prompt().split("\n\n")[0], ApprovalForm)


@mcp.tool(annotations=ASKS)
async def ask_assistant(
    question: Annotated[str, Field(description="the question or task, in plain language")],
    thread_id: Annotated[str | None, Field(description="continue this conversation (from an earlier answer)")] = None,
    agent: Annotated[
        Literal["coding", "rag", "vision", "kg"] | None,
        Field(description="send the question to this specialist instead of letting the supervisor route"),
    ] = None,
    sources: Annotated[list[str] | None, Field(description="limit document search to these source ids")] = None,
    attachments: Annotated[list[str] | None, Field(description="image file paths for the vision agent")] = None,
    *,
    ctx: Context,  # type: ignore[type-arg]
    turn: Annotated[TurnSoFar, Resolve(turn_until_approval)],
    decision: Annotated[ElicitationResult[ApprovalForm], Resolve(approval_question)],
) -> AskResult:
    """Ask the whole Spark Agents assistant (supervisor plus coding, RAG, vision and knowledge-graph agents).

    Returns the answer, the thread id (pass it back to continue), the citations and a one-line-per-step
    trace of the handoffs and tool calls. Fails with a clear message when the model server is down.
    Each handoff or tool call is reported as a progress notification when the request carries a progress
    token; a long turn (a small local model running code) can exceed a client's default 60 s timeout.
    """
    mcp.paused.pop(call_key(question, thread_id, agent, sources, attachments), None)
    if turn.approval is not None:
        answer = approval_answer(turn.approval, decision)
        if answer is None:
            return result(turn, NO_ELICITATION)
        turn = await run_turn(ctx, TurnRequest(approval=answer), turn)
        if turn.approval is not None:  # one question per call: a further one waits like any other
            return result(turn, ANOTHER_APPROVAL)
    return result(turn)


async def run_turn(ctx: Context, request: TurnRequest, before: TurnSoFar) -> TurnSoFar:  # type: ignore[type-arg]
    """Run (or resume, after `before`) a turn through the service until it answers or pauses for an approval;
    each step is a progress notification (when the client asked for them)."""
    from core.collector import TurnCollector, trace_line

    gen = mcp.service.turn(request)
    turn, steps = TurnCollector(before.thread_id), before.steps
    try:
        while (event := await anyio.to_thread.run_sync(next, gen, None)) is not None:
            turn.add(event)
            if turn.error is not None:
                raise ToolError(turn.error)
            if turn.final is not None:
                break
            if event.type != "token":
                await ctx.report_progress(len(steps) + len(turn.steps), None, trace_line(event))
    finally:
        # Also on cancellation: wait for the current step, then close the run so it stops.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(gen.close)
    if turn.final is None:
        raise ToolError("the assistant's run ended without an answer")
    return TurnSoFar(
        thread_id=turn.thread_id or before.thread_id,
        answer=turn.answer,
        citations=turn.citations,
        steps=steps + turn.trace_lines(),
        approval=turn.approval,
    )


def result(turn: TurnSoFar, pending: str = "") -> AskResult:
    """The tool's answer; `pending` says why the approval the turn waits for was not asked here."""
    text = f"{turn.answer}\n\n{pending.format(id=turn.approval.id)}" if pending and turn.approval else turn.answer
    return AskResult(answer=text, thread_id=turn.thread_id, citations=turn.citations, trace=turn.steps)


def approval_answer(request: ApprovalRequest, decision: Any) -> ApprovalAnswer | None:
    """The user's answer from the client's prompt; None when none was asked (the client cannot elicit)."""
    if decision.action == "accept" and decision.data is None:
        return None
    if decision.action == "accept" and decision.data.approve:
        scope = "thread" if decision.data.for_this_thread else "once"
        return ApprovalAnswer(id=request.id, approved=True, scope=scope)
    return ApprovalAnswer(id=request.id, approved=False)  # declined, cancelled or not approved


def call_key(*arguments: Any) -> str:
    return json.dumps(arguments, sort_keys=True)


CAN_ELICIT = ClientCapabilities(elicitation=ElicitationCapability())
WHERE_TO_ANSWER = (
    "The action stays pending: the user approves or denies it in the Spark Agents UI (this thread), or in a "
    'terminal with `spark-agents ask "approve {id}"` or `spark-agents ask "deny {id}"`.'
)
NO_ELICITATION = (
    "This MCP client cannot ask you to approve it (it does not support elicitation), so nothing was run. "
    + WHERE_TO_ANSWER
)
ANOTHER_APPROVAL = "The assistant wants another action approved, so nothing more was run. " + WHERE_TO_ANSWER


if __name__ == "__main__":
    serve(mcp)
