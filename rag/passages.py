"""Which part of a chunk answers a question: the line with the most of its words, for the answer a small
model cannot write (agents/render.py) and for the snippet every citation shows (the UI, `ask`, `search`,
the API) — a chunk's first 300 characters can stop inside a table before the row that was quoted."""

from __future__ import annotations

import math
import re

from rag.terms import present, question_terms

ELLIPSIS = "…"


def units(text: str) -> list[str]:
    """A chunk as readable pieces: each table row ("Memory bandwidth: 273 GB/s"), each prose sentence."""
    out: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        if prose:
            out.extend(s for s in re.split(r"(?<=[.!?])\s+", " ".join(prose)) if s)
            prose.clear()

    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|"):
            flush()
            cells = [c.strip() for c in line.strip("|").split("|")]
            if any(c.strip("-: ") for c in cells):  # not the |---|---| rule
                out.append(": ".join(cells) if len(cells) == 2 else " · ".join(cells))
        elif line.startswith("#") or not line:  # headings are in the citation already
            flush()
        else:
            prose.append(line)
    flush()
    return out


def scores(pieces: list[str], query: str, title: str = "") -> list[float]:
    """How well each piece answers `query`: its question words, each weighted by how rare it is among the
    pieces (a word in every line, "Spark" in a Spark spec, says less than "bandwidth"); words of the
    document's title name its topic, not what is asked about it, and count a quarter."""
    folded = [p.casefold() for p in pieces]
    found = {t: [present(t, p) for p in folded] for t in question_terms(query)}
    weight = {
        t: math.log(1 + len(pieces) / (1 + sum(hits))) * (0.25 if present(t, title.casefold()) else 1.0)
        for t, hits in found.items()
    }
    return [sum(weight[t] for t, hits in found.items() if hits[i]) for i in range(len(pieces))]


def best_passage(text: str, query: str, title: str = "", limit: int = 300) -> str:
    """The pieces of a chunk that contain most of the question's words (in document order), so the line
    that answers leads instead of whatever the chunk starts with."""
    pieces = units(text)
    scored = [(s, i) for i, s in enumerate(scores(pieces, query, title))]
    best = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))[:2]
    if not best:
        return " ".join(text.split())[:limit]
    best = [s for s in best if s[0] >= best[0][0] / 2]  # a second piece only when it is nearly as good
    return " … ".join(pieces[i] for _, i in sorted(best, key=lambda s: s[1]))[:limit]


def quoted(text: str, query: str, title: str = "", limit: int = 300) -> str:
    """A citation's snippet: the piece that answers `query` with the pieces around it, one a line, an
    ellipsis where the chunk goes on; the chunk's start when no piece has a question word."""
    pieces = units(text) or [" ".join(text.split())]
    ranked = scores(pieces, query, title)
    best = max(range(len(pieces)), key=lambda i: (ranked[i], -i)) if any(ranked) else 0
    lo, hi, size = best, best + 1, len(pieces[best])
    grew = True
    while grew:  # the neighbours, one each side at a time, while they fit
        grew = False
        for i in (lo - 1, hi):
            if 0 <= i < len(pieces) and size + len(pieces[i]) + 1 <= limit:
                lo, hi, size, grew = min(lo, i), max(hi, i + 1), size + len(pieces[i]) + 1, True
    body = "\n".join(pieces[lo:hi])
    if len(body) > limit:
        body = body[: limit - 1].rstrip() + ELLIPSIS
    return (ELLIPSIS + " " if lo > 0 else "") + body + ("\n" + ELLIPSIS if hi < len(pieces) else "")
