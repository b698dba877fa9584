"""Tool results as an answer a person can read, for when the model is too small to write one itself."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from agents.mcp_pool import ToolOutcome
from agents.terms import present, question_terms


def _units(text: str) -> list[str]:
    """A chunk as readable pieces: each table row ("Memory bandwidth: 273 GB/s"), each prose sentence."""
    units: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        if prose:
            units.extend(s for s in re.split(r"(?<=[.!?])\s+", " ".join(prose)) if s)
            prose.clear()

    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|"):
            flush()
            cells = [c.strip() for c in line.strip("|").split("|")]
            if any(c.strip("-: ") for c in cells):  # not the |---|---| rule
                units.append(": ".join(cells) if len(cells) == 2 else " · ".join(cells))
        elif line.startswith("#") or not line:  # headings are in the citation already
            flush()
        else:
            prose.append(line)
    flush()
    return units


def best_passage(text: str, query: str, title: str = "", limit: int = 300) -> str:
    """The pieces of a chunk that contain most of the question's words (in document order), so the line
    that answers leads instead of whatever the chunk starts with. Words of the document's title name its
    topic, not what is asked about it: they count a quarter."""
    units = _units(text)
    folded = [u.casefold() for u in units]
    found = {t: [present(t, u) for u in folded] for t in question_terms(query)}
    # a word in every line ("Spark" in a Spark spec) says less than one in a single line ("bandwidth")
    weight = {
        t: math.log(1 + len(units) / (1 + sum(hits))) * (0.25 if present(t, title.casefold()) else 1.0)
        for t, hits in found.items()
    }
    scored = [(sum(weight[t] for t, hits in found.items() if hits[i]), i) for i in range(len(units))]
    best = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))[:2]
    if not best:
        return " ".join(text.split())[:limit]
    best = [s for s in best if s[0] >= best[0][0] / 2]  # a second piece only when it is nearly as good
    return " … ".join(units[i] for _, i in sorted(best, key=lambda s: s[1]))[:limit]


def _hits(data: dict[str, Any]) -> str:
    lines = ["From your documents:"]
    query = str(data.get("query") or "")
    for i, hit in enumerate(data.get("hits") or [], 1):
        passage = best_passage(str(hit.get("text", "")), query, str(hit.get("title") or ""))
        lines.append(f"[{i}] {passage} — {hit.get('citation', '')}")
    if len(lines) == 1:
        return "Nothing in your documents matches that."
    facts = data.get("graph_facts") or []
    if facts:
        lines.append("From your knowledge graph:")
        lines += [f"- {f.get('text', '')} — {f.get('citation', '')}" for f in facts]
    return "\n".join(lines)


def _run(data: dict[str, Any]) -> str:
    parts = []
    if data.get("stdout"):
        parts.append(f"Output:\n```\n{data['stdout'].rstrip()}\n```")
    if data.get("stderr"):
        parts.append(f"Errors:\n```\n{data['stderr'].rstrip()}\n```")
    if data.get("stopped_by"):
        parts.append(f"Stopped by the {data['stopped_by']} limit. {data.get('detail') or ''}".strip())
    return "\n\n".join(parts) or f"The program exited with code {data.get('exit_code')} and printed nothing."


RENDERERS = {
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
