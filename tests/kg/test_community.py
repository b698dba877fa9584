"""Communities: found on a graph with two clear clusters, deterministic, summarised with citations, cached beside
the graph file and recomputed when the graph changes; model summaries through a scripted server, with fallback."""

from __future__ import annotations

import json

import pytest

from kg.community import build_index, community_index, detect, fingerprint, sidecar_path
from kg.model import Triple
from kg.settings import KGSettings
from kg.store import GraphStore, KnowledgeGraph
from kg.summary import ModelSummarizer, fact_sentence, pick_summarizer
from tests.support.scripted_server import Reply, text

DEVICE = [  # one product, its chip, its maker and their towns: densely linked
    ("Aurora AX-7", "processor", "H4", "ENTITY"),
    ("Aurora AX-7", "made by", "Halcyon Systems", "ORG"),
    ("Aurora AX-7", "runs", "HalOS", "WORK"),
    ("Aurora AX-7", "weight", "1.3 kg", "QUANTITY"),
    ("H4", "designed by", "Kestrel Foundry", "ORG"),
    ("Halcyon Systems", "acquired", "Kestrel Foundry", "ORG"),
    ("Kestrel Foundry", "based in", "Tampere", "PLACE"),
    ("Halcyon Systems", "manufactures", "H4", "ENTITY"),
    ("Halcyon Systems", "develops", "HalOS", "WORK"),
    ("HalOS", "optimised for", "H4", "ENTITY"),
    ("Aurora AX-7", "assembled in", "Tampere", "PLACE"),
    ("Kestrel Foundry", "contributes to", "HalOS", "WORK"),
]
CURIES = [  # a family of physicists: densely linked too
    ("Marie Curie", "born in", "Warsaw", "PLACE"),
    ("Marie Curie", "married", "Pierre Curie", "PERSON"),
    ("Pierre Curie", "born in", "Paris", "PLACE"),
    ("Marie Curie", "studied at", "University of Paris", "ORG"),
    ("University of Paris", "located in", "Paris", "PLACE"),
    ("Marie Curie", "won", "Nobel Prize in Physics", "WORK"),
    ("Pierre Curie", "won", "Nobel Prize in Physics", "WORK"),
    ("Marie Curie", "discovered", "Polonium", "CONCEPT"),
    ("Pierre Curie", "discovered", "Polonium", "CONCEPT"),
    ("Marie Curie", "lived in", "Paris", "PLACE"),
    ("Pierre Curie", "taught at", "University of Paris", "ORG"),
    ("Warsaw", "birthplace of", "Pierre Curie", "PERSON"),
]
BRIDGE = [("Halcyon Systems", "sponsors", "Nobel Prize in Physics", "WORK")]  # the one fact between the two


def triples(rows: list[tuple[str, str, str, str]], source: str) -> list[Triple]:
    return [
        Triple(
            subject=s,
            relation=r,
            object=o,
            object_type=t,
            source_id=source,
            chunk_id=f"{source}#{i}",
            span=(0, 20),
            evidence=f"{s} {r} {o}.",
        )
        for i, (s, r, o, t) in enumerate(rows)
    ]


def two_clusters() -> list[Triple]:
    return triples(DEVICE, "doc:device") + triples(CURIES, "doc:curie") + triples(BRIDGE, "doc:towns")


DEVICE_ENTITIES = {n for s, _, o, _ in DEVICE for n in (s, o)}
CURIE_ENTITIES = {n for s, _, o, _ in CURIES for n in (s, o)}


def test_two_clear_clusters_are_two_communities():
    kg = KnowledgeGraph()
    kg.add_triples(two_clusters(), KGSettings())
    groups = detect(kg)
    assert [set(g) for g in groups] in (
        [DEVICE_ENTITIES, CURIE_ENTITIES],
        [CURIE_ENTITIES, DEVICE_ENTITIES],
    )
    assert groups[0][0] in ("Aurora AX-7", "Halcyon Systems", "Marie Curie")  # most connected first

    # The same graph built in another order gives the same communities (and the same fingerprint).
    other = KnowledgeGraph()
    other.add_triples(list(reversed(two_clusters())), KGSettings())
    assert detect(other) == groups and fingerprint(other) == fingerprint(kg)


def test_each_summary_states_its_best_supported_facts_and_cites_them():
    kg = KnowledgeGraph()
    # "Marie Curie won the Nobel Prize in Physics" is stated by a second document: it leads its summary.
    extra = Triple(
        subject="Marie Curie",
        relation="won",
        object="Nobel Prize in Physics",
        source_id="doc:nobel",
        chunk_id="doc:nobel#0",
        evidence="Marie Curie won the Nobel Prize in Physics.",
    )
    kg.add_triples([*two_clusters(), extra], KGSettings())
    index = build_index(kg, KGSettings(summary_facts=4))
    curie = next(c for c in index.communities if "Marie Curie" in c.entities)
    assert curie.summarizer == "offline" and curie.size == len(CURIE_ENTITIES) and curie.fact_count == 13
    assert len(curie.facts) == 4
    first = curie.facts[0]
    assert (first.subject, first.relation, first.object) == ("Marie Curie", "won", "Nobel Prize in Physics")
    assert first.chunk_id == "doc:curie#5" and first.evidence == "Marie Curie won Nobel Prize in Physics."
    assert curie.summary.startswith("About Marie Curie, ")
    assert "Marie Curie won Nobel Prize in Physics." in curie.summary
    for f in curie.facts:  # every fact the summary cites is stated in it, with its chunk kept
        assert fact_sentence(f) in curie.summary and f.chunk_id.startswith("doc:curie#")

    device = next(c for c in index.communities if "Aurora AX-7" in c.entities)
    assert "1.3 kg" not in device.summary.split(":")[0]  # values do not lead the summary


@pytest.mark.parametrize(
    ("relation", "sentence"),
    [
        ("acquired", "Halcyon Systems acquired Kestrel Foundry."),
        ("capital of", "Halcyon Systems is capital of Kestrel Foundry."),
        ("memory bandwidth", "The memory bandwidth of Halcyon Systems is Kestrel Foundry."),
        ("speed", "The speed of Halcyon Systems is Kestrel Foundry."),
    ],
)
def test_fact_sentences_read_as_sentences(relation, sentence):
    from kg.query import Fact

    assert fact_sentence(Fact(subject="Halcyon Systems", relation=relation, object="Kestrel Foundry")) == sentence


def test_the_index_is_cached_beside_the_graph_and_recomputed_when_it_changes():
    store = GraphStore(None, KGSettings())
    store.add_triples(two_clusters())
    first = community_index(store, store.load())
    path = sidecar_path(store)
    stored = json.loads(path.read_text())
    assert stored["index"]["fingerprint"] == first.fingerprint and len(first.communities) == 2
    mtime = path.stat().st_mtime_ns

    again = community_index(store, store.load())  # a fresh load (another process): read from the file
    assert again == first and path.stat().st_mtime_ns == mtime

    store.add_triples(triples([("Python", "created by", "Guido van Rossum", "PERSON")], "doc:py"))
    changed = community_index(store, store.load())
    assert changed.fingerprint != first.fingerprint and len(changed.communities) == 3
    assert json.loads(path.read_text())["index"]["fingerprint"] == changed.fingerprint


def test_a_damaged_cache_is_rebuilt_not_trusted():
    store = GraphStore(None, KGSettings())
    store.add_triples(two_clusters())
    community_index(store, store.load())
    sidecar_path(store).write_text("{not json")
    index = community_index(store, store.load())
    assert len(index.communities) == 2 and json.loads(sidecar_path(store).read_text())["index"]["communities"]


def test_no_model_configured_means_extractive_summaries():
    assert pick_summarizer(KGSettings()) is None  # the local profile with no model server running


def test_the_model_summarises_when_configured_and_the_citations_stay(scripted_roles):
    scripted_roles.handler = lambda req: text("A paragraph the model wrote about these entities.")
    kg = KnowledgeGraph()
    kg.add_triples(two_clusters(), KGSettings())
    summarizer = pick_summarizer(KGSettings())
    assert isinstance(summarizer, ModelSummarizer)
    index = build_index(kg, KGSettings(), summarizer)
    assert index.summarizer == "llm:scripted-model" and index.fallbacks == 0
    for c in index.communities:
        assert c.summary == "A paragraph the model wrote about these entities." and c.summarizer == index.summarizer
        assert c.facts and all(f.chunk_id for f in c.facts)
    assert len(scripted_roles.chat_requests) == 2  # one call per community
    request = scripted_roles.chat_requests[0]
    assert request["model"] == "scripted-model"
    user = request["messages"][-1]["content"]
    first = index.communities[0]
    assert "Facts:\n1. " in user and all(f"{f.subject} | {f.relation} | {f.object}" in user for f in first.facts)


def test_a_failing_model_falls_back_to_the_extractive_summary(scripted_roles):
    scripted_roles.script(Reply(fault="http_500"), Reply(content=""))
    kg = KnowledgeGraph()
    kg.add_triples(two_clusters(), KGSettings())
    index = build_index(kg, KGSettings(), pick_summarizer(KGSettings()))
    assert index.fallbacks == 2
    for c in index.communities:
        assert c.summarizer == "offline" and c.summary.startswith("About ") and "model summary failed" in c.note
