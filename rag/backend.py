"""What a vector back-end must do for `rag.store.Store`, in the back-end's neutral terms.

Two back-ends implement it: `rag.backend_edge` (Qdrant Edge in-process, the embedded default) and
`rag.backend_client` (qdrant-client: a Qdrant server or cluster, or its local mode). The store keeps two
collections: `chunks` (a dense and a BM25 sparse vector per chunk, filtered by `source_id`) and
`sources` (one record per source, no vectors). Point ids are UUID strings.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

DENSE = "dense"
SPARSE = "bm25"
Collection = Literal["chunks", "sources"]
Sparse = tuple[list[int], list[float]]
_NS = uuid.UUID("6f1c2b52-38a4-4c64-9b1e-2f0d1b7a9c11")


def point_id(key: str) -> str:
    """The point id of a chunk or source record: a UUID derived from its key (same key, same point)."""
    return str(uuid.uuid5(_NS, key))


@dataclass
class ChunkPoint:
    """One chunk to write: its id, dense vector, sparse (indices, values) and payload."""

    id: str
    dense: list[float]
    sparse: Sparse
    payload: dict[str, Any]


@dataclass
class Scored:
    """One ranked chunk from a back-end: its payload and the engine's score (cosine, BM25 or fused)."""

    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


class IndexStatus(BaseModel):
    """Where the vector index stands: shown to users so a slow first search after a big ingestion is explained."""

    backend: str
    state: Literal["ready", "building", "migrating", "unindexed"] = "ready"
    points: int = 0
    indexed_points: int = Field(0, description="points covered by the last finished index build")
    stage: str | None = Field(None, description="what the build is doing now, e.g. 'building HNSW'")
    seconds: float | None = Field(None, description="how long the current build or migration has run")
    message: str | None = None


class Backend(ABC):
    """One open store. Methods are called under the store's lock; a back-end is used by one process."""

    name: str
    location: str

    @abstractmethod
    def dense_size(self) -> int | None:
        """The dense vector size of the chunks collection; None when it does not exist yet."""

    @abstractmethod
    def create_chunks(self, dim: int) -> None: ...

    @abstractmethod
    def upsert(self, collection: Collection, points: list[ChunkPoint]) -> None:
        """Write points (a source record is a point with empty vectors); durable when this returns."""

    @abstractmethod
    def delete_ids(self, collection: Collection, ids: list[str]) -> None: ...

    @abstractmethod
    def delete_sources_chunks(self, source_ids: list[str]) -> None:
        """Remove every chunk whose payload `source_id` is one of these."""

    @abstractmethod
    def payloads(self, collection: Collection, source_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Every payload of a collection (of one source's chunks when `source_id` is given)."""

    @abstractmethod
    def count(self) -> int:
        """How many chunk points are stored."""

    @abstractmethod
    def nearest(
        self, dense: list[float] | None, sparse: Sparse | None, limit: int, source_ids: list[str] | None
    ) -> tuple[list[Scored], list[Scored]]:
        """The dense and the sparse candidates (each `limit` long, best first), in one round trip."""

    @abstractmethod
    def engine_rrf(
        self,
        dense: list[float],
        sparse: Sparse,
        limit: int,
        prefetch: int,
        source_ids: list[str] | None,
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> list[Scored]:
        """Dense and sparse prefetches fused by the engine's reciprocal rank fusion (the former default)."""

    def index_status(self) -> IndexStatus:
        return IndexStatus(backend=self.name, points=self.count())

    def after_write(self) -> None:  # noqa: B027 - optional hook, nothing to do by default
        """Called after each ingestion batch: a back-end may start building its index in the background."""

    @abstractmethod
    def close(self) -> None: ...
