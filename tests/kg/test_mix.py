"""Mixed retrieval: vector hits plus graph neighbourhood facts, each with its citation, de-duplicated."""

from __future__ import annotations

from kg.mix import mix_retrieve
from kg.model import Triple
from kg.settings import KGSettings
from kg.store import KnowledgeGraph
from rag.models import Hit
from tests.kg.test_community import two_clusters


def graph() -> KnowledgeGraph:
    kg = KnowledgeGraph()
    kg.add_triples(two_clusters(), KGSettings())
    # A fact from another document, stated in a chunk no hit returns: only the graph knows it.
    kg.add_triples(
        [
            Triple(
                subject="HalOS",
                relation="based on",
                object="Ubuntu",
                source_id="doc:os",
                chunk_id="doc:os#4",
                evidence="HalOS is based on Ubuntu.",
            )
        ],
        KGSettings(),
    )
    return kg


def hit(chunk_id: str, text: str, source_id: str = "doc:device") -> Hit:
    return Hit(
        text=text,
        source_id=source_id,
        chunk_id=chunk_id,
        title="Aurora guide",
        path="/docs/aurora.md",
        score=0.5,
        citation=f"Aurora guide (aurora.md), § {chunk_id}",
    )


def test_both_kinds_of_evidence_with_citations():
    hits = [hit("doc:device#2", "The Aurora AX-7 runs HalOS, tuned for its chip.")]
    r = mix_retrieve(graph(), "What operating system does the Aurora AX-7 run?", hits)
    assert r.entities[0] == "Aurora AX-7" and "HalOS" in r.entities
    assert [e.kind for e in r.chunks] == ["chunk"]
    assert r.chunks[0].citation == "Aurora guide (aurora.md), § doc:device#2"
    facts = {(e.fact.subject, e.fact.relation, e.fact.object): e for e in r.facts if e.fact}
    # The fact stated in the hit's own chunk cites the hit's citation...
    runs = facts[("Aurora AX-7", "runs", "HalOS")]
    assert runs.chunk_id == "doc:device#2" and runs.citation == hits[0].citation
    # ...and the graph adds what no hit said, cited to the chunk it came from.
    ubuntu = facts[("HalOS", "based on", "Ubuntu")]
    assert (
        ubuntu.chunk_id == "doc:os#4"
        and ubuntu.citation == "doc:os doc:os#4"
        and ubuntu.text == ("HalOS based on Ubuntu.")
    )
    assert [e.n for e in r.evidence] == list(range(1, len(r.evidence) + 1))
    assert "[1] The Aurora AX-7 runs HalOS" in r.as_text() and "(doc:os doc:os#4)" in r.as_text()
    # Facts about entities the question names come first.
    assert r.facts[0].fact is not None and "Aurora AX-7" in (r.facts[0].fact.subject, r.facts[0].fact.object)


def test_duplicates_are_dropped_and_dict_hits_work():
    hits = [
        {"text": "Marie Curie married Pierre Curie.", "source_id": "doc:curie", "chunk_id": "doc:curie#1"},
        {"text": "Marie Curie married Pierre Curie.", "source_id": "doc:curie", "chunk_id": "doc:curie#1"},
    ]
    r = mix_retrieve(graph(), "Whom did Marie Curie marry?", hits, max_facts=50)
    assert len(r.chunks) == 1 and r.chunks[0].citation == "doc:curie doc:curie#1"
    triples = [(e.fact.subject, e.fact.relation, e.fact.object) for e in r.facts if e.fact]
    assert len(triples) == len(set(triples)) and ("Marie Curie", "married", "Pierre Curie") in triples
    assert all(e.citation for e in r.evidence)


def test_a_graph_that_knows_nothing_returns_the_hits_alone():
    hits = [hit("doc:x#0", "Bananas are yellow.", "doc:x")]
    r = mix_retrieve(graph(), "Why are bananas yellow?", hits)
    assert r.entities == [] and r.facts == [] and [e.text for e in r.evidence] == ["Bananas are yellow."]
    assert mix_retrieve(KnowledgeGraph(), "anything", hits).evidence[0].chunk_id == "doc:x#0"


def test_entities_from_hits_alone_bring_their_neighbourhood():
    hits = [hit("doc:curie#7", "She discovered polonium with her husband.", "doc:curie")]
    r = mix_retrieve(graph(), "What did she find?", hits, max_facts=50)
    assert "Marie Curie" in r.entities and "Polonium" in r.entities
    assert any(e.fact and e.fact.object == "Nobel Prize in Physics" for e in r.facts)
