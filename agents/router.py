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

from serving.embeddings import Embedder, get_embedder

ROUTES: dict[str, list[str]] = {
    "coding": [
        "how do I reverse a linked list in C++",
        "convert this JSON to a TypeScript interface",
        "my Docker build fails with an error, help",
        "write a regular expression that matches email addresses",
        "add type hints to this function",
        "what does this Python snippet print",
        "create a React component with a form",
        "I get a segmentation fault in my C program",
        "write a SQL query to count orders per customer",
        "set up a GitHub Actions workflow for my tests",
        "implement quicksort and test it",
        "git says detached HEAD, how do I fix it",
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
        "what does section 4 of the specification say",
        "in the paper I uploaded, what dataset did they use",
        "check my meeting notes for action items",
        "what is the refund policy in our handbook",
        "find the part of the lease about pets",
        "compare what the two reports I added say about costs",
        "remove that document from my library",
        "what are the key findings of the study in my files",
        "quote the installation instructions from the product manual",
        "does my uploaded policy mention remote work",
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
        "look at this picture and tell me what breed the dog is",
        "read the numbers on this receipt photo",
        "what does the whiteboard in this photo say",
        "extract the table from this scanned invoice image",
        "is there anything wrong in this x-ray image",
        "translate the sign in this photo",
        "describe the UI in this screenshot",
        "what colors are used in this logo image",
        "caption this image",
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
        "which people are linked to both companies",
        "list all relations of the entity Acme Corp",
        "turn this article into subject relation object triples",
        "who are the neighbours of Berlin in the graph",
        "how many hops between Einstein and Bohr",
        "export the entity network",
        "which organisations does Jane Doe work with according to the extracted facts",
        "rebuild the knowledge graph from my sources",
        "what is the most connected node",
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
        "what is the boiling point of water",
        "recommend a good science fiction book",
        "how many days are in a leap year",
        "what does the word ephemeral mean",
        "convert 10 miles to kilometers",
        "who painted the Mona Lisa",
        "write a short poem about autumn",
        "what is the derivative of x squared",
        "good morning!",
        "why is the sky blue",
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
    def __init__(
        self, embedder: Embedder | None = None, routes: dict[str, list[str]] | None = None, top_k: int = 3
    ) -> None:
        self._embedder = embedder
        self.top_k = top_k
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
        per_route: dict[str, list[float]] = {}
        for label, sim in zip(labels, sims, strict=True):
            per_route.setdefault(label, []).append(float(sim))
        scores = {label: float(np.mean(sorted(s)[-self.top_k :])) for label, s in per_route.items()}
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        (best, score), (_, second) = ranked[0], ranked[1]
        return RouteDecision(agent=best, score=score, margin=score - second, scores=scores)


def _normalize(m: np.ndarray) -> np.ndarray:
    return m / np.clip(np.linalg.norm(m, axis=1, keepdims=True), 1e-9, None)
