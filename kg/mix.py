"""Mixed retrieval: vector hits plus the graph facts around the entities they and the question name.

The LightRAG idea: passages found by similarity answer "what does the text say", the graph's neighbourhood
answers "what else is known about the things it mentions" — facts stated in other chunks, other documents.
Entities come from three places: the question (`kg.query.match_entities`), the facts the graph extracted
from each hit's own chunk (a graph built from an ingested source shares its chunk ids), and the names the
hit's text mentions. Every piece of evidence keeps its citation; passages are de-duplicated by chunk, facts
by (subject, relation, object).

How an agent would use it (the RAG or KG specialist, after its vector search)::

    hits = library.search(question, k=8)                      # rag: list[Hit]
    mixed = mix_retrieve(GraphStore(collection).load(cached=True), question, hits)
    prompt_context = mixed.as_text()                          # "[n] ..." lines: passages, then facts
    # answer from prompt_context and cite [n]; mixed.evidence[n - 1] says which source and chunk

A graph that knows none of the entities returns the hits alone (`entities` is empty), so mixing never does
worse than vector search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from kg.merge import EntityIndex
from kg.query import Fact, edge_fact, match_entities
from kg.store import KnowledgeGraph
from kg.summary import fact_sentence


class Evidence(BaseModel):
    n: int = Field(description="its number, for [n] citations")
    kind: Literal["chunk", "fact"]
    text: str
    source_id: str
    chunk_id: str
    citation: str
    score: float | None = Field(None, description="the hit's retrieval score (chunks)")
    fact: Fact | None = None


class MixResult(BaseModel):
    question: str
    entities: list[str] = Field(description="graph entities named by the question, then by the hits")
    evidence: list[Evidence] = Field(description="the hits (kind 'chunk'), then the graph facts (kind 'fact')")

    @property
    def chunks(self) -> list[Evidence]:
        return [e for e in self.evidence if e.kind == "chunk"]

    @property
    def facts(self) -> list[Evidence]:
        return [e for e in self.evidence if e.kind == "fact"]

    def as_text(self) -> str:
        lines = [f"[{e.n}] {e.text} ({e.citation})" for e in self.evidence]
        return "\n".join(lines)


def _get(hit: Any, name: str) -> Any:
    return hit.get(name) if isinstance(hit, Mapping) else getattr(hit, name, None)


def _by_chunk(kg: KnowledgeGraph) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    def build() -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
        out: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
        for u, v, d in kg.graph.edges(data=True):
            out.setdefault(str(d.get("chunk_id", "")), []).append((u, v, d))
        return out

    return kg.memo("edges-by-chunk", build)


def mix_retrieve(
    kg: KnowledgeGraph,
    question: str,
    hits: Sequence[Any],
    max_facts: int = 20,
    hit_entities: int = 5,
) -> MixResult:
    """The hits (objects or dicts with text, source_id, chunk_id and optionally citation and score — a
    `rag.models.Hit` fits) followed by up to `max_facts` graph facts about the entities the question and the
    hits name: facts touching a question entity first, then facts stated in a hit's chunk, then the rest of
    the hits' entities' neighbourhoods. `hit_entities`: how many entities each hit contributes at most."""
    idx: EntityIndex = kg.index()
    g = kg.graph
    evidence: list[Evidence] = []
    citation_of: dict[str, str] = {}
    for hit in hits:
        chunk_id = str(_get(hit, "chunk_id") or "")
        if not chunk_id or chunk_id in citation_of:
            continue
        source_id = str(_get(hit, "source_id") or "")
        citation = str(_get(hit, "citation") or f"{source_id} {chunk_id}")
        citation_of[chunk_id] = citation
        score = _get(hit, "score")
        evidence.append(
            Evidence(
                n=len(evidence) + 1,
                kind="chunk",
                text=str(_get(hit, "text") or ""),
                source_id=source_id,
                chunk_id=chunk_id,
                citation=citation,
                score=float(score) if isinstance(score, int | float) else None,
            )
        )

    asked = match_entities(kg, question, idx) if g.number_of_nodes() else []
    entities = list(asked)
    in_hits: set[tuple[str, str, str]] = set()
    for e in evidence:
        named: list[str] = []
        for u, v, d in _by_chunk(kg).get(e.chunk_id, []):  # what the graph extracted from this very chunk
            in_hits.add((u, str(d.get("relation", "")), v))
            named += [u, v]
        named += match_entities(kg, e.text, idx)
        fresh = [n for n in dict.fromkeys(named) if n not in entities]
        entities += sorted(fresh, key=lambda n: (-g.degree(n), n))[:hit_entities]

    ranked: dict[tuple[str, str, str], tuple[tuple[int, int, str], Fact]] = {}
    asked_set = set(asked)
    for node in entities:
        for u, v, d in [*g.out_edges(node, data=True), *g.in_edges(node, data=True)]:
            key = (u, str(d.get("relation", "")), v)
            tier = 0 if (u in asked_set or v in asked_set) else 1 if key in in_hits else 2
            # A fact seen in a hit's chunk cites that chunk; otherwise its first statement by chunk id.
            prefer = 0 if str(d.get("chunk_id", "")) in citation_of else 1
            rank = (tier, prefer, str(d.get("chunk_id", "")))
            if key not in ranked or rank < ranked[key][0]:
                ranked[key] = (rank, edge_fact(u, v, d))
    order = sorted(
        ranked.items(), key=lambda item: (item[1][0][0], -g.degree(item[0][0]) - g.degree(item[0][2]), item[0])
    )
    for _key, (_rank, f) in order[:max_facts]:
        evidence.append(
            Evidence(
                n=len(evidence) + 1,
                kind="fact",
                text=fact_sentence(f),
                source_id=f.source_id,
                chunk_id=f.chunk_id,
                citation=citation_of.get(f.chunk_id, f"{f.source_id} {f.chunk_id}"),
                fact=f,
            )
        )
    return MixResult(question=question, entities=entities, evidence=evidence)
