"""A citation's snippet is the part of the chunk that answers, with the lines around it."""

from __future__ import annotations

from pathlib import Path

from rag.passages import ELLIPSIS, answering, quoted

SPEC = (Path(__file__).resolve().parents[2] / "examples" / "documents" / "dgx-spark.md").read_text()
QUESTION = "What memory bandwidth does the DGX Spark have?"


def test_the_answering_row_is_quoted_with_its_neighbours() -> None:
    chunk = SPEC[: SPEC.index("## Numeric formats")]
    assert "Memory bandwidth" not in chunk[:300]  # the chunk's start, the old snippet, stops before the row
    snippet = quoted(chunk, QUESTION, "DGX Spark at a glance")
    lines = snippet.splitlines()
    at = lines.index("Memory bandwidth: 273 GB/s")
    assert 0 < at < len(lines) - 1  # a line of context on each side
    assert lines[at - 1].startswith("Memory: 128 GB") and lines[at + 1].startswith("Storage")
    assert lines[0].startswith(ELLIPSIS) and lines[-1] == ELLIPSIS  # the chunk goes on both ways
    assert len(snippet) <= 300 + 4


def test_a_chunk_without_the_questions_words_shows_its_start() -> None:
    chunk = "First sentence here. Second sentence follows.\n\nThird one."
    assert quoted(chunk, "bandwidth?").splitlines()[0] == "First sentence here."


def test_a_long_line_is_cut_with_a_marker() -> None:
    chunk = "bandwidth " + "word " * 200
    snippet = quoted(chunk, "bandwidth", limit=100)
    assert len(snippet) == 100 and snippet.endswith(ELLIPSIS)


def sections() -> list[tuple[str, str]]:
    """The spec as a search returns it: one chunk a section, the sentence-first one ranked first."""
    parts = SPEC.split("\n## ")
    hardware = parts[1]
    table, prose = hardware[: hardware.index("\n\nThe CPU")], hardware[hardware.index("The CPU") :]
    chunks = [prose, table, parts[2], parts[3], parts[0]]
    return [(text, "DGX Spark at a glance") for text in chunks]


def test_the_passage_that_answers_leads_and_unrelated_ones_are_left_out() -> None:
    ranked = answering(sections(), QUESTION)
    assert ranked[0] == (1, "Memory bandwidth: 273 GB/s")  # the row, though the search ranked it second
    indices = [i for i, _ in ranked]
    assert 0 in indices  # the sentence on memory bandwidth is relevant too, after the row
    assert 3 not in indices and 4 not in indices  # DGX OS; "Use it to try the documents agent…"
    assert len(set(indices)) == len(indices)


def test_with_no_question_word_every_chunk_shows_in_the_search_order() -> None:
    chunks = sections()
    assert [i for i, _ in answering(chunks, "zebra?")] == list(range(len(chunks)))
