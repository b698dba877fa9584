"""Entity merging: case, whitespace, articles, aliases, acronyms and near-duplicates fold into one node."""

from __future__ import annotations

from kg.merge import EntityIndex, canonical_key
from kg.model import Triple
from kg.settings import KGSettings
from kg.store import GraphStore, KnowledgeGraph


def _t(s: str, r: str, o: str, chunk: str = "c#0") -> Triple:
    return Triple(subject=s, relation=r, object=o, source_id="src", chunk_id=chunk)


def test_canonical_key_folds_case_whitespace_articles_possessives():
    assert canonical_key("  The  Eiffel\tTower ") == canonical_key("eiffel tower") == "eiffel tower"
    assert canonical_key("Google's") == "google"
    assert canonical_key("ＡＣＭＥ") == "acme"  # NFKC full-width


def test_variants_fold_into_one_node_and_merges_are_recorded():
    kg = KnowledgeGraph()
    report = kg.add_triples(
        [
            _t("International Business Machines", "headquartered in", "Armonk"),
            _t("IBM", "founded in", "Endicott", "c#1"),  # acronym
            _t("international  business machines", "employs", "Alan Smith", "c#2"),  # case + whitespace
            _t("Alan Smith", "born in", "Pittsburg", "c#3"),
            _t("Alan Smith", "lives in", "Pittsburgh", "c#4"),  # near-duplicate spelling
        ],
        KGSettings(),
    )
    g = kg.graph
    assert set(g.nodes) == {"International Business Machines", "Armonk", "Endicott", "Alan Smith", "Pittsburg"}
    reasons = {(m.surface, m.reason) for m in report.merges}
    assert ("IBM", "acronym") in reasons
    assert ("international business machines", "case-whitespace") in reasons
    assert ("Pittsburgh", "near-duplicate") in reasons
    assert "IBM" in g.nodes["International Business Machines"]["aliases"]
    assert len(kg.merges) == len(report.merges) == 3


def test_different_numbers_are_different_entities():
    kg = KnowledgeGraph()
    kg.add_triples(
        [_t("GPT-3 model", "made by", "OpenAI"), _t("GPT-4 model", "made by", "OpenAI", "c#1")], KGSettings()
    )
    assert {"GPT-3 model", "GPT-4 model"} <= set(kg.graph.nodes)


def test_aliases_from_the_store_apply_to_later_builds():
    store = GraphStore("aliases", KGSettings())
    store.add_triples([_t("Alphabet Inc", "owns", "YouTube")])
    store.set_alias("Google parent", "Alphabet Inc")
    report = store.add_triples([_t("Google parent", "based in", "Mountain View", "c#9")])
    assert [(m.surface, m.into, m.reason) for m in report.merges] == [("Google parent", "Alphabet Inc", "alias")]
    kg = store.load()
    assert "Google parent" not in kg.graph and kg.graph.has_edge("Alphabet Inc", "Mountain View")


def test_short_names_are_not_fuzzily_merged():
    idx = EntityIndex()
    idx.resolve("Paris")
    node, record = idx.resolve("Parts")
    assert node == "Parts" and record is None
