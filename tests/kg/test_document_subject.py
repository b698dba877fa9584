"""The document's subject: what its tables and lists describe when no heading names another entity."""

from __future__ import annotations

from kg.build import text_chunks
from kg.extract import OfflineExtractor, extract_all
from kg.structure import document_subject, parse, with_context

GUIDE = """Widget Pro
==========

The Widget Pro is a small edge server.

Software
--------

### Operating system

| Property | Value |
|---|---|
| Name | WidgetOS 3 |
| Kernel | Linux 6.8 |

### Storage

- Capacity: 2 TB
- Interface: NVMe
"""


def _facts(text: str, chunk_chars: int = 4000) -> set[tuple[str, str, str]]:
    from kg.settings import KGSettings

    chunks = text_chunks(text, "doc", settings=KGSettings(chunk_chars=chunk_chars))
    return {(t.subject, t.relation, t.object) for t in extract_all(chunks, OfflineExtractor(KGSettings()))}


def test_setext_headings_are_headings_and_a_rule_after_a_sentence_is_not():
    kinds = [(b.kind, b.level, b.text) for b in parse(GUIDE) if b.kind == "heading"]
    assert kinds[:2] == [("heading", 1, "Widget Pro"), ("heading", 2, "Software")]
    assert [b.kind for b in parse("This is a sentence.\n---\n")] == ["prose"]


def test_the_subject_is_the_title_entity_else_what_the_opening_sentence_defines():
    assert document_subject(GUIDE) == "Widget Pro"
    assert document_subject("Background\n==========\n\nlibjpeg-turbo is a JPEG image codec.\n") == "libjpeg-turbo"
    zstd = "__Zstandard__, or `zstd` as short version, is a fast lossless compression algorithm.\n"
    assert document_subject(zstd) == "Zstandard"
    assert document_subject("This is a note about nothing in particular.\n") is None
    assert document_subject("Overview\n\nSome text.", title="Acme Gizmo 3 manual") == "Acme Gizmo 3"


def test_tables_and_lists_under_nested_topic_headings_describe_the_document_subject():
    facts = _facts(GUIDE)
    assert {("Widget Pro", "operating system name", "WidgetOS 3"), ("Widget Pro", "storage capacity", "2 TB")} <= facts
    assert {o for s, _r, o in facts if s == "Widget Pro"} >= {"WidgetOS 3", "Linux 6.8", "2 TB", "NVMe"}
    assert not any(s in {"Operating system", "Storage", "Software"} for s, _r, _o in facts)


def test_a_later_chunk_keeps_the_document_subject():
    from kg.settings import KGSettings

    chunks = with_context(text_chunks(GUIDE, "doc", settings=KGSettings(chunk_chars=200)))
    assert len(chunks) >= 2 and "Widget Pro\n===" not in chunks[-1].text  # the lists arrive without the title
    assert all(c.subject == "Widget Pro" for c in chunks)
    facts = _facts(GUIDE, chunk_chars=200)
    assert {o for s, _r, o in facts if s == "Widget Pro"} >= {"WidgetOS 3", "2 TB"}


def test_a_generic_attribute_takes_its_heading_as_context_a_specific_one_does_not():
    from kg.layout import in_context

    assert in_context("Bandwidth", ["Widget Pro", "Memory"]) == "memory bandwidth"
    assert in_context("Memory bandwidth", ["Widget Pro", "Memory"]) == "Memory bandwidth"
    assert in_context("Name", ["Widget Pro", "Hardware specifications"]) == "Name"  # a layout heading
    assert in_context("Name", ["Widget Pro", "H4 system-on-chip"]) == "Name"  # a heading naming a thing
