"""Global questions: answered from community summaries rather than from the entities a question names.

The MS GraphRAG "global search" idea, kept small: score every community summary against the question (BM25
over the summary, the community's entity names and its facts, words cut to six letters: cheap, no model, no
embedder; nothing in `kg` embeds today, and loading the embedder for a few dozen summaries is not worth it),
answer from the best few, and cite the chunks their facts came from. A question that shares no word with any
community ("what is this about?") gets the largest communities: the graph's overview, flagged as such
(`matched_by="size"`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Literal

from pydantic import BaseModel, Field

from kg.community import Community, CommunityIndex
from kg.errors import KGError
from kg.query import Fact
from kg.summary import fact_sentence


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


_STOP = _words(
    "what who whom which where when why how is are was were the a an of in on to and or does do did it its "
    "this that these those there their about tell me give list all any some with by for from as be been being "
    "has have had can could should would will into than then overview summary main topics cover covers "
    "know we you i our graph"
)
_WORD = re.compile(r"[\w][\w.\-/]*\w|\w")


def terms(text: str) -> list[str]:
    """Lowercased content words cut to their first six letters: a crude stemmer that lets "physicists" meet
    "physics" and "discoveries" meet "discovered" (words with digits or symbols — "AX-7", "GB/s" — stay whole)."""
    return [w[:6] if w.isalpha() else w for w in _WORD.findall(text.lower()) if w not in _STOP]


def _document(c: Community) -> list[str]:
    facts = " ".join(f"{f.subject} {f.relation} {f.object}" for f in c.facts)
    return terms(f"{c.summary} {' '.join(c.entities)} {facts}")


def rank_communities(index: CommunityIndex, question: str) -> list[tuple[Community, float]]:
    """Communities by BM25 score against the question (k1=1.2, b=0.75), best first; only those that match."""
    docs = [(c, Counter(_document(c))) for c in index.communities]
    if not docs:
        return []
    avg = sum(sum(tf.values()) for _, tf in docs) / len(docs) or 1.0
    query = set(terms(question))
    df = Counter(t for _, tf in docs for t in query if t in tf)
    n = len(docs)
    scored = []
    for c, tf in docs:
        length = sum(tf.values())
        score = 0.0
        for t in query:
            if t in tf:
                idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
                score += idf * tf[t] * 2.2 / (tf[t] + 1.2 * (0.25 + 0.75 * length / avg))
        if score > 0:
            scored.append((c, round(score, 4)))
    return sorted(scored, key=lambda x: (-x[1], x[0].id))


class Citation(BaseModel):
    """[n] in an answer: one fact and the chunk it was extracted from."""

    n: int
    fact: str
    source_id: str
    chunk_id: str
    evidence: str = ""


class RankedCommunity(BaseModel):
    id: int
    score: float
    size: int
    entities: list[str] = Field(description="the most connected entities (at most 10)")
    summary: str
    summarizer: str
    citations: list[int] = Field(description="the numbers of this summary's citations")


class GlobalAnswer(BaseModel):
    question: str
    matched_by: Literal["words", "size"] = Field(description="'size': nothing matched; the largest communities")
    communities: list[RankedCommunity]
    citations: list[Citation]
    facts: list[Fact] = Field(description="the cited facts, in citation order")
    answer: str = Field(description="the summaries with [n] markers, ready to quote")

    def as_text(self) -> str:
        sources = "\n".join(f"[{c.n}] {c.fact} ({c.source_id} {c.chunk_id})" for c in self.citations)
        return f"{self.answer}\n\nSources:\n{sources}" if sources else self.answer


def global_answer(index: CommunityIndex, question: str, k: int = 3) -> GlobalAnswer:
    """Answer a broad question from the `k` community summaries closest to it, each fact cited."""
    if not question.strip():
        raise KGError("Give a question to answer from the graph's communities.")
    if k < 1:
        raise KGError("k (the number of communities to answer from) must be at least 1.")
    if not index.communities:
        raise KGError("The graph is empty: build it first with `spark-agents graph build --text ...`.")
    ranked = rank_communities(index, question)[:k]
    matched_by: Literal["words", "size"] = "words"
    if not ranked:
        matched_by = "size"
        ranked = [(c, 0.0) for c in index.communities[:k]]  # ids are largest first
    citations: list[Citation] = []
    facts: list[Fact] = []
    numbers: dict[tuple[str, str, str, str], int] = {}
    out, parts = [], []
    for c, score in ranked:
        mine = []
        for f in c.facts:
            key = (f.subject, f.relation, f.object, f.chunk_id)
            if key not in numbers:
                numbers[key] = len(citations) + 1
                citations.append(
                    Citation(
                        n=numbers[key],
                        fact=fact_sentence(f),
                        source_id=f.source_id,
                        chunk_id=f.chunk_id,
                        evidence=f.evidence,
                    )
                )
                facts.append(f)
            mine.append(numbers[key])
        out.append(
            RankedCommunity(
                id=c.id,
                score=score,
                size=c.size,
                entities=c.entities[:10],
                summary=c.summary,
                summarizer=c.summarizer,
                citations=mine,
            )
        )
        marks = "".join(f"[{n}]" for n in mine)
        parts.append(f"{c.summary} {marks}".strip())
    lead = (
        f"From {len(out)} of the graph's {len(index.communities)} communities"
        + (" (none matched the question's words: the largest ones)" if matched_by == "size" else "")
        + ":"
    )
    return GlobalAnswer(
        question=question,
        matched_by=matched_by,
        communities=out,
        citations=citations,
        facts=facts,
        answer=lead + "\n" + "\n".join(f"- {p}" for p in parts),
    )
