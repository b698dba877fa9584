"""Communities of a graph and their summaries, cached beside the graph file.

The GraphRAG idea: a graph built from documents falls into communities (groups of entities more connected
to each other than to the rest: one product and its specs, one company's history), and a summary per
community answers the broad questions no single entity names ("what does this collection cover?").
Detection is Louvain on an undirected copy weighted by the facts between two entities, with a fixed seed and
the nodes and edges in sorted order, so the same graph always gives the same communities; ids number them
largest first. The summaries (`kg.summary`) are stored in `<graphs>/<collection>.communities.json` with the
graph's fingerprint and the summarizer that wrote them: a changed graph, or another summarizer, recomputes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx
from networkx.algorithms.community import louvain_communities
from pydantic import BaseModel, Field, ValidationError

from core.files import atomic_write
from kg.errors import KGError
from kg.query import Fact
from kg.settings import KGSettings
from kg.store import GraphStore, KnowledgeGraph
from kg.summary import ModelSummarizer, offline_summary, pick_summarizer, supported_facts

log = logging.getLogger(__name__)
FORMAT, VERSION = "spark-agents-kg-communities", 1
_VALUE_TYPES = ("QUANTITY", "DATE")


class Community(BaseModel):
    """One community: its entities (most connected first), its summary and the facts the summary cites."""

    id: int
    entities: list[str]
    size: int
    fact_count: int = Field(description="facts between this community's entities")
    summary: str
    summarizer: str = Field(description="'offline' (extractive) or 'llm:<model>'")
    facts: list[Fact] = Field(description="the facts the summary was built from: its citations")
    note: str = Field("", description="why a model summary fell back to the extractive one")


class CommunityIndex(BaseModel):
    fingerprint: str
    summarizer: str
    seed: int
    resolution: float
    facts_per_summary: int
    communities: list[Community]

    @property
    def fallbacks(self) -> int:
        """Communities the model should have summarised but the extractive summary stands in for."""
        return sum(1 for c in self.communities if c.note)

    def get(self, community_id: int) -> Community:
        for c in self.communities:
            if c.id == community_id:
                return c
        raise KGError(
            f"No community {community_id}: the graph has {len(self.communities)} "
            f"(0 to {len(self.communities) - 1}; see `spark-agents graph communities`)."
        )


def fingerprint(kg: KnowledgeGraph) -> str:
    """A digest of the graph's entities and facts: equal graphs, equal fingerprints, whatever their file order."""

    def build() -> str:
        h = hashlib.sha1()
        for line in sorted(f"{u}\x1f{v}\x1f{k}" for u, v, k in kg.graph.edges(keys=True)):
            h.update(line.encode())
            h.update(b"\n")
        for n in sorted(n for n in kg.graph if kg.graph.degree(n) == 0):
            h.update(f"{n}\x1e".encode())
        return h.hexdigest()[:20]

    return kg.memo("fingerprint", build)


def detect(kg: KnowledgeGraph, seed: int = 42, resolution: float = 1.0) -> list[list[str]]:
    """The communities as entity lists: largest first, each most connected (within it) first."""

    def build() -> list[list[str]]:
        g = kg.graph
        weights: Counter[tuple[str, str]] = Counter()
        for u, v in g.edges():
            weights[(u, v) if u <= v else (v, u)] += 1
        und = nx.Graph()
        und.add_nodes_from(sorted(g.nodes))
        und.add_weighted_edges_from((u, v, w) for (u, v), w in sorted(weights.items()))
        if und.number_of_nodes() == 0:
            return []
        parts = louvain_communities(und, weight="weight", resolution=resolution, seed=seed)
        ordered = []
        for part in parts:
            inner = und.subgraph(part)
            ordered.append(sorted(part, key=lambda n: (-inner.degree(n, weight="weight"), n)))
        return sorted(ordered, key=lambda members: (-len(members), members[0]))

    return kg.memo(("communities", seed, resolution), build)


def membership(kg: KnowledgeGraph, seed: int = 42, resolution: float = 1.0) -> dict[str, int]:
    """entity -> community id."""
    return {n: i for i, members in enumerate(detect(kg, seed, resolution)) for n in members}


def _fact_count(g: nx.MultiDiGraph, members: list[str]) -> int:
    inside = set(members)
    return sum(1 for u in members for _, v in g.out_edges(u) if v in inside)


def build_index(kg: KnowledgeGraph, settings: KGSettings, summarizer: ModelSummarizer | None = None) -> CommunityIndex:
    """Detect the communities and summarise each (the model for the largest `summary_max_llm` when a
    summarizer is given; extractive for the rest, and for any the model fails on)."""
    g = kg.graph
    out = []
    for i, members in enumerate(detect(kg, settings.community_seed, settings.community_resolution)):
        facts = supported_facts(g, members, settings.summary_facts)
        # Lead with the things, not the values: "About Aurora AX-7, H4" rather than "About 1.3 kg".
        named = [n for n in members if g.nodes[n].get("type") not in _VALUE_TYPES] or members
        summary, by, note = offline_summary(named, len(members), facts), "offline", ""
        if summarizer is not None and i < settings.summary_max_llm and facts:
            try:
                summary, by = summarizer.summarize(members, facts), summarizer.label
            except KGError as e:
                note = f"model summary failed ({str(e)[:200]}); extractive summary used"
                log.warning("community %d of %s: %s", i, settings.collection, note)
        out.append(
            Community(
                id=i,
                entities=members,
                size=len(members),
                fact_count=_fact_count(g, members),
                summary=summary,
                summarizer=by,
                facts=facts,
                note=note,
            )
        )
    return CommunityIndex(
        fingerprint=fingerprint(kg),
        summarizer=summarizer.label if summarizer is not None else "offline",
        seed=settings.community_seed,
        resolution=settings.community_resolution,
        facts_per_summary=settings.summary_facts,
        communities=out,
    )


def sidecar_path(store: GraphStore) -> Path:
    return store.dir / f"{store.collection}.communities.json"


def _read(path: Path, want: dict[str, Any]) -> CommunityIndex | None:
    """The stored index when it was made from this graph with these settings; None otherwise (or unreadable:
    it is only a cache, rebuilt and overwritten)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            return None
        index = CommunityIndex.model_validate(data["index"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, ValidationError) as e:
        log.warning("ignoring the unreadable community cache %s: %s", path, str(e)[:120])
        return None
    have = {k: getattr(index, k) for k in want}
    return index if have == want else None


def community_index(store: GraphStore, kg: KnowledgeGraph | None = None) -> CommunityIndex:
    """The collection's communities with summaries: from the cache beside the graph while the graph and the
    summarizer are unchanged, else computed and cached (once per loaded graph in a process)."""
    settings = store.settings
    kg = kg if kg is not None else store.load(cached=True)
    summarizer = pick_summarizer(settings)
    label = summarizer.label if summarizer is not None else "offline"
    key = ("community-index", label, settings.community_seed, settings.community_resolution, settings.summary_facts)

    def build() -> CommunityIndex:
        path = sidecar_path(store)
        want = {
            "fingerprint": fingerprint(kg),
            "summarizer": label,
            "seed": settings.community_seed,
            "resolution": settings.community_resolution,
            "facts_per_summary": settings.summary_facts,
        }
        cached = _read(path, want)
        if cached is not None:
            return cached
        index = build_index(kg, settings, summarizer)
        if kg.graph.number_of_nodes():
            payload = {"format": FORMAT, "version": VERSION, "index": index.model_dump()}
            atomic_write(path, json.dumps(payload, ensure_ascii=False, separators=(",", ":")), fsync=False)
        return index

    return kg.memo(key, build)
