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


FLOOR = 0.5  # a passage is shown when it answers at least half as well as the best one


def answering(chunks: list[tuple[str, str]], query: str, floor: float = FLOOR) -> list[tuple[int, str]]:
    """The passage of each (text, title) chunk that answers `query` (the piece `quoted` centres on), best
    first, without those below `floor` times the best: (the chunk's index, its passage).

    A passage's worth is the weight of the question words it holds, weighed across all the chunks (a word in
    every passage says little; the documents' title words a quarter); on a tie the denser piece — a table
    row "Memory bandwidth: 273 GB/s" over a sentence that mentions memory bandwidth — then the search's
    order. With no question word anywhere, every chunk's start, in the search's order."""
    pieces = [units(text) or [" ".join(text.split())] for text, _ in chunks]
    best = []
    for i, ((_, title), own) in enumerate(zip(chunks, pieces, strict=True)):
        ranked = scores(own, query, title)
        best.append((i, max(range(len(own)), key=lambda j: (ranked[j], -j)) if any(ranked) else 0))
    pool = [p for own in pieces for p in own]
    titles = " ".join(title for _, title in chunks)
    worth = dict(zip(pool, scores(pool, query, titles), strict=True))
    terms = question_terms(query)

    def density(piece: str) -> float:
        folded = piece.casefold()
        return sum(present(t, folded) for t in terms) / max(len(piece.split()), 1)

    chosen = [(i, pieces[i][j]) for i, j in best]
    top = max((worth[p] for _, p in chosen), default=0.0)
    if top <= 0:
        return chosen
    kept = [(i, p) for i, p in chosen if worth[p] >= floor * top]
    return sorted(kept, key=lambda ip: (-round(worth[ip[1]], 6), -density(ip[1]), ip[0]))
