"""A citation's snippet is the part of the chunk that answers, with the lines around it."""

from __future__ import annotations

from pathlib import Path

from rag.passages import ELLIPSIS, quoted

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
