"""The content words of a question, and whether a text contains them: shared by the router (do the
documents cover this question?) and the renderer (which lines of a chunk answer it?)."""

from __future__ import annotations

import re

_STOPWORDS = (
    "what which who whom whose when where why how is are was were does do did can could should would will "
    "has have had the a an of to in on for and or with by from at as about into over under than then this "
    "that these those it its there their they them you your my me our we us be been being much many any "
    "some all most more less also not no yes tell say says said give know please according between called use "
    "used uses using come comes make makes get gets way kind"
)
STOPWORDS = frozenset(_STOPWORDS.split())


def question_terms(text: str) -> list[str]:
    """Distinct lower-case content words (three letters or more, stop words left out), in order."""
    words = re.findall(r"[a-z0-9][a-z0-9.+-]*[a-z0-9]|[a-z]", text.casefold())
    return list(dict.fromkeys(w for w in words if len(w) >= 3 and w not in STOPWORDS))


def present(term: str, text: str) -> bool:
    """`term` starts a word of the (case-folded) `text`; a word of six letters or more counts by its first
    five, so "quantization" finds "quantized" and "servers" finds "served"."""
    stem = term[:5] if len(term) >= 6 and term.isalpha() else term
    return re.search(rf"(?<![a-z0-9]){re.escape(stem)}", text) is not None
