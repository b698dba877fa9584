"""Tool results as an answer a person can read, for when the model is too small to write one itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agents.mcp_pool import ToolOutcome
from rag.passages import answering


def _hits(data: dict[str, Any], limit: int = 300) -> str:
    """The passage that answers first, one list item each (a line of its own in Markdown and in a terminal),
    with its citation's number (the order of the citations list); passages that answer far less than the
    best are left to the citations."""
    hits = [h for h in data.get("hits") or [] if isinstance(h, dict)]
    chunks = [(str(h.get("text", "")), str(h.get("title") or "")) for h in hits]
    passages = [
        f"- [{i + 1}] {p if len(p) <= limit else p[: limit - 1] + '…'} — {hits[i].get('citation', '')}"
        for i, p in answering(chunks, str(data.get("query") or ""))
    ]
    if not passages:
        return "Nothing in your documents matches that."
    parts = ["From your documents:\n" + "\n".join(passages)]
    facts = data.get("graph_facts") or []
    if facts:
        parts.append(
            "From your knowledge graph:\n"
            + "\n".join(f"- {f.get('text', '')} — {f.get('citation', '')}" for f in facts)
        )
    return "\n\n".join(parts)


def _run(data: dict[str, Any]) -> str:
    parts = []
    if data.get("stdout"):
        parts.append(f"Output:\n```\n{data['stdout'].rstrip()}\n```")
    if data.get("stderr"):
        parts.append(f"Errors:\n```\n{data['stderr'].rstrip()}\n```")
    if data.get("stopped_by"):
        parts.append(f"Stopped by the {data['stopped_by']} limit. {data.get('detail') or ''}".strip())
    return "\n\n".join(parts) or f"The program exited with code {data.get('exit_code')} and printed nothing."


def _sources(data: dict[str, Any]) -> str:
    sources = data.get("sources") or []
    if not sources:
        return "No documents are ingested yet (`spark-agents ingest PATH`, or the Documents page)."
    lines = [f"Your documents ({len(sources)}):"]
    lines += [f"- {s.get('title', '')} — {Path(str(s.get('path', ''))).name} · id {s.get('id', '')}" for s in sources]
    return "\n".join(lines)


def _deleted(data: dict[str, Any]) -> str:
    gone = data.get("deleted") or {}
    return f"Deleted {gone.get('title', '')} ({Path(str(gone.get('path', ''))).name}, id {gone.get('id', '')})."


RENDERERS = {
    "list_sources": _sources,
    "delete_source": _deleted,
    "generate_code": lambda d: (
        f"```{d.get('language', '')}\n{str(d.get('code', '')).rstrip()}\n```"
        + (f"\n\n{d['explanation']}" if d.get("explanation") else "")
    ),
    "search_documents": _hits,
    "run_python": _run,
    "run_tests": lambda d: str(d.get("summary") or ""),
    "explain_error": lambda d: str(d.get("explanation") or ""),
    "query_graph": lambda d: str(d.get("text") or ""),
    "describe_image": lambda d: str(d.get("answer") or ""),
    "extract_text": lambda d: f"Text in the image:\n{d.get('text')}" if d.get("text") else "",
}


def render(tool: str, outcome: ToolOutcome) -> str:
    """A readable answer from one tool result; the raw text when there is no renderer for it."""
    data = outcome.structured or {}
    if isinstance(data.get("result"), dict):
        data = data["result"]
    renderer = RENDERERS.get(tool)
    if renderer and not outcome.is_error and data:
        try:
            text = renderer(data).strip()
        except (TypeError, AttributeError, KeyError):
            text = ""
        if text:
            return text
    try:
        return json.dumps(json.loads(outcome.text), indent=2)[:6000]
    except ValueError:
        return outcome.text[:6000]
