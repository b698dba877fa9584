"""An offline HTML view of a graph with pyvis: vis-network inlined, no CDN, coloured by entity type.

pyvis' template links Bootstrap from a CDN even with `cdn_resources="in_line"`; those tags are stripped
(the page does not need them), and the result is checked: no `src`/`href` pointing at http(s) remains.
Large graphs are cut to the `max_nodes` most central entities.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import networkx as nx
from pydantic import BaseModel

from core.files import atomic_write
from kg.errors import KGError
from kg.store import KnowledgeGraph

TYPE_COLOURS = {
    "PERSON": "#e15759",
    "ORG": "#4e79a7",
    "PLACE": "#59a14f",
    "DATE": "#edc948",
    "WORK": "#b07aa1",
    "CONCEPT": "#f28e2b",
    "QUANTITY": "#76b7b2",
    "ENTITY": "#9c9c9c",
}
_REMOTE_TAG = re.compile(
    r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//[^>]*>(?:\s*</script>)?", re.IGNORECASE | re.S
)
_REMOTE_ATTR = re.compile(r"\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE)


class RenderResult(BaseModel):
    path: str
    nodes: int
    edges: int
    total_nodes: int
    truncated: bool


def select_nodes(g: nx.MultiDiGraph, max_nodes: int) -> list[str]:
    """The `max_nodes` most central nodes (by degree, ties by name)."""
    if g.number_of_nodes() <= max_nodes:
        return list(g.nodes)
    return [n for n, _ in sorted(g.degree(), key=lambda x: (-x[1], str(x[0])))[:max_nodes]]


def offline_html(raw: str) -> str:
    """Strip every remote script/stylesheet tag; raise if any remote reference survives."""
    cleaned = _REMOTE_TAG.sub("", raw)
    if _REMOTE_ATTR.search(cleaned):
        raise KGError("The graph page still references a remote resource; refusing to write an online-only page.")
    return cleaned


def render(kg: KnowledgeGraph, path: Path, max_nodes: int = 150, title: str = "Knowledge graph") -> RenderResult:
    from pyvis.network import Network

    g = kg.graph
    if g.number_of_nodes() == 0:
        raise KGError("The graph is empty: build it first with `spark-agents graph build --text ...`.")
    keep = select_nodes(g, max_nodes)
    sub = g.subgraph(keep)
    net = Network(height="800px", width="100%", directed=True, cdn_resources="in_line", heading="", notebook=False)
    for n, d in sub.nodes(data=True):
        etype = d.get("type", "ENTITY")
        aliases = d.get("aliases") or []
        tip = f"{n} ({etype})" + (f"\naliases: {', '.join(aliases[:8])}" if aliases else "")
        net.add_node(
            n,
            label=n if len(n) <= 40 else n[:37] + "...",
            title=tip,
            color=TYPE_COLOURS.get(etype, TYPE_COLOURS["ENTITY"]),
            value=max(1, g.degree(n)),  # no `group`: vis.js group colours would override the type colour
        )
    # Parallel facts with the same relation (the same fact seen in several chunks) are drawn once.
    drawn: dict[tuple[str, str, str], list[str]] = {}
    for u, v, d in sub.edges(data=True):
        drawn.setdefault((u, v, d.get("relation", "")), []).append(f"{d.get('source_id', '')} {d.get('chunk_id', '')}")
    for (u, v, rel), prov in drawn.items():
        more = f"\n(+{len(prov) - 3} more)" if len(prov) > 3 else ""
        net.add_edge(u, v, label=rel, title=f"{rel}\n" + "\n".join(prov[:3]) + more, arrows="to")
    edges = len(drawn)
    net.toggle_physics(sub.number_of_nodes() <= 500)
    page = offline_html(net.generate_html(notebook=False))
    legend = " ".join(
        f'<span style="background:{c};color:#fff;padding:2px 6px;border-radius:3px;margin-right:4px">{t}</span>'
        for t, c in TYPE_COLOURS.items()
    )
    note = f"{sub.number_of_nodes()} of {g.number_of_nodes()} entities, {edges} facts"
    font = "style='font-family:sans-serif'"
    header = f"<h3 {font}>{html.escape(title)}</h3><p {font}>{legend} {note}</p>"
    page = page.replace("<body>", f"<body>\n{header}", 1)
    atomic_write(path, page, fsync=False)
    return RenderResult(
        path=str(path),
        nodes=sub.number_of_nodes(),
        edges=edges,
        total_nodes=g.number_of_nodes(),
        truncated=g.number_of_nodes() > len(keep),
    )
