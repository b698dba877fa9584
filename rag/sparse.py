"""BM25-style sparse vectors computed here, offline: hashed stemmed terms with BM25 term-frequency weights.

Qdrant multiplies each document weight by the term's IDF (the collection's sparse vector uses
`Modifier.IDF`), so a dot product with a query vector of ones gives the BM25 score. Document length
normalisation uses a fixed average length, since chunks are all about the same size.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from functools import lru_cache

K1 = 1.2
B = 0.75
AVG_LEN = 120.0  # tokens per chunk after stop words, about what rag.chunking produces

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
    off on once only or other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours yourself yourselves""".split()  # noqa: SIM905
)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    from nltk.stem.snowball import EnglishStemmer  # pure Python, no data download

    return EnglishStemmer()


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stem(word) if word.isascii() else word


def tokens(text: str) -> list[str]:
    """Lower-cased, stemmed words without stop words (numbers and identifiers are kept whole)."""
    out = []
    for m in _WORD.finditer(text.lower()):
        word = m.group(0).replace("’", "'")
        if word in STOPWORDS or len(word) > 40:
            continue
        out.append(_stem(word))
    return out


def term_id(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


def document_vector(text: str) -> tuple[list[int], list[float]]:
    """Sparse (indices, values) for a chunk: BM25 term-frequency saturation with length normalisation."""
    counts = Counter(term_id(t) for t in tokens(text))
    length = sum(counts.values())
    norm = K1 * (1 - B + B * length / AVG_LEN)
    indices = sorted(counts)
    return indices, [counts[i] * (K1 + 1) / (counts[i] + norm) for i in indices]


def query_vector(text: str) -> tuple[list[int], list[float]]:
    """Sparse (indices, values) for a query: each distinct term once, weight 1 (IDF is applied by Qdrant)."""
    indices = sorted({term_id(t) for t in tokens(text)})
    return indices, [1.0] * len(indices)
