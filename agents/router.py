"""A fast semantic router: the local embedding model against per-agent descriptions and examples.

No LLM call: one embedding of the request (a few milliseconds), cosine similarity against each route's
examples, the best example per route as its score. `confident` when the best route clears a minimum score
and beats the runner-up by a margin.
"""

from __future__ import annotations

import threading

import numpy as np
from pydantic import BaseModel

from serving.embeddings import Embedder, get_embedder

ROUTES: dict[str, list[str]] = {
    "coding": [
        "write a Python function that parses a CSV file",
        "fix this bug in my JavaScript code",
        "why does my program raise a KeyError",
        "refactor this class to use dataclasses",
        "write unit tests with pytest for this module",
        "implement binary search in Rust",
        "run this script and show me the output",
        "what is wrong with this SQL query",
        "write a bash one-liner to find large files",
        "explain this stack trace",
        "generate a Go HTTP server",
        "optimize this loop, it is too slow",
    ],
    "rag": [
        "according to my documents, what is the warranty period",
        "search my notes for the meeting decisions",
        "what does the uploaded report say about revenue",
        "summarize the PDF I ingested",
        "find in my files where the deployment steps are described",
        "which of my sources mentions the budget",
        "cite the section of the manual about safety",
        "what did the contract I added say about termination",
        "list the documents I have ingested",
        "answer from my knowledge base",
        "look up the onboarding guide in my docs",
    ],
    "vision": [
        "what is in this image",
        "describe the attached photo",
        "read the text in this screenshot",
        "what does this diagram show",
        "OCR this scanned page",
        "what error is shown in the screenshot",
        "how many people are in the picture",
        "transcribe the handwriting in the photo",
        "what chart is this and what does it show",
        "identify the objects in this image",
    ],
    "kg": [
        "how is Marie Curie related to Pierre Curie",
        "build a knowledge graph from my documents",
        "extract the entities and relations from this text",
        "show me the graph of people and companies",
        "which entities are most central in the graph",
        "what connects the supplier to the lawsuit",
        "find the path between Alice and the Acme project",
        "who is connected to the CEO in the knowledge graph",
        "visualize the relationships between these organizations",
        "graph statistics: how many nodes and edges",
        "map the relationships between the characters",
    ],
    "general": [
        "hello, how are you",
        "what is 2+2",
        "what is the capital of France",
        "tell me a joke",
        "what is the difference between weather and climate",
        "thank you",
        "who wrote Pride and Prejudice",
        "explain photosynthesis simply",
        "what day comes after Monday",
        "give me a synonym for happy",
        "how far is the moon",
    ],
}


class RouteDecision(BaseModel):
    agent: str
    score: float
    margin: float
    scores: dict[str, float]

    def confident(self, min_score: float, min_margin: float) -> bool:
        return self.score >= min_score and self.margin >= min_margin


class SemanticRouter:
    def __init__(self, embedder: Embedder | None = None, routes: dict[str, list[str]] | None = None) -> None:
        self._embedder = embedder
        self.routes = routes or ROUTES
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
        scores: dict[str, float] = {}
        for label, sim in zip(labels, sims, strict=True):
            scores[label] = max(scores.get(label, -1.0), float(sim))
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        (best, score), (_, second) = ranked[0], ranked[1]
        return RouteDecision(agent=best, score=score, margin=score - second, scores=scores)


def _normalize(m: np.ndarray) -> np.ndarray:
    return m / np.clip(np.linalg.norm(m, axis=1, keepdims=True), 1e-9, None)
