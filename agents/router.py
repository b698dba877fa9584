"""A fast semantic router: the local embedding model against per-agent descriptions and examples.

No LLM call: one embedding of the request (a few milliseconds), cosine similarity against each route's
examples, the mean of the `top_k` closest examples per route as its score (one stray example close to the
request, like "what is 2+2" for "a function that adds two numbers", does not decide alone). `confident`
when the best route clears a minimum score and beats the runner-up by a margin.
"""

from __future__ import annotations

import threading

import numpy as np
from pydantic import BaseModel

from agents.capabilities import routes as capability_routes
from serving.embeddings import Embedder, get_embedder


class RouteDecision(BaseModel):
    agent: str
    score: float
    margin: float
    scores: dict[str, float]

    def confident(self, min_score: float, min_margin: float) -> bool:
        return self.score >= min_score and self.margin >= min_margin


class SemanticRouter:
    def __init__(
        self, embedder: Embedder | None = None, routes: dict[str, list[str]] | None = None, top_k: int = 3
    ) -> None:
        self._embedder = embedder
        self.top_k = top_k
        self.routes = routes or capability_routes()
        self._matrix: np.ndarray | None = None
        self._labels: list[str] = []
        self._lock = threading.Lock()

    def _prepare(self) -> tuple[np.ndarray, list[str]]:
        with self._lock:
            if self._matrix is None:
                self._embedder = self._embedder or get_embedder()
                labels = [agent for agent, examples in self.routes.items() for _ in examples]
                texts = [example for examples in self.routes.values() for example in examples]
                self._matrix = _normalize(np.asarray(self._embedder.embed(texts), dtype=np.float32))
                self._labels = labels
        return self._matrix, self._labels

    def route(self, text: str) -> RouteDecision:
        matrix, labels = self._prepare()
        assert self._embedder is not None
        query = _normalize(np.asarray(self._embedder.embed([text[:2000]]), dtype=np.float32))[0]
        sims = matrix @ query
        per_route: dict[str, list[float]] = {}
        for label, sim in zip(labels, sims, strict=True):
            per_route.setdefault(label, []).append(float(sim))
        scores = {label: float(np.mean(sorted(s)[-self.top_k :])) for label, s in per_route.items()}
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        (best, score), (_, second) = ranked[0], ranked[1]
        return RouteDecision(agent=best, score=score, margin=score - second, scores=scores)


def _normalize(m: np.ndarray) -> np.ndarray:
    return m / np.clip(np.linalg.norm(m, axis=1, keepdims=True), 1e-9, None)
