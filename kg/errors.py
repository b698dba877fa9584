"""Knowledge-graph errors: one line each, saying what failed and what to do."""

from __future__ import annotations

from core.errors import SparkAgentsError


class KGError(SparkAgentsError):
    """Base class for knowledge-graph errors."""


class ExtractionError(KGError):
    """Triples could not be extracted (bad model output, input too large); nothing was stored."""


class InvalidTriple(KGError):
    """A triple has an empty or oversized field."""


class UnknownEntity(KGError):
    def __init__(self, name: str, suggestions: list[str] | None = None) -> None:
        self.name, self.suggestions = name, suggestions or []
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"No entity named {name!r} in the graph.{hint} See `spark-agents graph stats`.")


class AmbiguousEntity(KGError):
    """A name that fits several entities equally well; the candidates say which to ask for."""

    def __init__(self, name: str, candidates: list[str]) -> None:
        self.name, self.candidates = name, candidates
        super().__init__(f"{name!r} could be any of: {'; '.join(candidates)}. Ask for one of them by name.")


class NoPath(KGError):
    def __init__(self, a: str, b: str, max_hops: int, shortest: int | None = None) -> None:
        self.a, self.b, self.shortest = a, b, shortest
        if shortest is None:
            why = "they are not connected in this graph."
        else:
            why = f"the shortest connection has {shortest} hops; allow more hops (--max-hops) to see it."
        super().__init__(f"No path between {a!r} and {b!r} within {max_hops} hops: {why}")


class GraphCorrupted(KGError):
    """The graph file on disk cannot be read; it was backed up and is never overwritten silently."""


class SourceUnavailable(KGError):
    """A RAG source cannot be read (the RAG library is missing or the source id is unknown)."""


class UnknownCollection(KGError):
    """No graph was built in the named collection."""
