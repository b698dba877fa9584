"""Combine the dense and the BM25 candidate lists into one ranking, the same on every back-end.

Methods (`SPARK_AGENTS_RAG_FUSION`):
- `rrf`: weighted reciprocal rank fusion, sum of w / (k + rank). Ignores scores, so a strong keyword
  match and a weak one count the same; with equal weights it made hybrid worse than dense alone.
- `dbsf`: distribution-based score fusion (Qdrant's): each list's scores scaled by mean +/- 3 sigma
  to [0, 1], then a weighted sum.
- `convex`: score-aware: each list min-max scaled to [0, 1], then w_dense * dense + w_sparse * sparse;
  a chunk missing from a list scores 0 there. Min-max stretches a flat list to the full range, so dense
  scores that barely differ (a query the embedding cannot tell apart) still outvote a unique keyword match.
- `cosine`: as `convex`, but the dense half keeps its cosine similarity as is (a fixed scale), so a flat
  dense list adds about the same to every candidate and the keyword half decides; BM25 is min-max scaled.
Weights are `dense_weight` and `sparse_weight`; a weight of 0 turns that half off. `bench rag_quality`
measures each method; the default is the one that measured best there.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Literal

from rag.backend import Scored

Method = Literal["rrf", "dbsf", "convex", "cosine"]


def fuse(
    dense: list[Scored],
    sparse: list[Scored],
    method: Method = "convex",
    weights: tuple[float, float] = (1.0, 1.0),
    rrf_k: int = 60,
) -> list[Scored]:
    """One ranked list, best first; each chunk once, its score the fused score."""
    lists = [(dense, weights[0]), (sparse, weights[1])]
    active = [(hits, w) for hits, w in lists if hits and w > 0]
    if not active:  # keyword-only weighting but the query had no keywords: fall back to whatever there is
        active = [(hits, 1.0) for hits, _ in lists if hits][:1]
    total: dict[str, float] = {}
    first: dict[str, Scored] = {}
    for hits, weight in active:
        scale = _scale(method, is_dense=hits is dense, rrf_k=rrf_k)
        for hit, s in zip(hits, scale(hits), strict=True):
            total[hit.id] = total.get(hit.id, 0.0) + weight * s
            first.setdefault(hit.id, hit)
    ranked = sorted(total, key=lambda i: (-total[i], i))  # ties in a fixed order, whatever the engine's
    return [Scored(i, total[i], first[i].payload) for i in ranked]


def _scale(method: Method, is_dense: bool, rrf_k: int) -> Callable[[list[Scored]], list[float]]:
    if method == "rrf":
        return lambda hits: [1.0 / (rrf_k + rank) for rank in range(1, len(hits) + 1)]
    if method == "dbsf":
        return _dbsf
    if method == "cosine" and is_dense:
        return lambda hits: [min(1.0, max(0.0, h.score)) for h in hits]
    return _minmax


def _minmax(hits: list[Scored]) -> list[float]:
    scores = [h.score for h in hits]
    lo, hi = min(scores), max(scores)
    if hi - lo <= 1e-12:
        return [1.0] * len(scores)
    return [(s - lo) / (hi - lo) for s in scores]


def _dbsf(hits: list[Scored]) -> list[float]:
    scores = [h.score for h in hits]
    if len(scores) < 2:
        return [1.0] * len(scores)
    mean, sd = statistics.fmean(scores), statistics.pstdev(scores)
    if sd <= 1e-12:
        return [1.0] * len(scores)
    lo, hi = mean - 3 * sd, mean + 3 * sd
    return [min(1.0, max(0.0, (s - lo) / (hi - lo))) for s in scores]
