"""Names people use: variants of one name fold into one entity (with the rule in the merge log), different
things that share a word stay apart, and a query finds an entity by any of its names."""

from __future__ import annotations

import pytest

from kg import query
from kg.build import document_acronyms
from kg.canon import name_definitions
from kg.errors import AmbiguousEntity, UnknownEntity
from kg.markup import strip_markup
from kg.model import Chunk, Triple
from kg.names import strip_qualifier, trim_edges, vendor_split
from kg.settings import KGSettings
from kg.store import KnowledgeGraph


def _graph(*facts: tuple[str, str, str], defined: dict[str, str] | None = None) -> tuple[KnowledgeGraph, dict]:
    triples = [
        Triple(subject=s, relation=r, object=o, source_id="src", chunk_id=f"c#{i}") for i, (s, r, o) in enumerate(facts)
    ]
    kg = KnowledgeGraph()
    report = kg.add_triples(triples, KGSettings(), acronyms=defined)
    return kg, {m.surface: (m.into, m.reason) for m in report.merges}


@pytest.mark.parametrize("first_long", [True, False])
def test_a_vendor_prefix_folds_whichever_name_comes_first(first_long):
    facts = [("NVIDIA DGX Spark", "memory", "128 GB"), ("DGX Spark", "runs", "DGX OS")]
    kg, merges = _graph(*(facts if first_long else facts[::-1]))
    spark = [n for n in kg.graph if "Spark" in n]
    assert len(spark) == 1 and kg.graph.degree(spark[0]) == 2
    folded = "DGX Spark" if first_long else "NVIDIA DGX Spark"
    assert merges[folded] == (spark[0], "vendor-prefix")


def test_a_vendor_known_only_from_the_document_folds_too():
    kg, merges = _graph(
        ("Acme", "makes", "gadgets"), ("Acme Widget Pro", "weight", "1 kg"), ("Widget Pro", "colour", "red")
    )
    assert merges["Widget Pro"] == ("Acme Widget Pro", "vendor-prefix")


def test_products_that_share_a_vendor_or_a_common_word_stay_apart():
    kg, merges = _graph(
        ("NVIDIA Jetson Orin", "made by", "NVIDIA"),
        ("NVIDIA DGX Spark", "made by", "NVIDIA"),
        ("Apple Watch", "made by", "Apple"),
        ("Watch", "is a", "timepiece"),
        ("Golden Gate Bridge", "in", "San Francisco"),
        ("Gate Bridge", "is a", "bridge"),
    )
    for name in ("NVIDIA Jetson Orin", "NVIDIA DGX Spark", "Apple Watch", "Watch", "Golden Gate Bridge", "Gate Bridge"):
        assert name in kg.graph
    assert merges == {}
    assert vendor_split("Apple Watch") is None and vendor_split("NVIDIA Ryzen 9") == ("NVIDIA", "Ryzen 9")


def test_a_trailing_qualifier_folds_and_the_name_keeps_its_brackets():
    kg, merges = _graph(("Foo-70B (two boxes)", "context", "128k tokens"), ("Foo-70B", "made by", "Acme"))
    assert "Foo-70B (two boxes)" in kg.graph and "Foo-70B" not in kg.graph
    assert merges["Foo-70B"] == ("Foo-70B (two boxes)", "qualifier")
    assert query.resolve(kg, "foo-70b") == "Foo-70B (two boxes)"


def test_values_calls_and_inner_brackets_are_not_qualifiers():
    assert strip_qualifier("Foo-70B (two boxes)") == "Foo-70B"
    assert strip_qualifier("150 mm (W)") is None  # a value
    assert strip_qualifier("jpeg_mem_src()") is None  # a call
    assert strip_qualifier("cores (big)") is None  # no name before it
    kg, merges = _graph(("Foo-70B", "made by", "Acme"), ("Foo-80B (two boxes)", "made by", "Acme"))
    assert {"Foo-70B", "Foo-80B (two boxes)"} <= set(kg.graph)


def test_case_punctuation_and_the_article_fold_but_versions_and_suffixes_do_not():
    kg, merges = _graph(
        ("Widget Pro", "colour", "red"),
        ("widget-pro", "size", "small"),
        ("the Widget Pro", "weight", "1 kg"),
        ("libjpeg-turbo", "based on", "libjpeg"),
        ("zstd", "is a", "compressor"),
        ("zstd 1.5.1 -1", "ratio", "2.887"),
    )
    assert merges["widget-pro"] == ("Widget Pro", "punctuation")
    kg2, merges2 = _graph(
        ("Box", "weight", "1.5 kg"), ("Crate", "weight", "15 kg"), ("AX-7", "is a", "case"), ("AX 7", "has", "fan")
    )
    assert {"1.5 kg", "15 kg"} <= set(kg2.graph) and merges2 == {"AX 7": ("AX-7", "punctuation")}
    assert merges["the Widget Pro"] == ("Widget Pro", "article")
    assert {"libjpeg-turbo", "libjpeg", "zstd", "zstd 1.5.1 -1"} <= set(kg.graph)


def test_names_and_acronyms_the_document_defines_fold():
    text = (
        "__Zstandard__, or `zstd` as short version, is a fast lossless compression algorithm. "
        "It has a Neural Processing Unit (NPU)."
    )
    assert name_definitions(text) == {"zstd": "Zstandard"}
    defined = document_acronyms([Chunk(text=text, source_id="s", chunk_id="s#0")])
    assert defined == {"NPU": "Neural Processing Unit", "zstd": "Zstandard"}
    kg, merges = _graph(("zstd", "ratio", "2.9"), ("NPU", "speed", "50 TOPS"), defined=defined)
    assert merges == {"zstd": ("Zstandard", "defined-name"), "NPU": ("Neural Processing Unit", "defined-acronym")}
    assert name_definitions("Paris, or the city, is big.") == {}  # no "as short version": not a name definition


def test_edges_keep_balanced_brackets_and_labels_lose_markdown():
    assert trim_edges("20 cores (10 Cortex-X925 + 10 Cortex-A725)") == "20 cores (10 Cortex-X925 + 10 Cortex-A725)"
    assert trim_edges("(NPU)") == "NPU"
    assert trim_edges("150 mm),") == "150 mm"
    assert trim_edges("(draft") == "draft"
    kg, _ = _graph(("CPU", "_document version_", "20 cores (10 big + 10 little)"))
    (u, v, d), *_ = kg.graph.edges(data=True)
    assert (u, d["relation"], v) == ("CPU", "document version", "20 cores (10 big + 10 little)")
    assert strip_markup("JCS_EXT_RGB") == "JCS_EXT_RGB"


def _products() -> KnowledgeGraph:
    kg, _ = _graph(
        ("Acme Widget Pro", "weight", "1 kg"),
        ("Widget Mini", "weight", "0.5 kg"),
        ("NVIDIA DGX Spark", "memory", "128 GB"),
        ("DGX Spark", "runs", "DGX OS"),
    )
    kg.aliases["the box"] = "NVIDIA DGX Spark"
    return kg


@pytest.mark.parametrize(
    ("asked", "node"),
    [
        ("NVIDIA DGX Spark", "NVIDIA DGX Spark"),  # exact
        ("dgx spark", "NVIDIA DGX Spark"),  # a name it was merged from, any case
        ("the box", "NVIDIA DGX Spark"),  # a user alias
        ("Spark", "NVIDIA DGX Spark"),  # unique partial match
        ("Widget Pro", "Acme Widget Pro"),  # vendor prefix
        ("Mini", "Widget Mini"),
    ],
)
def test_a_query_finds_an_entity_by_any_of_its_names(asked, node):
    kg = _products()
    assert query.resolve(kg, asked) == node
    assert query.neighbours(kg, asked).matched == [node]


def test_an_ambiguous_name_lists_the_candidates_instead_of_failing():
    kg = _products()
    result = query.neighbours(kg, "Widget")
    assert sorted(result.candidates) == sorted(result.matched) == ["Acme Widget Pro", "Widget Mini"]
    assert {f.subject for f in result.facts} == {"Acme Widget Pro", "Widget Mini"}
    assert "ambiguous" in result.as_text() and "Widget Mini" in result.as_text()
    with pytest.raises(AmbiguousEntity, match="Widget Mini"):
        query.paths(kg, "Widget", "DGX OS")


def test_a_name_nothing_holds_is_unknown_and_values_do_not_answer_for_names():
    kg = _products()
    with pytest.raises(UnknownEntity):
        query.resolve(kg, "Gizmo")
    assert sorted(query.partial_matches(kg, "kg")) == ["0.5 kg", "1 kg"]  # whole words: "kg" is in both values
    assert query.partial_matches(kg, "Pro") == ["Acme Widget Pro"]  # not "DGX OS" or "Widget Mini"
    assert query.partial_matches(kg, "the") == []


def test_a_question_names_an_entity_by_a_variant():
    kg = _products()
    assert query.match_entities(kg, "How much memory has the dgx-spark?") == ["NVIDIA DGX Spark"]
