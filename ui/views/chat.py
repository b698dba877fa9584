"""Chat: a streamed answer, the trace of each turn (handoffs, tool calls, results), citations, threads.

Every turn is a request to the resident service (`ui.service`): the same typed event stream the CLI and
the HTTP API consume. The app holds no runtime of its own.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from pathlib import Path
from typing import Any

import streamlit as st

from agents.capabilities import CAPABILITIES
from core.errors import SparkAgentsError
from core.uploads import IMAGE_TYPES, save_image
from core.wire import ApprovalAnswer
from ui import service
from ui.common import AGENT_LABELS, guarded, session_default

log = logging.getLogger(__name__)

SAMPLE_PROMPTS: dict[str, list[str]] = {c.name: list(c.sample_prompts) for c in CAPABILITIES.values()}
AGENT_ICONS = {"supervisor": "🧭"} | {c.name: c.icon for c in CAPABILITIES.values()}
NEW = ""  # the transcript key of a thread that has no id yet
THREAD_PARAM = "thread"  # ?thread=<id>: the open thread, so a reload or a link opens it again
LONG_MESSAGE = 1500  # characters: a user message longer than this shows its start, the rest on demand


# --- state -----------------------------------------------------------------------------------------
def _transcripts() -> dict[str, list[dict[str, Any]]]:
    return session_default("transcripts", dict)


def current_thread() -> str:
    """The open thread: the session's, else the one the URL names (a reload or a shared link keeps it)."""
    return session_default("thread_id", lambda: st.query_params.get(THREAD_PARAM, NEW))


def _show_thread_in_url(thread_id: str) -> None:
    if thread_id == NEW:
        st.query_params.pop(THREAD_PARAM, None)
    elif st.query_params.get(THREAD_PARAM) != thread_id:
        st.query_params[THREAD_PARAM] = thread_id


def selected_sources() -> list[str] | None:
    """The sources the RAG agent may use: None means all of them (set on the Documents page)."""
    return st.session_state.get("rag_sources")


def _flash(message: str) -> None:
    st.session_state["chat_flash"] = message


def _new_chat() -> None:
    st.session_state.thread_id = NEW
    _transcripts().pop(NEW, None)


def _select_thread(thread_id: str) -> None:
    st.session_state.thread_id = thread_id


def _rename_thread(thread_id: str) -> None:
    title = (st.session_state.get(f"rename_{thread_id}") or "").strip()
    if not title:
        _flash("A thread title cannot be empty.")
        return
    try:
        service.rename_thread(thread_id, title)
    except SparkAgentsError as e:
        _flash(str(e))


def _delete_thread(thread_id: str) -> None:
    try:
        service.delete_thread(thread_id)  # the service also drops the checkpoints
    except SparkAgentsError as e:
        _flash(str(e))
        return
    _transcripts().pop(thread_id, None)
    if current_thread() == thread_id:
        st.session_state.thread_id = NEW


def _restore(thread_id: str) -> list[dict[str, Any]]:
    """A thread's messages after a restart, each answer with its trace and citations, from the service."""
    out = []
    detail = service.thread_detail(thread_id)
    for m in detail["messages"]:
        get = m.get if isinstance(m, dict) else lambda k, default=None, m=m: getattr(m, k, default)
        role, content = get("role"), get("content") or ""
        if role not in ("user", "assistant") or not isinstance(content, str):
            continue
        out.append(
            {
                "role": role,
                "content": content,
                "trace": list(get("trace", None) or []),
                "citations": list(get("citations", None) or []),
                "error": None,
                "agent": get("agent", None) or "supervisor",
                "attachments": [],
            }
        )
    if detail.get("pending_approval"):  # the last turn waits: its question, then the card to answer it
        pending = detail["pending_approval"]
        out.append(
            {
                "role": "assistant",
                "content": "",
                "trace": [],
                "citations": [],
                "error": None,
                "agent": pending.get("agent") or "supervisor",
                "attachments": [],
                "approval": pending,
            }
        )
    return out


def transcript(thread_id: str) -> list[dict[str, Any]]:
    transcripts = _transcripts()
    if thread_id not in transcripts:
        restored = guarded("Loading the thread", lambda: _restore(thread_id)) if thread_id != NEW else None
        transcripts[thread_id] = restored or []
        if thread_id != NEW and not restored:
            st.session_state.setdefault("unrestored", set()).add(thread_id)
    return transcripts[thread_id]


# --- rendering -------------------------------------------------------------------------------------
def trace_label(msg: dict[str, Any], running: bool = False) -> str:
    agents = [s["agent"] for s in msg.get("trace", []) if s.get("type") == "handoff" and s["agent"] != "supervisor"]
    calls = sum(1 for s in msg.get("trace", []) if s.get("type") == "tool_call")
    who = agents[-1] if agents else msg.get("agent") or "supervisor"
    if running:
        return f"{AGENT_ICONS.get(who, '🤖')} {who} agent working…"
    tools = f" · {calls} tool call{'s' if calls != 1 else ''}" if calls else ""
    route = " → ".join(["supervisor", *agents]) if agents else f"answered directly by {who}"
    return f"Trace · {route}{tools}"


def render_step(step: dict[str, Any]) -> None:
    """One trace entry: a handoff, a tool call with its arguments, or a tool result."""
    kind = step.get("type")
    if kind == "handoff":
        reason = f" — {step['reason']}" if step.get("reason") else ""
        st.markdown(f"{AGENT_ICONS.get(step['agent'], '🤖')} **handoff → {step['agent']} agent**{reason}")
    elif kind == "tool_call":
        st.markdown(f"⚙️ **tool call** `{step['server']}.{step['tool']}`")
        st.code(json.dumps(step.get("arguments", {}), indent=2, ensure_ascii=False), language="json")
        if step.get("note"):
            st.caption(step["note"])
    elif kind == "tool_result":
        mark = "❌ **tool error**" if step.get("is_error") else "↳ **tool result**"
        st.markdown(f"{mark} `{step['server']}.{step['tool']}`")
        st.code(step.get("summary", ""), language="text", wrap_lines=True)
    elif kind == "approval":
        st.markdown(f"⏸ **approval asked** `{step['server']}.{step['tool']}`")


def _answer_approval(approval_id: str, approved: bool, scope: str) -> None:
    st.session_state["approval_answer"] = {"id": approval_id, "approved": approved, "scope": scope}


ANSWERED = {True: "✅ Approved", False: "🚫 Denied"}


def render_approval(msg: dict[str, Any]) -> None:
    """The card of a paused turn: what the agent wants to do and why, with approve and deny buttons."""
    request = msg["approval"]
    rid = request["id"]
    with st.container(border=True, key=f"approval_{rid}"):
        st.markdown(
            f"⏸ **Approval needed** — the {request.get('agent', '')} agent wants to call "
            f"`{request.get('server', '')}.{request.get('tool', '')}`"
        )
        st.code(json.dumps(request.get("arguments", {}), indent=2, ensure_ascii=False), language="json")
        if request.get("reason"):
            st.caption(f"Why: {request['reason']}")
        if "answered" in msg:
            st.caption(ANSWERED[bool(msg["answered"])])
            return
        approve, thread, deny = st.columns(3)
        approve.button(
            "Approve", key=f"approve_{rid}", type="primary", on_click=_answer_approval, args=(rid, True, "once")
        )
        thread.button(
            "Approve for this thread",
            key=f"approve_thread_{rid}",
            on_click=_answer_approval,
            args=(rid, True, "thread"),
        )
        deny.button("Deny", key=f"deny_{rid}", on_click=_answer_approval, args=(rid, False, "once"))


def render_trace(msg: dict[str, Any]) -> None:
    steps = msg.get("trace", [])
    state = "error" if msg.get("error") else "complete"
    with st.status(trace_label(msg), state=state, expanded=False):
        if not steps:
            st.caption("No handoffs or tool calls: the supervisor answered directly.")
        for step in steps:
            render_step(step)


def citation_title(c: dict[str, Any]) -> str:
    label = c.get("label") or ""
    text = c.get("citation") or c.get("title") or c.get("source") or c.get("path") or c.get("source_id") or "source"
    page = c.get("page")
    if page not in (None, "") and f"p. {page}" not in str(text) and f"page {page}" not in str(text):
        text = f"{text}, p. {page}"
    return f"[{label}] {text}" if label else str(text)


def render_citations(citations: list[dict[str, Any]]) -> None:
    if not citations:
        return
    st.markdown("**Sources**")
    for c in citations:
        with st.expander(citation_title(c), icon="📎"):
            if c.get("snippet"):
                st.markdown("> " + str(c["snippet"]).replace("\n", "  \n> "))  # its lines kept apart
            shown = {**c, "path": Path(str(c["path"])).name if c.get("path") else None}  # not the uploads folder
            meta = [f"{k}: `{shown[k]}`" for k in ("path", "source_id", "page") if shown.get(k) not in (None, "")]
            if meta:
                st.caption(" · ".join(meta))


def as_written(text: str) -> str:
    """Markdown that keeps the user's line breaks (Markdown joins single lines into one paragraph); fenced
    blocks are left as they are."""
    parts = text.split("```")
    for i in range(0, len(parts), 2):  # outside the fences: each line a line, its indentation kept
        lines = parts[i].split("\n")
        parts[i] = "  \n".join(re.sub(r"^ +", lambda m: "&nbsp;" * len(m.group(0)), line) for line in lines)
    return "```".join(parts)


def render_user_text(text: str) -> None:
    """The user's message; a long one (a pasted document) as its start, the whole of it in an expander."""
    if len(text) <= LONG_MESSAGE:
        st.markdown(as_written(text))
        return
    head = text[:LONG_MESSAGE].rsplit("\n", 1)[0] if "\n" in text[:LONG_MESSAGE] else text[:LONG_MESSAGE]
    st.text(head.rstrip() + " …")
    with st.expander(f"Show the whole message ({len(text):,} characters)"):
        st.text(text)


def render_message(msg: dict[str, Any]) -> None:
    if msg["role"] == "user":
        with st.chat_message("user"):
            if msg.get("content"):
                render_user_text(msg["content"])
            for path in msg.get("attachments", []):
                if Path(path).exists():
                    st.image(path, width=240)
        return
    with st.chat_message("assistant", avatar=AGENT_ICONS.get(msg.get("agent") or "supervisor", "🤖")):
        render_trace(msg)
        if msg.get("content"):
            st.markdown(msg["content"])
        if msg.get("error"):
            st.error(msg["error"], icon="⚠️")
        render_citations(msg.get("citations", []))
        if msg.get("approval"):
            render_approval(msg)


# --- one turn --------------------------------------------------------------------------------------
def stream_turn(
    text: str,
    *,
    thread_id: str | None,
    attachments: list[Path],
    sources: list[str] | None,
    agent: str | None,
    approval: ApprovalAnswer | None = None,
) -> dict[str, Any]:
    """Run the turn (or, with `approval`, the rest of a paused one), drawing tokens and trace steps as they
    arrive; return the finished message."""
    from core.collector import TurnCollector

    msg: dict[str, Any] = {
        "role": "assistant",
        "content": "",
        "trace": [],
        "citations": [],
        "error": None,
        "agent": agent or "supervisor",
        "thread_id": thread_id,
    }
    box = st.status(trace_label(msg, running=True), state="running", expanded=False)
    answer = st.empty()
    turn = TurnCollector(thread_id, agent)
    try:
        events = service.run_turn(
            text, thread_id=thread_id, attachments=attachments, sources=sources, agent=agent, approval=approval
        )
        for event in events:
            turn.add(event)
            msg["agent"] = turn.agent
            if event.type == "token":
                answer.markdown(turn.streamed + " ▌")
            elif event.type not in ("final", "error"):
                step = event.model_dump(mode="json")
                msg["trace"].append(step)
                with box:  # leaving the block marks a status complete: it is still running
                    render_step(step)
                box.update(label=trace_label(msg, running=True), state="running")
        msg["error"] = turn.error
    except SparkAgentsError as e:
        msg["error"] = str(e)
    except Exception as e:  # noqa: BLE001 - a bug below the UI: show it as a banner, log the traceback
        log.exception("the turn failed")
        msg["error"] = f"The turn failed unexpectedly ({type(e).__name__}: {e}). The server log has the details."
    msg["content"] = turn.streamed.strip() if turn.approval else turn.answer  # a paused turn shows its card
    msg["citations"] = turn.citations
    msg["thread_id"] = turn.thread_id
    if turn.approval is not None:
        msg["approval"] = turn.approval.model_dump()
    if not msg["trace"]:
        with box:
            st.caption("No handoffs or tool calls: the supervisor answered directly.")
    box.update(label=trace_label(msg), state="error" if msg["error"] else "complete")
    if msg["content"]:
        answer.markdown(msg["content"])
    else:
        answer.empty()
    if msg["error"]:
        st.error(msg["error"], icon="⚠️")
    render_citations(msg["citations"])
    if msg.get("approval"):
        render_approval(msg)
    return msg


def resume(answer: dict[str, Any]) -> None:
    """Send the user's answer to a paused turn and stream the rest of it."""
    history = transcript(current_thread())
    agent = "supervisor"  # who asked: the rest of the turn is theirs
    for m in history:
        if (m.get("approval") or {}).get("id") == answer["id"]:
            m["answered"] = answer["approved"]
            agent = m["approval"].get("agent") or agent
    with st.chat_message("assistant", avatar=AGENT_ICONS.get(agent, "🤖")):
        msg = stream_turn(
            "",
            thread_id=current_thread(),
            attachments=[],
            sources=None,
            agent=agent,
            approval=ApprovalAnswer.model_validate(answer),
        )
    history.append(msg)
    st.rerun()


def send(text: str, files: list[Any], agent: str | None) -> None:
    """Store the attachments, record the thread, show the user's message and stream the answer."""
    attachments: list[Path] = []
    home = service.client().settings.home
    for f in files:
        saved = guarded(f"Attaching {f.name}", lambda f=f: save_image(f.name, f.getvalue(), home))
        if saved is None:
            return
        attachments.append(saved)
    if not text and attachments:
        text = "What is in this image?"
    thread_id = current_thread()
    new_id = thread_id or uuid.uuid4().hex[:12]  # the runtime records the thread when the turn starts
    transcripts = _transcripts()
    history = transcripts.pop(NEW, []) if thread_id == NEW else transcript(thread_id)
    transcripts[new_id] = history
    st.session_state.thread_id = new_id
    for m in history:  # a new message instead of an answer skips the call a turn waits on
        if m.get("approval") and "answered" not in m:
            m["answered"] = False
    user = {"role": "user", "content": text, "attachments": [str(p) for p in attachments]}
    history.append(user)
    render_message(user)
    with st.chat_message("assistant", avatar=AGENT_ICONS.get(agent or "supervisor", "🤖")):
        msg = stream_turn(text, thread_id=new_id, attachments=attachments, sources=selected_sources(), agent=agent)
    history.append(msg)
    final_id = msg.get("thread_id") or new_id
    if final_id != new_id:  # the runtime named the thread itself
        transcripts[final_id] = transcripts.pop(new_id)
        st.session_state.thread_id = final_id
    st.rerun()  # redraw the sidebar with the new or updated thread


def _queue_prompt(text: str, agent: str) -> None:
    st.session_state["pending_prompt"] = (text, agent)


# --- page ------------------------------------------------------------------------------------------
def sidebar() -> str | None:
    """Agent choice, new chat, and the thread list; returns the forced agent (None: let the supervisor route)."""
    with st.sidebar:
        st.button("New chat", icon="➕", on_click=_new_chat, width="stretch", key="new_chat")
        names = list(AGENT_LABELS)
        remembered = st.session_state.get("agent", "auto")  # survives page switches (widget state does not)
        choice = st.selectbox(
            "Agent",
            names,
            index=names.index(remembered) if remembered in names else 0,
            format_func=AGENT_LABELS.__getitem__,
            key="agent_choice",
        )
        st.session_state["agent"] = choice
        chosen = selected_sources()
        st.caption("Documents: all sources" if chosen is None else f"Documents: {len(chosen)} selected source(s)")
        st.subheader("Threads")
        threads = guarded("Listing threads", service.threads) or []
        current = current_thread()
        if not threads:
            st.caption("No threads yet.")
        for t in threads[:100]:
            st.button(
                f"{t.title or 'New chat'} · {when(t.updated)}",
                help=f"{t.title}\n\nlast message {time.strftime('%Y-%m-%d %H:%M', time.localtime(t.updated))}",
                key=f"thread_{t.id}",
                type="primary" if t.id == current else "secondary",
                on_click=_select_thread,
                args=(t.id,),
                width="stretch",
            )
        info = next((t for t in threads if t.id == current), None)
        if info is not None:
            with st.expander("Rename or delete this thread"):
                st.text_input("Title", value=info.title, key=f"rename_{info.id}")
                st.button("Rename", key="rename_thread", on_click=_rename_thread, args=(info.id,))
                st.button("Delete thread", key="delete_thread", on_click=_delete_thread, args=(info.id,))
    return None if choice == "auto" else choice


def when(timestamp: float, now: float | None = None) -> str:
    """A thread's time as the sidebar shows it: the hour today, else the day (and the year, if not this one)."""
    at, today = time.localtime(timestamp), time.localtime(now)
    if at[:3] == today[:3]:
        return time.strftime("%H:%M", at)
    return time.strftime("%b %d" if at.tm_year == today.tm_year else "%b %d %Y", at)


def sample_prompts(forced: str | None) -> None:
    st.markdown("#### Try one of these")
    agents = [forced] if forced else list(SAMPLE_PROMPTS)
    cols = st.columns(len(agents))
    for col, agent in zip(cols, agents, strict=True):
        with col:
            st.markdown(f"{AGENT_ICONS[agent]} **{AGENT_LABELS[agent]}**")
            for i, prompt in enumerate(SAMPLE_PROMPTS[agent]):
                st.button(
                    prompt,
                    key=f"sample_{agent}_{i}",
                    on_click=_queue_prompt,
                    args=(prompt, agent),
                    width="stretch",
                    wrap=True,
                )


def is_blank(prompt: Any) -> bool:
    """A message of nothing but spaces and line breaks, with no image attached."""
    text = prompt if isinstance(prompt, str) else (prompt.text or "")
    files = [] if isinstance(prompt, str) else list(prompt.files)
    return not text.strip() and not files


def wait_for_service() -> None:
    """The first load of a session: the service may still be starting (seconds), so the page says so
    instead of staying blank until the sidebar's thread list comes back."""
    if st.session_state.get("service_seen"):
        return
    note = st.empty()
    note.info("Starting the assistant… (the first start takes a few seconds)", icon="⏳")
    if guarded("Starting the assistant", service.threads) is not None:
        st.session_state["service_seen"] = True
        note.empty()


def render() -> None:
    wait_for_service()
    forced = sidebar()
    prompt = st.chat_input(
        "Ask Spark Agents… (attach images with the paperclip)",
        accept_file="multiple",
        file_type=IMAGE_TYPES,
        key="chat_input",
    )
    welcome = st.empty()  # the welcome screen's one slot, first on the page in every run
    if flash := st.session_state.pop("chat_flash", None):
        st.error(flash, icon="⚠️")
    if prompt is not None and is_blank(prompt):
        st.warning("The message is empty: type a question or attach an image.", icon="✏️")
        prompt = None
    thread_id = current_thread()
    _show_thread_in_url(thread_id)
    history = transcript(thread_id)
    pending = st.session_state.pop("pending_prompt", None)
    if not history and not prompt and not pending:
        with welcome.container():
            if thread_id in st.session_state.get("unrestored", set()):
                st.info("This thread's earlier messages are kept by the agent runtime; new messages continue it.")
            else:
                st.title("⚡ Spark Agents")
                st.caption("Coding, your documents, images and knowledge graphs — all on this machine.")
            sample_prompts(forced)
    else:
        welcome.empty()  # at once: the last run's sample prompts would stay under a streaming turn
    for msg in history:
        render_message(msg)
    if answer := st.session_state.pop("approval_answer", None):
        resume(answer)
    elif prompt:
        text = prompt if isinstance(prompt, str) else (prompt.text or "")
        files = [] if isinstance(prompt, str) else list(prompt.files)
        if text.strip() or files:
            send(text.strip(), files, forced)
    elif pending:
        send(pending[0], [], pending[1])
