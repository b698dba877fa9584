"""Prose the documents of others write: definitions with asides, attributes, ports, appositions, lowercase
product names, and no facts about the capitalised word that merely opens a sentence."""

from __future__ import annotations

from kg.build import text_chunks
from kg.extract import OfflineExtractor, extract_all
from kg.model import Chunk
from kg.prose import SentenceExtractor
from kg.settings import KGSettings


def _facts(text: str, **chunk: object) -> set[tuple[str, str, str]]:
    if chunk:
        triples = OfflineExtractor(KGSettings()).extract(Chunk(text=text, source_id="s", chunk_id="s#0", **chunk))  # type: ignore[arg-type]
    else:  # as a build reads a document: its subject found, carried to each chunk
        triples = extract_all(text_chunks(text, "s", settings=KGSettings()), OfflineExtractor(KGSettings()))
    return {(t.subject, t.relation, t.object) for t in triples}


def test_a_definition_with_an_aside_and_a_relative_clause():
    facts = _facts("__Zstandard__, or `zstd` as short version, is a fast lossless compression algorithm, targeting it.")
    assert ("Zstandard", "is a", "fast lossless compression algorithm") in facts
    assert not any(s == "zstd" for s, _r, _o in facts)  # the aside names the subject, it is no second subject
    facts = _facts("libjpeg-turbo is a JPEG image codec that uses SIMD instructions to accelerate compression.")
    assert {("libjpeg-turbo", "is a", "JPEG image codec"), ("libjpeg-turbo", "uses", "SIMD instructions")} <= facts


def test_attributes_stated_in_prose():
    facts = _facts("Zflate is a compact codec supported natively by Quartz. Zflate is native to Helix.")
    assert ("Zflate", "is a", "compact codec") in facts
    assert ("Zflate", "supported natively by", "Quartz") in facts
    assert ("Zflate", "native to", "Helix") in facts
    assert not any(" codec " in f" {r} " for _s, r, _o in facts)  # no half sentence as a relation
    facts = _facts("Zstandard is considered safe for production environments.")
    assert ("Zstandard", "considered safe for", "production environments") in facts


def test_ports_with_their_qualifiers_belong_to_whom_it_is():
    facts = _facts("It exposes its dashboard on ports 9000 (web) and 9001 (admin).", subject="Gizmo Hub")
    assert {("Gizmo Hub", "web port", "9000"), ("Gizmo Hub", "admin port", "9001")} <= facts
    assert ("RelayHub", "port", "8080") in _facts("RelayHub listens on port 8080.")


def test_an_apposition_says_what_a_name_is_but_not_a_relation_to_another_name():
    assert ("Valgrind", "is a", "memory debugger") in _facts("Valgrind, a memory debugger, reports leaks.")
    facts = _facts("Canberra, the capital of Australia, was designed by Walter Burley Griffin.")
    assert ("Canberra", "capital of", "Australia") in facts and ("Canberra", "is the", "capital") not in facts


def test_a_capitalised_common_word_opening_a_sentence_is_no_entity():
    text = "Note that you have to invoke CMake first. Add a note to the log. Included tools are: many."
    subjects = {s for s, _r, _o in _facts(text)}
    assert "Note" not in subjects and "Included" not in subjects
    # without the lowercase "note" elsewhere, "Note" may be a name (a product called Note)
    assert ("Note", "runs on", "Android") in {
        (t.subject, t.relation, t.object)
        for t in SentenceExtractor(KGSettings()).extract(
            Chunk(text="Note runs on Android.", source_id="s", chunk_id="s#0")
        )
    }


def test_lowercase_names_the_document_marks_are_mentions():
    text = "The `lzbench` tool ships with zstd. lzbench, an open-source in-memory benchmark by inikep, is fast."
    assert ("lzbench", "is a", "open-source in-memory benchmark") in _facts(text)
    assert not any(s == "lzbench" for s, _r, _o in _facts(text.replace("`lzbench`", "lzbench")))


def test_what_it_is_backed_by_and_what_provides_that():
    facts = _facts("It's backed by a very fast entropy stage, provided by Huff0 and FSE.", subject="Zstandard")
    assert ("Zstandard", "backed by", "very fast entropy stage") in facts
    assert {("very fast entropy stage", "provided by", n) for n in ("Huff0", "FSE")} <= facts


def test_this_project_is_the_document_subject_and_a_handle_is_a_name():
    facts = _facts("`make` is the officially maintained build system of this project.", subject="Zstandard")
    assert ("Zstandard", "officially maintained build system", "make") in facts
    facts = _facts("It uses `lzbench`, an open-source in-memory benchmark by @inikep.", subject="Zstandard")
    assert ("lzbench", "by", "@inikep") in facts


def test_a_readme_names_its_tools_parts_and_defaults_after_its_subject():
    text = (
        "Gizmo\n=====\n\nGizmo is the main package manager for Zorb.\n\n"
        "The libraries libgizmo-core and libgizmo-net are also maintained as part of this project.\n"
        "The default branch is `main`.\n\n"
        "* **gizmo-sort** is a Packages file normalizer\n"
        "* **gizmo-key** manages keys\n"
    )
    facts = _facts(text)
    assert {("Gizmo", "includes", "libgizmo-core"), ("Gizmo", "includes", "libgizmo-net")} <= facts
    assert ("Gizmo", "default branch", "main") in facts
    assert ("gizmo-sort", "is a", "Packages file normalizer") in facts  # each bullet is its own sentence
    assert not any(o.startswith("Packages file normalizer ") for _s, _r, o in facts)


def test_this_opening_a_sentence_is_the_name_before_it():
    facts = _facts("- **libgizmo API**<br>\n  This is the de facto industry-standard API for sorting.", subject="Gizmo")
    assert ("libgizmo API", "is the", "de facto industry-standard API") in facts


def test_the_name_a_hyphenated_subject_is_built_on_is_a_name():
    text = "Background\n==========\n\nlibquux-fast is a codec. libquux-fast is generally faster than libquux."
    facts = _facts(text)
    assert ("libquux-fast", "faster than", "libquux") in {(s, r.replace("generally ", ""), o) for s, r, o in facts}
    assert not any(o == "libquux" for _s, _r, o in _facts(text.replace("libquux-fast", "Quuxer")))


def test_which_name_a_modifier_or_an_apposition_is_about():
    facts = _facts("The Java interface for Quux is written on top of the Widget API.")
    assert ("Java interface", "written on top of", "Widget API") in facts
    assert not any(s == "Quux" for s, _r, _o in facts)
    text = (
        "Background\n==========\n\nlibquux-fast is a codec. libquux-fast was originally based on libquux/SIMD, "
        "an MMX-accelerated derivative of libquux v6b."
    )
    facts = _facts(text)
    assert ("libquux-fast", "based on", "libquux/SIMD") in facts
    assert ("libquux/SIMD", "mmx-accelerated derivative of", "libquux v6b") in {(s, r.lower(), o) for s, r, o in facts}
    assert not any("MMX-accelerated" in (s, o) for s, _r, o in facts)  # an adjective is no entity


def test_the_machine_is_the_document_subject_and_an_apposition_is_no_relation():
    facts = _facts("The machine ships with DGX OS, a Ubuntu-based system with the CUDA toolkit.", subject="DGX Spark")
    assert {("DGX Spark", "ships with", "DGX OS"), ("DGX OS", "is a", "Ubuntu-based system")} <= facts
    assert not any(o == "CUDA" for _s, _r, o in facts)  # "Ubuntu-based system with" is half a sentence
    assert not any(s == "DGX Spark" for s, _r, _o in _facts("The machine-room ships with DGX OS.", subject="DGX Spark"))
