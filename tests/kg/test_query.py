"""Queries: neighbours (k hops), paths, question subgraphs, stats, centrality; clear errors."""

from __future__ import annotations

import pytest

from kg import query as q
from kg.errors import NoPath, UnknownEntity
from kg.settings import KGSettings


def test_neighbours_one_and_two_hops(built):
    kg = built.load()
    one = q.neighbours(kg, "marie curie")  # resolved case-insensitively
    assert one.matched == ["Marie Curie"]
    names = {e.name for e in one.entities}
    assert {"Warsaw", "Pierre Curie", "University of Paris"} <= names and "Paris" not in names
    assert all(f.source_id == "doc:corpus" for f in one.facts)
    two = q.neighbours(kg, "Marie Curie", hops=2)
    assert "Paris" in {e.name for e in two.entities}  # via Pierre Curie
    assert any(f.subject == "Pierre Curie" and f.object == "Paris" for f in two.facts)


def test_path_between_entities_multi_hop(built):
    p = q.paths(built.load(), "Warsaw", "France")
    chain = [(f.subject, f.relation, f.object) for f in p.paths[0]]
    assert chain == [
        ("Marie Curie", "born in", "Warsaw"),
        ("Marie Curie", "married", "Pierre Curie"),
        ("Pierre Curie", "born in", "Paris"),
        ("Paris", "capital of", "France"),
    ]


def test_no_path_is_a_clear_error(built):
    with pytest.raises(NoPath, match="No path between 'Warsaw' and 'Berlin'"):
        q.paths(built.load(), "Warsaw", "Berlin")


def test_unknown_entity_suggests_close_names(built):
    with pytest.raises(UnknownEntity, match="No entity named 'Marie Curry'.*Did you mean: Marie Curie"):
        q.neighbours(built.load(), "Marie Curry")
    with pytest.raises(UnknownEntity, match="'Atlantis'"):
        q.paths(built.load(), "Atlantis", "Paris")


def test_subgraph_for_question_matches_entities_and_links_them(built):
    r = q.subgraph_for_question(built.load(), "How is Guido van Rossum related to Google and to python?")
    assert set(r.matched) == {"Guido van Rossum", "Google", "Python"}
    facts = {(f.subject, f.relation, f.object) for f in r.facts}
    assert ("Python", "created by", "Guido van Rossum") in facts
    assert ("Guido van Rossum", "worked at", "Google") in facts
    assert "Marie Curie" not in {e.name for e in r.entities}
    assert "created by" in r.as_text()


def test_question_naming_no_entity(built):
    with pytest.raises(Exception, match="No entity of the graph is named"):
        q.subgraph_for_question(built.load(), "what is the meaning of life?")


def test_stats_and_central(built):
    s = q.stats(built.load())
    assert s.nodes > 10 and s.edges >= 10 and s.sources == 1 and s.components >= 3
    assert s.types["PLACE"] >= 3 and s.types["PERSON"] >= 2
    assert dict(s.top_relations)["born in"] == 2
    top = [name for name, _ in q.central(built.load(), 3)]
    assert top[0] in {"Marie Curie", "Paris"}
    assert [n for n, _ in q.central(built.load(), 3, method="pagerank")]


def test_path_longer_than_max_hops_says_so(built):
    with pytest.raises(NoPath, match="shortest connection has 4 hops; allow more hops"):
        q.paths(built.load(), "Warsaw", "France", max_hops=3)


def test_alternative_paths_avoid_the_first_ones():
    from kg.model import Triple
    from kg.store import KnowledgeGraph

    kg = KnowledgeGraph()
    kg.add_triples(
        [
            Triple(subject=s, relation="r", object=o, source_id="s", chunk_id=f"c{i}")
            for i, (s, o) in enumerate([("A1", "B1"), ("B1", "C1"), ("A1", "D1"), ("D1", "E1"), ("E1", "C1")])
        ],
        KGSettings(),
    )
    p = q.paths(kg, "A1", "C1")
    assert [[f.subject for f in path] for path in p.paths] == [["A1", "B1"], ["A1", "D1", "E1"]]
