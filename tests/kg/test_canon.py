"""Canonical entities: markup, instruction verbs and articles go; defined acronyms join their expansion."""

from __future__ import annotations

import json

import pytest

from kg import query
from kg.build import build_graph, text_chunks
from kg.canon import acronym_definitions, canonical_name
from kg.model import Triple
from kg.settings import KGSettings
from kg.store import GraphStore, KnowledgeGraph


def _t(s: str, r: str, o: str, chunk: str = "c#0") -> Triple:
    return Triple(subject=s, relation=r, object=o, source_id="src", chunk_id=chunk)


@pytest.mark.parametrize(
    ("surface", "name", "rule"),
    [
        ("Use DGX Spark", "DGX Spark", "imperative"),
        ("Install the NVIDIA Container Toolkit", "NVIDIA Container Toolkit", "imperative"),
        ("**GB10**", "GB10", "markup"),
        ("[`halcyon/llama-3.1-8b`](https://example.com/m)", "halcyon/llama-3.1-8b", "markup"),
        ("the NPU", "NPU", "article"),
        ("The Hobbit", "The Hobbit", None),  # a capitalised article is part of a title
        ("Use", "Use", None),  # nothing left after the verb: keep the word
        ("DGX Spark", "DGX Spark", None),
    ],
)
def test_canonical_name(surface, name, rule):
    assert canonical_name(surface) == (name, rule)


def test_acronym_definitions_in_both_orders_and_only_when_initials_match():
    text = (
        "Every node has a Neural Processing Unit (NPU). It runs RAG (Retrieval-Augmented Generation) "
        "pipelines. The Quiet Mode (QX) is not an acronym of its words."
    )
    assert acronym_definitions(text) == {"NPU": "Neural Processing Unit", "RAG": "Retrieval-Augmented Generation"}


def test_variants_of_one_name_become_one_node_and_the_merge_log_says_why():
    kg = KnowledgeGraph()
    report = kg.add_triples(
        [
            _t("Use DGX Spark", "runs", "gpt-oss-120b"),
            _t("DGX Spark", "has", "GB10", "c#1"),
            _t("**dgx  spark**", "weighs", "1.2 kg", "c#2"),
        ],
        KGSettings(),
    )
    nodes = set(kg.graph.nodes)
    assert nodes == {"DGX Spark", "gpt-oss-120b", "GB10", "1.2 kg"}
    reasons = {m.surface: m.reason for m in report.merges}
    assert reasons["Use DGX Spark"] == "imperative"
    assert reasons["**dgx spark**"] == "markup, case-whitespace"
    assert kg.merges == [m.model_dump() for m in report.merges]


@pytest.mark.parametrize("acronym_first", [True, False])
def test_a_defined_acronym_and_its_expansion_are_one_node(acronym_first):
    triples = [_t("NPU", "shares memory with", "CPU"), _t("Neural Processing Unit", "part of", "H4", "c#1")]
    kg = KnowledgeGraph()
    kg.add_triples(
        triples if acronym_first else triples[::-1], KGSettings(), acronyms={"NPU": "Neural Processing Unit"}
    )
    assert "NPU" not in kg.graph and kg.graph.degree("Neural Processing Unit") == 2
    assert {"surface": "NPU", "into": "Neural Processing Unit", "reason": "defined-acronym", "score": 1.0} in kg.merges


def test_build_stores_definitions_and_the_merge_log_and_queries_find_the_plain_name():
    text = (
        "# DGX Spark reference\n\nThe DGX Spark includes a Neural Processing Unit (NPU).\n\n"
        "## Getting started\n\nUse DGX Spark with Ubuntu. The NPU was designed by Acme Corp.\n"
    )
    build_graph(text_chunks(text, "doc", settings=KGSettings()), extractor="offline", settings=KGSettings())
    store = GraphStore(None, KGSettings())
    data = json.loads(store.path.read_text())
    assert data["acronyms"] == {"NPU": "Neural Processing Unit"}
    kg = store.load()
    assert query.resolve(kg, "DGX Spark") == "DGX Spark"
    assert query.resolve(kg, "NPU") == "Neural Processing Unit"
    assert "Use DGX Spark" not in kg.graph
    assert kg.graph.has_edge("Neural Processing Unit", "Acme Corp")
