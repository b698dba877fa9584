"""Structure-aware offline extraction: tables, headings, pair lists and definition lists become facts."""

from __future__ import annotations

import re

from kg.build import text_chunks
from kg.extract import OfflineExtractor, extract_all
from kg.model import Chunk
from kg.settings import KGSettings
from kg.structure import heading_subject, parse

SPEC = """# Orbit Z2 system reference

The Orbit Z2 is a small workstation.

## Hardware

| Component | Specification |
|---|---|
| **Memory** | 64 GB LPDDR5X |
| Memory bandwidth | 273 GB/s |
| `Storage` | [4 TB NVMe](https://example.com/ssd) |

## Models

| Model | Quantization | Context |
|---|---|---|
| Gemma 3 27B | Q4_K_M | 128k tokens |
| Phi-4 | MXFP4 | — |

## Software

- **Operating system:** ZOS 2
- Container runtime: Podman 5

## Q9 processor

CPU
: 20 Arm cores

Process node
: 3 nm
"""


def _facts(text: str, **chunk: object) -> set[tuple[str, str, str]]:
    triples = OfflineExtractor(KGSettings()).extract(Chunk(text=text, source_id="s", chunk_id="s#0", **chunk))  # type: ignore[arg-type]
    return {(t.subject, t.relation, t.object) for t in triples}


def test_key_value_table_describes_the_documents_subject_with_units_kept():
    facts = _facts(SPEC)
    assert {
        ("Orbit Z2", "memory", "64 GB LPDDR5X"),
        ("Orbit Z2", "memory bandwidth", "273 GB/s"),
        ("Orbit Z2", "storage", "4 TB NVMe"),
    } <= facts


def test_a_table_of_things_gives_row_facts_and_membership():
    facts = _facts(SPEC)
    assert {
        ("Gemma 3 27B", "quantization", "Q4_K_M"),
        ("Gemma 3 27B", "context", "128k tokens"),
        ("Phi-4", "quantization", "MXFP4"),
        ("Orbit Z2", "has model", "Gemma 3 27B"),
        ("Orbit Z2", "has model", "Phi-4"),
    } <= facts
    assert not any(s == "Phi-4" and r == "context" for s, r, _ in facts)  # an empty cell ("—") is no fact


def test_pairs_and_definitions_describe_the_section_that_names_an_entity():
    facts = _facts(SPEC)
    assert {("Orbit Z2", "operating system", "ZOS 2"), ("Orbit Z2", "container runtime", "Podman 5")} <= facts
    assert {("Q9 processor", "cpu", "20 Arm cores"), ("Q9 processor", "process node", "3 nm")} <= facts


def test_a_heading_scoped_table_takes_the_section_heading_as_subject():
    text = "# Lab inventory\n\n## Kestrel K1 router\n\n| Property | Value |\n|---|---|\n| Ports | 8 |\n| Power | 12 W |"
    facts = _facts(text)
    assert facts == {("Kestrel K1 router", "ports", "8"), ("Kestrel K1 router", "power", "12 W")}


def test_no_markup_reaches_a_label():
    triples = OfflineExtractor(KGSettings()).extract(Chunk(text=SPEC, source_id="s", chunk_id="s#0"))
    assert len(triples) >= 12
    for t in triples:
        for label in (t.subject, t.relation, t.object):
            assert not re.search(r"[|*`<>\[\]]|https?:", label), (label, t)
        a, b = t.span
        assert t.evidence == SPEC[a:b].strip()[:300]


def test_rag_heading_metadata_gives_the_subject_of_a_chunk_without_headings():
    rows = "| Component | Specification |\n|---|---|\n| Weight | 1.2 kg |"
    assert _facts(rows, heading="Orbit Z2 system reference > Hardware") == {("Orbit Z2", "weight", "1.2 kg")}
    assert _facts(rows) == set()  # no heading anywhere: nobody to attach the weight to


def test_docx_tables_without_rule_or_outer_pipes_are_tables():
    text = "## Orbit Z2\n\nComponent | Specification\nMemory | 64 GB\nWeight | 1.2 kg\n"
    assert _facts(text) == {("Orbit Z2", "memory", "64 GB"), ("Orbit Z2", "weight", "1.2 kg")}


def test_a_table_split_over_chunks_keeps_its_header_and_heading():
    rows = "\n".join(f"| Board {i} | {i * 10} W | rev {i} |" for i in range(60))
    text = f"# Fleet\n\n## Boards\n\n| Board | Power | Revision |\n|---|---|---|\n{rows}\n"
    chunks = text_chunks(text, "fleet", settings=KGSettings())
    assert len(chunks) >= 2
    facts = {(t.subject, t.relation, t.object) for t in extract_all(chunks, OfflineExtractor(KGSettings()))}
    assert {(f"Board {i}", "power", f"{i * 10} W") for i in range(60)} <= facts
    assert ("Board 59", "revision", "rev 59") in facts


def test_prose_with_markup_still_yields_sentence_facts_with_true_spans():
    text = "## Notes\n\nThe **Orbit Z2** was designed by [Halcyon Systems](https://example.com).\n"
    triples = OfflineExtractor(KGSettings()).extract(Chunk(text=text, source_id="s", chunk_id="s#0"))
    assert {(t.subject, t.relation, t.object) for t in triples} == {("Orbit Z2", "designed by", "Halcyon Systems")}
    a, b = triples[0].span
    assert "designed by" in text[a:b]


def test_headings_that_name_things_versus_topics():
    assert heading_subject("DGX Spark system reference") == "DGX Spark"
    assert heading_subject("GB10 Superchip") == "GB10 Superchip"
    for topic in ("Hardware specifications", "Supported models", "Getting started", "How the company came to be"):
        assert heading_subject(topic) is None


def test_parse_keeps_prose_with_a_colon_inside_a_paragraph():
    text = "The device has two goals\nand one of them is: speed and low cost.\n"
    assert [b.kind for b in parse(text)] == ["prose"]
