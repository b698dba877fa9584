"""Lists of named things: what a section's subject includes, supports or runs, and appositions' attributes."""

from __future__ import annotations

from kg.build import text_chunks
from kg.extract import OfflineExtractor, extract_all
from kg.lists import list_relation, unit_relation
from kg.settings import KGSettings
from kg.store import KnowledgeGraph

README = """Gizmo
=====

Gizmo is the main package manager for Zorb.

Included tools are:

* **gizmo-get** for retrieval of packages
* **gizmo-cache** for querying packages
* `gizmo-key` to manage keys

Agents
------

- Planner agent (model-B, ~40GB)
- Coder agent (qwen-coder, 18 GB)

#### Not supported

- **Legacy API: Remote mode**<br>
  It was removed. Remote mode is not coming back.
"""


def _facts(text: str) -> set[tuple[str, str, str]]:
    return {
        (t.subject, t.relation, t.object)
        for t in extract_all(text_chunks(text, "doc", settings=KGSettings()), OfflineExtractor(KGSettings()))
    }


def test_named_bullets_belong_to_the_section_subject_by_the_lead_in():
    facts = _facts(README)
    assert {("Gizmo", "includes", n) for n in ("gizmo-get", "gizmo-cache", "gizmo-key")} <= facts
    assert ("Gizmo", "does not support", "Remote mode") in facts
    assert not any(r == "legacy api" for _s, r, _o in facts)  # a bold "A: B" item is no key/value pair


def test_appositions_give_the_things_attributes_and_the_heading_says_what_they_are():
    facts = _facts(README)
    assert {("Planner agent", "uses", "model-B"), ("Planner agent", "memory", "~40GB")} <= facts
    assert {("Coder agent", "uses", "qwen-coder"), ("Coder agent", "memory", "18 GB")} <= facts
    assert ("Gizmo", "has agents", "Planner agent") in facts


def test_relations_from_lead_ins_and_units():
    assert list_relation("Supported platforms:", None) == "supports"
    assert list_relation("", "Fully supported") == "supports"
    assert list_relation("", "Not supported") == "does not support"
    assert list_relation("The following:", "Models") == "has models"
    assert list_relation("", None) == "includes"
    assert unit_relation("273 GB/s") == "bandwidth" and unit_relation("~40GB") == "memory"
    assert unit_relation("model-B") is None


def test_identifiers_one_letter_apart_are_different_entities():
    kg = KnowledgeGraph()
    from kg.model import Triple

    names = ["JCS_EXT_RGB", "JCS_EXT_RGBA", "RGB", "RGBA", "Pittsburg", "Pittsburgh"]
    kg.add_triples(
        [
            Triple(subject=n, relation="is a", object="it", source_id="s", chunk_id=f"c#{i}")
            for i, n in enumerate(names)
        ],
        KGSettings(),
    )
    assert {"JCS_EXT_RGB", "JCS_EXT_RGBA", "RGB", "RGBA", "Pittsburg"} <= set(kg.graph)
    assert "Pittsburgh" not in kg.graph  # a spelling variant of a word still folds


def test_a_lowercase_name_with_a_version_is_a_release_but_a_year_after_a_preposition_is_not():
    facts = _facts("Quux was founded in 2016. `libquux-fast` is based on libquux v6b and needs zlib 1.2.11.")
    assert ("Quux", "founded in", "2016") in facts
    assert ("libquux-fast", "based on", "libquux v6b") in facts
