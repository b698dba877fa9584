"""The qdrant-client back-end: a Qdrant server or cluster (`SPARK_AGENTS_RAG_QDRANT_URL`), or local mode.

Local mode (a folder, `SPARK_AGENTS_RAG_BACKEND=client` without a URL) is qdrant-client's pure-Python
engine: it scans every point on each query (~3 s at 100k chunks), so it is kept only as the older
embedded store that `rag.migrate` reads, and as a stand-in for the server code path in tests where no
Qdrant server can run. It holds a file lock, so one process at a time may open a folder.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.backend import DENSE, SPARSE, Backend, ChunkPoint, Collection, Scored, Sparse
from rag.errors import StoreLocked

log = logging.getLogger(__name__)


def open_local_client(path: Path) -> Any:
    """A qdrant-client in local mode on `path`; StoreLocked when another process has it open."""
    from qdrant_client import QdrantClient

    path.mkdir(parents=True, exist_ok=True)
    try:
        client = QdrantClient(path=str(path))
    except RuntimeError as e:
        if "already accessed" in str(e):
            raise StoreLocked(
                f"The document store {path} is in use by another process (an MCP server, the UI or another "
                "command). Stop it, or run a Qdrant server and set SPARK_AGENTS_RAG_QDRANT_URL."
            ) from None
        raise
    tune_local(client)
    return client


def tune_local(client: Any) -> None:
    """Make local mode's per-point SQLite commits cheap: WAL journal, synchronous=NORMAL.

    Local mode commits every point on its own, and each commit waits for an fsync (~15 ms here). With WAL
    and synchronous=NORMAL a commit is still atomic and survives a killed process; only a power cut can
    lose the last commits. Reaches into qdrant-client's local storage; if that changes shape, this does
    nothing and writes are just slower.
    """
    local = getattr(client, "_client", None)
    for collection in getattr(local, "collections", {}).values():
        conn = getattr(getattr(collection, "storage", None), "storage", None)
        if conn is None:
            continue
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        except Exception as e:  # noqa: BLE001 - an optimisation only
            log.debug("could not tune local Qdrant storage: %s", e)


class ClientBackend(Backend):
    name = "qdrant-client"

    def __init__(
        self,
        collection: str,
        *,
        url: str | None = None,
        api_key: str | None = None,
        path: Path | None = None,
        hnsw_ef: int = 2048,
    ) -> None:
        from qdrant_client import QdrantClient

        self.chunks_name, self.sources_name = collection, f"{collection}_sources"
        self.hnsw_ef = hnsw_ef
        self.local = url is None
        if url is not None:
            self.client = QdrantClient(url=url, api_key=api_key, timeout=60)
            self.location = url
            self.name = "qdrant-server"
        else:
            assert path is not None
            self.client = open_local_client(path)
            self.location = str(path)
            self.name = "qdrant-local"

    def _coll(self, collection: Collection) -> str:
        return self.chunks_name if collection == "chunks" else self.sources_name

    def dense_size(self) -> int | None:
        if not self.client.collection_exists(self.chunks_name):
            return None
        vectors = self.client.get_collection(self.chunks_name).config.params.vectors
        return vectors[DENSE].size if isinstance(vectors, dict) else None

    def create_chunks(self, dim: int) -> None:
        from qdrant_client import models

        self.client.create_collection(
            self.chunks_name,
            vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
        if not self.local:  # payload indexes only matter on a server
            self.client.create_payload_index(self.chunks_name, "source_id", models.PayloadSchemaType.KEYWORD)
        self._ensure_sources()
        if self.local:
            tune_local(self.client)

    def _ensure_sources(self) -> None:
        if not self.client.collection_exists(self.sources_name):
            self.client.create_collection(self.sources_name, vectors_config={})
            if self.local:
                tune_local(self.client)

    def upsert(self, collection: Collection, points: list[ChunkPoint]) -> None:
        from qdrant_client import models

        if collection == "sources":
            self._ensure_sources()
        structs = []
        for p in points:
            vector: dict[str, Any] = {}
            if p.dense:
                vector[DENSE] = p.dense
            if p.sparse[0]:
                vector[SPARSE] = models.SparseVector(indices=p.sparse[0], values=p.sparse[1])
            structs.append(models.PointStruct(id=p.id, vector=vector, payload=p.payload))
        self.client.upsert(self._coll(collection), structs, wait=True)

    def delete_ids(self, collection: Collection, ids: list[str]) -> None:
        if ids and self.client.collection_exists(self._coll(collection)):
            self.client.delete(self._coll(collection), list[Any](ids), wait=True)

    def delete_sources_chunks(self, source_ids: list[str]) -> None:
        if source_ids and self.client.collection_exists(self.chunks_name):
            self.client.delete(self.chunks_name, self._filter(source_ids), wait=True)

    @staticmethod
    def _filter(source_ids: list[str] | None) -> Any:
        from qdrant_client import models

        if not source_ids:
            return None
        return models.Filter(must=[models.FieldCondition(key="source_id", match=models.MatchAny(any=source_ids))])

    def payloads(self, collection: Collection, source_id: str | None = None) -> Iterator[dict[str, Any]]:
        name = self._coll(collection)
        if not self.client.collection_exists(name):
            return
        flt = self._filter([source_id]) if source_id else None
        offset = None
        while True:
            points, offset = self.client.scroll(
                name, scroll_filter=flt, limit=1000, offset=offset, with_payload=True, with_vectors=False
            )
            for p in points:
                yield p.payload or {}
            if offset is None:
                return

    def points_with_vectors(self, batch: int = 512) -> Iterator[list[ChunkPoint]]:
        """Every chunk with its vectors, a page at a time (what `rag.migrate` copies)."""
        if not self.client.collection_exists(self.chunks_name):
            return
        offset = None
        while True:
            points, offset = self.client.scroll(
                self.chunks_name, limit=batch, offset=offset, with_payload=True, with_vectors=True
            )
            page = []
            for p in points:
                vec: dict[str, Any] = p.vector if isinstance(p.vector, dict) else {}
                sp = vec.get(SPARSE)
                sparse: Sparse = (list(sp.indices), list(sp.values)) if sp is not None else ([], [])
                page.append(ChunkPoint(str(p.id), list(vec.get(DENSE) or []), sparse, p.payload or {}))
            if page:
                yield page
            if offset is None:
                return

    def count(self) -> int:
        if not self.client.collection_exists(self.chunks_name):
            return 0
        return int(self.client.count(self.chunks_name).count)

    def nearest(
        self, dense: list[float] | None, sparse: Sparse | None, limit: int, source_ids: list[str] | None
    ) -> tuple[list[Scored], list[Scored]]:
        from qdrant_client import models

        flt = self._filter(source_ids)
        params = None if self.local else models.SearchParams(hnsw_ef=self.hnsw_ef)  # local mode scans exactly
        requests, kinds = [], []
        if dense is not None:
            requests.append(
                models.QueryRequest(query=dense, using=DENSE, filter=flt, limit=limit, with_payload=True, params=params)
            )
            kinds.append("dense")
        if sparse is not None and sparse[0]:
            vector = models.SparseVector(indices=sparse[0], values=sparse[1])
            requests.append(models.QueryRequest(query=vector, using=SPARSE, filter=flt, limit=limit, with_payload=True))
            kinds.append("sparse")
        out: dict[str, list[Scored]] = {"dense": [], "sparse": []}
        if requests:
            results = self.client.query_batch_points(self.chunks_name, requests)
            for kind, res in zip(kinds, results, strict=True):
                out[kind] = [Scored(str(p.id), float(p.score), p.payload or {}) for p in res.points]
        return out["dense"], out["sparse"]

    def engine_rrf(
        self,
        dense: list[float],
        sparse: Sparse,
        limit: int,
        prefetch: int,
        source_ids: list[str] | None,
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> list[Scored]:
        from qdrant_client import models

        flt = self._filter(source_ids)
        prefetches = [models.Prefetch(query=dense, using=DENSE, filter=flt, limit=prefetch)]
        if sparse[0]:
            vector = models.SparseVector(indices=sparse[0], values=sparse[1])
            prefetches.append(models.Prefetch(query=vector, using=SPARSE, filter=flt, limit=prefetch))
        fusion: Any = models.FusionQuery(fusion=models.Fusion.RRF)
        if weights != (1.0, 1.0) and len(prefetches) == 2:
            fusion = models.RrfQuery(rrf=models.Rrf(weights=list(weights)))
        result = self.client.query_points(
            self.chunks_name, prefetch=prefetches, query=fusion, limit=limit, with_payload=True
        )
        return [Scored(str(p.id), float(p.score), p.payload or {}) for p in result.points]

    def close(self) -> None:
        self.client.close()
