"""What a client reads of the graphs beside queries: which collections exist, a graph as GraphML or as its
offline HTML view, and the entity names a client completes a name from."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
from pydantic import BaseModel

from kg.settings import KGSettings
from kg.store import _COLLECTION, GraphStore, KnowledgeGraph, _graphml_ready

if TYPE_CHECKING:
    from kg.view import ColourBy, RenderResult


class CollectionInfo(BaseModel):
    name: str
    nodes: int
    edges: int


def collections(settings: KGSettings) -> list[CollectionInfo]:
    """Every stored collection with its size, by name (a graph file that cannot be read is left out)."""
    out = []
    for path in sorted(settings.graphs_dir.glob("*.json")) if settings.graphs_dir.is_dir() else []:
        if not _COLLECTION.match(path.stem):
            continue
        try:
            g = GraphStore(path.stem, settings).load(cached=True).graph
        except Exception:  # noqa: BLE001 - a corrupted graph is reported when it is opened by name
            continue
        out.append(CollectionInfo(name=path.stem, nodes=g.number_of_nodes(), edges=g.number_of_edges()))
    return out


def graphml(kg: KnowledgeGraph) -> str:
    """The graph as GraphML (lists and provenance as JSON strings), what `graph export x.graphml` writes."""
    return "\n".join(nx.generate_graphml(_graphml_ready(kg.graph)))


def render_aside(
    store: GraphStore,
    max_nodes: int | None = None,
    *,
    title: str | None = None,
    colour_by: ColourBy = "type",
    community: int | None = None,
) -> tuple[RenderResult, bytes]:
    """The offline pyvis view of a collection, rendered in a folder of its own (the stored view file is the
    CLI's to write): what it drew, and the page."""
    from kg.view import render

    with tempfile.TemporaryDirectory(prefix="spark-agents-view-") as tmp:
        path = Path(tmp) / f"{store.collection}.html"
        result = render(
            store.load(cached=True),
            path,
            max_nodes or store.settings.view_max_nodes,
            title=title or store.collection,
            colour_by=colour_by,
            community=community,
            settings=store.settings,
        )
        return result, path.read_bytes()


def view_html(store: GraphStore, max_nodes: int | None = None) -> bytes:
    """The offline pyvis view of a collection as bytes (the stored view file is untouched)."""
    return render_aside(store, max_nodes)[1]


def entity_names(kg: KnowledgeGraph, partial: str, limit: int = 100) -> list[str]:
    """Entities whose name (or an alias) starts with `partial`, then those containing it; the best connected
    first within each group (case-insensitive)."""
    p = (partial or "").strip().lower()
    g = kg.graph
    starts, contains = [], []
    for node, data in g.nodes(data=True):
        names = [str(node).lower(), *(str(a).lower() for a in data.get("aliases") or [])]
        if not p or any(n.startswith(p) for n in names):
            starts.append(node)
        elif any(p in n for n in names):
            contains.append(node)
    by_degree = lambda n: (-g.degree(n), str(n))  # noqa: E731
    return [str(n) for n in sorted(starts, key=by_degree) + sorted(contains, key=by_degree)][:limit]
