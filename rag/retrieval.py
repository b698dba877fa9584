"""Hybrid retrieval helpers: query checks, fusion inputs and the optional cross-encoder reranker."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag import sparse
from rag.errors import QueryError, RagError
from rag.models import Hit, citation


def check_query(query: str, max_chars: int) -> str:
    """The query, stripped; QueryError when it is empty or too long to be a question."""
    q = (query or "").strip()
    if not q:
        raise QueryError("The query is empty: type a few words or a question to search for.")
    if len(q) > max_chars:
        raise QueryError(
            f"The query is {len(q):,} characters long; the limit is {max_chars:,} "
            "(SPARK_AGENTS_RAG_MAX_QUERY_CHARS). Shorten it to the question itself."
        )
    return q


def sparse_query(query: str) -> tuple[list[int], list[float]]:
    return sparse.query_vector(query)


def to_hit(payload: dict[str, Any], score: float) -> Hit:
    return Hit(
        text=payload["text"],
        source_id=payload["source_id"],
        chunk_id=payload["chunk_id"],
        title=payload["title"],
        path=payload["path"],
        page=payload.get("page"),
        heading=payload.get("heading"),
        score=float(score),
        citation=citation(payload["title"], payload["path"], payload.get("page"), payload.get("heading")),
    )


@lru_cache(maxsize=2)
def _cross_encoder(path: str) -> Any:
    if not Path(path).is_dir():
        raise RagError(f"Reranker model folder not found: {path}. Fix or unset SPARK_AGENTS_RAG_RERANK_MODEL.")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import CrossEncoder

    return CrossEncoder(path, device="cpu")


def rerank(model_path: Path, query: str, hits: list[Hit]) -> list[Hit]:
    """Re-order fused candidates with a cross-encoder (a sentence-transformers model folder on disk)."""
    if not hits:
        return hits
    model = _cross_encoder(str(model_path))
    scores = model.predict([(query, h.text) for h in hits])
    ranked = sorted(zip(hits, scores, strict=True), key=lambda x: float(x[1]), reverse=True)
    return [h.model_copy(update={"score": float(s)}) for h, s in ranked]
