"""Sentence spans and chunking: where extraction looks, and how long text is cut before it is extracted."""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+(?=\s|$)|\n|$)")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in `text` (abbreviation-tolerant enough for prose)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"(?<=[.!?])\s+(?=[\"'“(]?\w)|\n\s*\n|\n(?=\s*[-*•])", text):
        before = text[max(start, m.start() - 6) : m.start()]
        if re.search(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Inc|Ltd|Co|vs|e\.g|i\.e|[A-Z])\.$", before):
            continue
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


_LINE_UNIT = re.compile(r"\n(?=[ \t]*(?:\||[^\n|]*\|))")


def _units(text: str) -> list[tuple[int, int]]:
    """Sentences, with table rows (lines holding `|`) as units of their own: a long table is cut between
    rows, never inside one, so each chunk's rows stay whole."""
    out: list[tuple[int, int]] = []
    for a, b in sentences(text):
        start = a
        for m in _LINE_UNIT.finditer(text, a, b):
            if text[start : m.start()].strip():
                out.append((start, m.start()))
            start = m.end()
        if text[start:b].strip():
            out.append((start, b))
    return out


def split_text(text: str, chunk_chars: int) -> list[tuple[int, str]]:
    """Cut text into chunks of about `chunk_chars` at sentence boundaries (and between table rows):
    [(offset, chunk_text)]."""
    chunks: list[tuple[int, str]] = []
    cur_start, cur_end = None, 0
    for a, b in _units(text):
        if cur_start is not None and b - cur_start > chunk_chars:
            chunks.append((cur_start, text[cur_start:cur_end]))
            cur_start = None
        while b - a > chunk_chars:  # one enormous "sentence": hard cut
            chunks.append((a, text[a : a + chunk_chars]))
            a += chunk_chars
        if cur_start is None:
            cur_start = a
        cur_end = b
    if cur_start is not None:
        chunks.append((cur_start, text[cur_start:cur_end]))
    return chunks
