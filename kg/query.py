"""Queries over a knowledge graph: neighbours, paths, the subgraph relevant to a question, stats, centrality.

Every answer is a list of facts with provenance, so an agent can quote where each fact came from.
Paths and neighbourhoods ignore edge direction (a fact links both entities); facts keep their direction.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from typing import Any

import networkx as nx
from pydantic import BaseModel, Field

from kg.errors import AmbiguousEntity, KGError, NoPath, UnknownEntity
from kg.merge import EntityIndex, canonical_key
from kg.store import KnowledgeGraph


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


class Fact(BaseModel):
    subject: str
    relation: str
    object: str
    source_id: str = ""
    chunk_id: str = ""
    span: list[int] = Field(default_factory=lambda: [0, 0])
    evidence: str = ""

    def sentence(self) -> str:
        return f"{self.subject} —{self.relation}→ {self.object}"


class Entity(BaseModel):
    name: str
    type: str = "ENTITY"
    degree: int = 0
    aliases: list[str] = Field(default_factory=list)


class SubgraphResult(BaseModel):
    """Entities and the facts among them (capped at `limit`; `truncated` says when more existed)."""

    matched: list[str] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    truncated: bool = False
    # The name asked for fitted several entities equally well: these are they (also in `matched`), and the
    # facts are theirs; ask again with one of them.
    candidates: list[str] = Field(default_factory=list)

    def as_text(self) -> str:
        lines = [f"- {f.sentence()}  [{f.source_id} {f.chunk_id}]" for f in self.facts]
        if self.candidates:
            lines.insert(0, f"(ambiguous: the name fits {'; '.join(self.candidates)}; facts of each follow)")
        return "\n".join(lines)


class PathResult(BaseModel):
    source: str
    target: str
    paths: list[list[Fact]]


class Stats(BaseModel):
    nodes: int
    edges: int
    relations: int
    components: int
    density: float
    sources: int
    merges: int
    types: dict[str, int]
    top_relations: list[tuple[str, int]]
    central: list[tuple[str, float]]


def edge_fact(u: str, v: str, d: dict[str, Any]) -> Fact:
    """A stored edge as a fact with its provenance."""
    return Fact(
        subject=u,
        relation=d.get("relation", ""),
        object=v,
        source_id=d.get("source_id", ""),
        chunk_id=d.get("chunk_id", ""),
        span=list(d.get("span") or [0, 0]),
        evidence=d.get("evidence", ""),
    )


def _entity(g: nx.MultiDiGraph, n: str) -> Entity:
    d = g.nodes[n]
    return Entity(name=n, type=d.get("type", "ENTITY"), degree=g.degree(n), aliases=list(d.get("aliases", [])))


def resolve(kg: KnowledgeGraph, name: str, index: EntityIndex | None = None) -> str:
    """The node for a user-typed name: exact, then any name it goes by (case, aliases, defined names and
    acronyms, punctuation, qualifier, vendor prefix, near-duplicate spelling), then a unique partial match
    ("Spark" for "DGX Spark"). Several partial matches raise AmbiguousEntity with the candidates; none,
    UnknownEntity with suggestions."""
    if not name or not name.strip():
        raise KGError("Give an entity name to query.")
    if name in kg.graph:
        return name
    idx = index or kg.index()
    node, _reason, _score = idx.lookup(name)
    if node is not None and node in kg.graph:
        return node
    found = partial_matches(kg, name)
    if len(found) == 1:
        return found[0]
    if found:
        raise AmbiguousEntity(name, found[:10])
    keys = list(idx.by_key)
    close = difflib.get_close_matches(canonical_key(name), keys, n=3, cutoff=0.7)
    raise UnknownEntity(name, [idx.by_key[k] for k in close])


def partial_matches(kg: KnowledgeGraph, name: str) -> list[str]:
    """Entities one of whose names holds `name` as whole words ("Spark" in "DGX Spark"), most connected
    first; values (quantities) only when no named entity matches."""
    words = canonical_key(name).split()
    if not words or len(" ".join(words)) < 2 or all(w in _QUESTION_WORDS for w in words):
        return []

    def holds(n: str) -> bool:
        have = canonical_key(n).split()
        return any(have[i : i + len(words)] == words for i in range(len(have) - len(words) + 1))

    g = kg.graph
    hits = [n for n, d in g.nodes(data=True) if any(holds(a) for a in [n, *d.get("aliases", [])])]
    named = [n for n in hits if g.nodes[n].get("type") != "QUANTITY"]
    return sorted(named or hits, key=lambda n: (-g.degree(n), n))


def _facts_among(g: nx.MultiDiGraph, nodes: set[str], limit: int) -> tuple[list[Fact], bool]:
    facts: list[Fact] = []
    for u in nodes:
        for _, v, d in g.out_edges(u, data=True):
            if v in nodes:
                if len(facts) >= limit:
                    return facts, True
                facts.append(edge_fact(u, v, d))
    return facts, False


def _expand(g: nx.MultiDiGraph, seeds: list[str], hops: int, max_nodes: int) -> set[str]:
    """Breadth-first over both directions, highest-degree neighbours first when capped."""
    seen = set(seeds)
    frontier = list(seeds)
    for _ in range(hops):
        nxt: list[str] = []
        for n in frontier:
            nbrs = set(g.successors(n)) | set(g.predecessors(n))
            for m in sorted(nbrs - seen, key=lambda x: -g.degree(x)):
                if len(seen) >= max_nodes:
                    return seen
                seen.add(m)
                nxt.append(m)
        frontier = nxt
    return seen


def neighbours(kg: KnowledgeGraph, entity: str, hops: int = 1, limit: int = 200) -> SubgraphResult:
    """The facts within `hops` of the entity a name resolves to (`resolve`); a name that fits several
    entities gives the neighbourhood of each and lists them as `candidates`."""
    if hops < 1 or hops > 5:
        raise KGError("hops must be between 1 and 5.")
    try:
        seeds, candidates = [resolve(kg, entity)], []
    except AmbiguousEntity as e:
        seeds, candidates = e.candidates, e.candidates
    nodes = _expand(kg.graph, seeds, hops, max_nodes=max(limit, len(seeds) + 1))
    # Facts touching the centre first, then the rest of the neighbourhood.
    g = kg.graph
    direct = [edge_fact(u, v, d) for node in seeds for u, v, d in g.out_edges(node, data=True)]
    direct += [edge_fact(u, v, d) for node in seeds for u, v, d in g.in_edges(node, data=True) if u not in seeds]
    others, truncated = _facts_among(g, nodes - set(seeds), limit)
    facts = (direct + others)[:limit]
    return SubgraphResult(
        matched=seeds,
        entities=[_entity(g, n) for n in sorted(nodes, key=lambda x: -g.degree(x))],
        facts=facts,
        truncated=truncated or len(direct) + len(others) > limit,
        candidates=candidates,
    )


def paths(kg: KnowledgeGraph, source: str, target: str, max_hops: int = 4, limit: int = 3) -> PathResult:
    """The shortest path (ignoring direction), then up to `limit - 1` alternatives that avoid the
    intermediate entities of the paths already found; each path is the facts along it."""
    a, b = resolve(kg, source), resolve(kg, target)
    if a == b:
        raise KGError(f"{source!r} and {target!r} are the same entity ({a!r}).")
    g = kg.graph
    und = kg.undirected()
    node_paths: list[list[str]] = []
    avoid: set[str] = set()
    view = und
    shortest: int | None = None
    while len(node_paths) < limit:
        try:
            p = nx.bidirectional_shortest_path(view, a, b)
        except nx.NetworkXNoPath:
            break
        if len(p) - 1 > max_hops:
            shortest = shortest or len(p) - 1
            break
        node_paths.append(p)
        if len(p) == 2:  # directly linked: no intermediate entity to avoid
            break
        avoid.update(p[1:-1])
        view = nx.restricted_view(und, list(avoid), [])
    if not node_paths:
        raise NoPath(a, b, max_hops, shortest)
    out = []
    for p in node_paths:
        steps = []
        for u, v in zip(p, p[1:], strict=False):
            if g.has_edge(u, v):
                d = next(iter(g.get_edge_data(u, v).values()))
                steps.append(edge_fact(u, v, d))
            else:
                d = next(iter(g.get_edge_data(v, u).values()))
                steps.append(edge_fact(v, u, d))
        out.append(steps)
    return PathResult(source=a, target=b, paths=out)


def match_entities(kg: KnowledgeGraph, question: str, index: EntityIndex | None = None) -> list[str]:
    """Entities named in a question: the longest word n-grams (up to 6 words) that resolve to nodes."""
    idx = index or kg.index()
    words = re.findall(r"[\w][\w'’.\-&]*", question)
    found: list[str] = []
    used = [False] * len(words)
    for n in range(min(6, len(words)), 0, -1):
        for i in range(len(words) - n + 1):
            if any(used[i : i + n]):
                continue
            phrase = " ".join(words[i : i + n])
            key = canonical_key(phrase)
            if len(key) < 2 or (n == 1 and key in _QUESTION_WORDS):
                continue
            node = idx.by_key.get(key)
            if node is None:
                node, _, _ = idx.lookup(phrase, fuzzy=False)
            if node is not None and node in kg.graph and node not in found:
                found.append(node)
                used[i : i + n] = [True] * n
    return found


_QUESTION_WORDS = _words(
    "what who whom which where when why how is are was were the a an of in on to and or does do did "
    "related relation between with by for from it its "
)


def subgraph_for_question(kg: KnowledgeGraph, question: str, hops: int = 1, limit: int = 60) -> SubgraphResult:
    """The facts around the entities a question names; with two or more, the paths between them first."""
    idx = kg.index()
    seeds = match_entities(kg, question, idx)
    if not seeds:
        raise KGError(
            "No entity of the graph is named in the question; ask about an entity the graph knows "
            "(see `spark-agents graph stats`)."
        )
    g = kg.graph
    nodes = _expand(g, seeds, hops, max_nodes=max(limit, len(seeds)))
    path_facts: list[Fact] = []
    for i, a in enumerate(seeds):
        for b in seeds[i + 1 :]:
            try:
                for p in paths(kg, a, b, max_hops=4, limit=1).paths:
                    path_facts.extend(p)
                    nodes.update(f.subject for f in p)
                    nodes.update(f.object for f in p)
            except KGError:
                pass
    rest, truncated = _facts_among(g, nodes, limit)
    facts, keys = [], set()
    for f in path_facts + rest:
        k = (f.subject, f.relation, f.object)
        if k not in keys:
            keys.add(k)
            facts.append(f)
    return SubgraphResult(
        matched=seeds,
        entities=[_entity(g, n) for n in sorted(nodes, key=lambda x: -g.degree(x))],
        facts=facts[:limit],
        truncated=truncated or len(facts) > limit,
    )


def central(kg: KnowledgeGraph, k: int = 10, method: str = "degree") -> list[tuple[str, float]]:
    """The k most central entities: 'degree' (fast, any size) or 'pagerank'."""
    g = kg.graph
    if g.number_of_nodes() == 0:
        return []
    if method == "pagerank":
        scores = nx.pagerank(nx.DiGraph(g), max_iter=100, tol=1e-6)
    elif method == "degree":
        n = max(g.number_of_nodes() - 1, 1)
        scores = {v: d / n for v, d in g.degree()}
    else:
        raise KGError(f"Unknown centrality {method!r}: use 'degree' or 'pagerank'.")
    top = sorted(scores.items(), key=lambda x: (-x[1], x[0]))[:k]
    return [(name, round(score, 6)) for name, score in top]


def stats(kg: KnowledgeGraph, top: int = 10) -> Stats:
    g = kg.graph
    rels = Counter(d.get("relation", "") for _, _, d in g.edges(data=True))
    types = Counter(d.get("type", "ENTITY") for _, d in g.nodes(data=True))
    sources = {d.get("source_id") for _, _, d in g.edges(data=True)}
    return Stats(
        nodes=g.number_of_nodes(),
        edges=g.number_of_edges(),
        relations=len(rels),
        components=nx.number_weakly_connected_components(g) if g.number_of_nodes() else 0,
        density=round(nx.density(g), 6) if g.number_of_nodes() > 1 else 0.0,
        sources=len(sources),
        merges=len(kg.merges),
        types=dict(types.most_common()),
        top_relations=rels.most_common(top),
        central=central(kg, top),
    )
