"""An offline HTML view of a graph with pyvis: vis-network inlined, no CDN, coloured by entity type or by
community (`kg.community`), optionally showing one community only.

pyvis' template links Bootstrap from a CDN even with `cdn_resources="in_line"`; those tags are stripped
(the page does not need them), and the result is checked: no `src`/`href` pointing at http(s) remains.
Large graphs are cut to the `max_nodes` most central entities. Edge labels are drawn small, on a white halo,
along the edge; several relations between the same two entities curve apart instead of overprinting.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Literal

import networkx as nx
from pydantic import BaseModel

from core.files import atomic_write
from kg.errors import KGError
from kg.settings import KGSettings
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
# Community colours (Tableau 10 and two more), cycled: community ids are largest first.
COMMUNITY_COLOURS = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
    "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#8c564b",
)  # fmt: skip
EDGE_FONT = {"size": 11, "align": "middle", "color": "#333333", "strokeWidth": 4, "strokeColor": "#ffffff"}
LABEL_CHARS = 32
ColourBy = Literal["type", "community"]
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
    community: int | None = None  # the community shown alone, if any
    communities: int = 0  # communities in the graph (when coloured or filtered by community)


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 3] + "..."


def _swatch(colour: str, text: str) -> str:
    return (
        f'<span style="background:{colour};color:#fff;padding:2px 6px;border-radius:3px;margin-right:4px">'
        f"{html.escape(text)}</span>"
    )


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


def render(
    kg: KnowledgeGraph,
    path: Path,
    max_nodes: int = 150,
    title: str = "Knowledge graph",
    colour_by: ColourBy = "type",
    community: int | None = None,
    *,
    settings: KGSettings,
) -> RenderResult:
    """Write the view. `colour_by`: 'type' (entity types) or 'community'; `community`: draw only that
    community's entities (ids as `spark-agents graph communities` lists them, largest first)."""
    from pyvis.network import Network

    from kg.community import detect

    g = kg.graph
    if g.number_of_nodes() == 0:
        raise KGError("The graph is empty: build it first with `spark-agents graph build --text ...`.")
    if colour_by not in ("type", "community"):
        raise KGError(f"Unknown colouring {colour_by!r}: use 'type' or 'community'.")
    groups: list[list[str]] = []
    if colour_by == "community" or community is not None:
        groups = detect(kg, settings.community_seed, settings.community_resolution)
    of = {n: i for i, members in enumerate(groups) for n in members}
    scope = g
    if community is not None:
        if not 0 <= community < len(groups):
            raise KGError(
                f"No community {community}: the graph has {len(groups)} (0 to {len(groups) - 1}; "
                "see `spark-agents graph communities`)."
            )
        scope = g.subgraph(groups[community])
    keep = select_nodes(scope, max_nodes)
    sub = g.subgraph(keep)
    net = Network(height="800px", width="100%", directed=True, cdn_resources="in_line", heading="", notebook=False)
    for n, d in sub.nodes(data=True):
        etype = d.get("type", "ENTITY")
        aliases = d.get("aliases") or []
        tip = f"{n} ({etype})" + (f", community {of[n]}" if n in of else "")
        tip += f"\naliases: {', '.join(aliases[:8])}" if aliases else ""
        if colour_by == "community":
            colour = COMMUNITY_COLOURS[of[n] % len(COMMUNITY_COLOURS)]
        else:
            colour = TYPE_COLOURS.get(etype, TYPE_COLOURS["ENTITY"])
        net.add_node(
            n,
            label=n if len(n) <= 40 else n[:37] + "...",
            title=tip,
            color=colour,
            value=max(1, g.degree(n)),  # no `group`: vis.js group colours would override ours
        )
    # Parallel facts with the same relation (the same fact seen in several chunks) are drawn once.
    drawn: dict[tuple[str, str, str], list[str]] = {}
    for u, v, d in sub.edges(data=True):
        drawn.setdefault((u, v, d.get("relation", "")), []).append(f"{d.get('source_id', '')} {d.get('chunk_id', '')}")
    between: dict[frozenset[str], int] = {}
    for (u, v, rel), prov in drawn.items():
        more = f"\n(+{len(prov) - 3} more)" if len(prov) > 3 else ""
        nth = between.get(frozenset((u, v)), 0)
        between[frozenset((u, v))] = nth + 1
        net.add_edge(
            u,
            v,
            label=_short(rel, LABEL_CHARS),
            title=f"{rel}\n" + "\n".join(prov[:3]) + more,
            arrows="to",
            font=EDGE_FONT,
            color="#9a9a9a",
            # the first of two entities' relations runs straight; the others curve apart, alternating sides
            smooth={"type": "curvedCW" if nth % 2 else "curvedCCW", "roundness": 0.2 * ((nth + 1) // 2)}
            if nth
            else False,
        )
    edges = len(drawn)
    net.toggle_physics(sub.number_of_nodes() <= 500)
    page = offline_html(net.generate_html(notebook=False))
    if colour_by == "community":
        shown = sorted({of[n] for n in sub.nodes})
        legend = " ".join(
            _swatch(COMMUNITY_COLOURS[i % len(COMMUNITY_COLOURS)], f"{i}: {groups[i][0]}") for i in shown[:12]
        ) + (f" (+{len(shown) - 12} more)" if len(shown) > 12 else "")
    else:
        legend = " ".join(_swatch(c, t) for t, c in TYPE_COLOURS.items())
    scope_note = f"community {community} ({len(groups[community])} entities): " if community is not None else ""
    note = f"{scope_note}{sub.number_of_nodes()} of {g.number_of_nodes()} entities, {edges} facts"
    font = "style='font-family:sans-serif'"
    header = f"<h3 {font}>{html.escape(title)}</h3><p {font}>{legend} {html.escape(note)}</p>"
    page = page.replace("<body>", f"<body>\n{header}", 1)
    atomic_write(path, page, fsync=False)
    return RenderResult(
        path=str(path),
        nodes=sub.number_of_nodes(),
        edges=edges,
        total_nodes=g.number_of_nodes(),
        truncated=scope.number_of_nodes() > len(keep),
        community=community,
        communities=len(groups),
    )
