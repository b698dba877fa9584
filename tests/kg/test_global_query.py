"""Global questions answered from community summaries, with citations to the chunks the facts came from."""

from __future__ import annotations

import pytest

from kg.community import build_index, community_index
from kg.errors import KGError
from kg.global_query import global_answer, rank_communities
from kg.settings import KGSettings
from kg.store import GraphStore, KnowledgeGraph
from tests.kg.test_community import CURIE_ENTITIES, DEVICE_ENTITIES, two_clusters


def index():
    kg = KnowledgeGraph()
    kg.add_triples(two_clusters(), KGSettings())
    return build_index(kg, KGSettings())


def test_a_global_question_is_answered_from_the_matching_community_with_citations():
    a = global_answer(index(), "What do we know about the physicists and their discoveries?", k=1)
    assert a.matched_by == "words" and len(a.communities) == 1
    used = a.communities[0]
    assert set(used.entities) <= CURIE_ENTITIES and used.score > 0
    assert "Marie Curie discovered Polonium." in a.answer
    # Every citation is a fact of that summary, pointing at the chunk it was extracted from.
    assert used.citations == [c.n for c in a.citations] == list(range(1, len(a.citations) + 1))
    for c, f in zip(a.citations, a.facts, strict=True):
        assert c.chunk_id == f.chunk_id and c.chunk_id.startswith("doc:curie#") and c.source_id == "doc:curie"
        assert c.evidence == f"{f.subject} {f.relation} {f.object}." and c.fact in used.summary
    assert a.answer.rstrip().endswith("".join(f"[{n}]" for n in used.citations))
    assert "[1] " in a.as_text() and "(doc:curie doc:curie#" in a.as_text()


def test_the_ranking_follows_the_question():
    idx = index()
    device = rank_communities(idx, "Which chips and operating systems does Halcyon make?")
    assert set(device[0][0].entities) <= DEVICE_ENTITIES
    physics = rank_communities(idx, "Nobel prize winners born in Warsaw")
    assert set(physics[0][0].entities) <= CURIE_ENTITIES and all(score < physics[0][1] for _, score in physics[1:])


def test_two_communities_cite_each_fact_once():
    a = global_answer(index(), "Tell me about Halcyon Systems and Marie Curie", k=2)
    assert len(a.communities) == 2
    keys = [(f.subject, f.relation, f.object, f.chunk_id) for f in a.facts]
    assert len(keys) == len(set(keys)) == len(a.citations)
    assert {c.source_id for c in a.citations} == {"doc:device", "doc:curie"}


def test_a_question_matching_nothing_gets_the_largest_communities_flagged():
    a = global_answer(index(), "What is this about?", k=1)
    assert a.matched_by == "size" and a.communities[0].id == 0 and "none matched" in a.answer
    assert a.citations  # still cited


def test_bad_questions_and_empty_graphs_are_clear_errors():
    with pytest.raises(KGError, match="Give a question"):
        global_answer(index(), "  ")
    with pytest.raises(KGError, match="graph is empty"):
        global_answer(build_index(KnowledgeGraph(), KGSettings()), "anything")


def test_through_the_store_with_the_cache():
    store = GraphStore(None, KGSettings())
    store.add_triples(two_clusters())
    a = global_answer(community_index(store), "Where was Pierre Curie born?", k=1)
    assert any(c.fact == "Pierre Curie born in Paris." and c.chunk_id == "doc:curie#2" for c in a.citations)
