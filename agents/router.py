"""A fast semantic router: the local embedding model against per-agent descriptions and examples.

No LLM call: one embedding of the request (a few milliseconds), cosine similarity against each route's
examples, the mean of the `top_k` closest examples per route as its score (one stray example close to the
request, like "what is 2+2" for "a function that adds two numbers", does not decide alone). `confident`
when the best route clears a minimum score and beats the runner-up by a margin.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel

from agents.capabilities import CAPABILITIES
from agents.capabilities import routes as capability_routes
from serving.embeddings import Embedder

log = logging.getLogger(__name__)


class RouteDecision(BaseModel):
    agent: str
    score: float
    margin: float
    scores: dict[str, float]

    def confident(self, min_score: float, min_margin: float) -> bool:
        return self.score >= min_score and self.margin >= min_margin


class SemanticRouter:
    def __init__(
        self, load_embedder: Callable[[], Embedder], routes: dict[str, list[str]] | None = None, top_k: int = 3
    ) -> None:
        self._load_embedder = load_embedder  # called once, on first use (warm-up or the first route)
        self._embedder: Embedder | None = None
        self.top_k = top_k
        self.routes = routes or capability_routes()
        self._matrix: np.ndarray | None = None
        self._labels: list[str] = []
        self._lock = threading.Lock()

    def _prepare(self) -> tuple[np.ndarray, list[str]]:
        with self._lock:
            if self._matrix is None:
                self._embedder = self._embedder or self._load_embedder()
                labels = [agent for agent, examples in self.routes.items() for _ in examples]
                texts = [example for examples in self.routes.values() for example in examples]
                self._matrix = _normalize(np.asarray(self._embedder.embed(texts), dtype=np.float32))
                self._labels = labels
        return self._matrix, self._labels

    def warm(self) -> None:
        """Load the embedding model and encode the examples now (the runtime does it as it starts), so the
        first turn pays one encoding of its message only."""
        try:
            self._prepare()
        except Exception:  # noqa: BLE001 - the first route() raises the same error where it is reported
            log.warning("router warm-up failed", exc_info=True)

    def embedder(self) -> Embedder:
        """The loaded embedding model, for others that compare a request with examples (agents/intent.py)."""
        self._prepare()
        assert self._embedder is not None
        return self._embedder

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
        best_cap = CAPABILITIES.get(ranked[0][0])
        if best_cap and best_cap.takes_images and not names_an_image(text, best_cap.medium):
            ranked = ranked[1:]  # attachments go to it before the router: this message has no image
        (best, score), (_, second) = ranked[0], ranked[1]
        return RouteDecision(agent=best, score=score, margin=score - second, scores=scores)


def _normalize(m: np.ndarray) -> np.ndarray:
    return m / np.clip(np.linalg.norm(m, axis=1, keepdims=True), 1e-9, None)


# Documents first: a factual question the user's documents cover goes to the documents agent whatever the
# examples say ("Which quantization is native to Blackwell tensor cores?" is a coding question to an
# embedding of examples, and a documents question to a user who ingested a spec) — unless the message
# names another agent's medium ("…in the graph", "…in this photo"). A capability with a `probe` checks.
QUESTION_START = re.compile(
    r"^\s*(what|which|who|whom|whose|when|where|why|how|is|are|was|were|does|do|did|can|could|should|"
    r"would|will|has|have|had)\b",
    re.I,
)
CODE_HINTS = re.compile(r"```|\bdef |\bclass |\bimport |Traceback|[{};]\s*$|\w\(.*\)\s*$", re.M)
IMAGE_FILE = re.compile(r"\.(png|jpe?g|gif|webp|bmp|tiff?)\b", re.I)
POINTS_AT = re.compile(r"\b(this|these|attached|above|here)\b", re.I)  # "this floor plan", "the meme here"


def names_medium(agent: str, text: str) -> bool:
    """The message names the medium of `agent`'s capability ("…in the graph", "…in this photo")."""
    cap = CAPABILITIES.get(agent)
    return bool(cap and cap.medium and re.search(cap.medium, text, re.I))


def may_probe(chosen: str, prober: str, text: str) -> bool:
    """Worth `prober`'s probe (a search of the documents) before taking the router's choice."""
    return chosen != prober and is_factual_question(text) and not names_medium(chosen, text)


def names_an_image(text: str, medium: str = "") -> bool:
    """The message could be about an image: it names one (`medium`), a file of one, or points at something shown."""
    return bool(medium and re.search(medium, text, re.I)) or any(p.search(text) for p in (IMAGE_FILE, POINTS_AT))


def is_factual_question(text: str) -> bool:
    """A question asking for facts, not code to write or a program to fix."""
    text = text.strip()
    return bool(text) and (text.endswith("?") or bool(QUESTION_START.match(text))) and not CODE_HINTS.search(text)
