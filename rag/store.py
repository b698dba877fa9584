"""The Qdrant store: one collection of chunks (dense + sparse vectors) and one of source records.

Embedded Qdrant (local mode, a folder) by default; a Qdrant server or cluster with
`SPARK_AGENTS_RAG_QDRANT_URL`. Local mode holds a file lock, so one process at a time may open a folder;
inside one process every `Store` on the same folder shares one client.

Atomic ingestion: a source's record is written first with `status: pending`, then its chunks, then the
record again with `status: complete`. Search and listing only see complete sources, and opening the store
removes what a killed ingestion left behind (pending records and their chunks).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rag.errors import RagError, StoreLocked
from rag.settings import RagSettings

log = logging.getLogger(__name__)

DENSE = "dense"
SPARSE = "bm25"
_NS = uuid.UUID("6f1c2b52-38a4-4c64-9b1e-2f0d1b7a9c11")

_shared: dict[str, tuple[Any, int]] = {}  # local path -> (client, users)
_shared_lock = threading.Lock()


def point_id(key: str) -> str:
    return str(uuid.uuid5(_NS, key))


def is_disk_full(error: BaseException) -> bool:
    """True for "no space left on device", whether it comes from the OS or from SQLite."""
    import errno
    import sqlite3

    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(error, sqlite3.OperationalError) and "full" in str(error)


def _open_local(path: Path, wait_s: float = 0.0) -> Any:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return _try_open_local(path)
        except StoreLocked:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def _try_open_local(path: Path) -> Any:
    from qdrant_client import QdrantClient

    key = str(path.resolve())
    with _shared_lock:
        if key in _shared:
            client, users = _shared[key]
            _shared[key] = (client, users + 1)
            return client
        path.mkdir(parents=True, exist_ok=True)
        try:
            client = QdrantClient(path=key)
        except RuntimeError as e:
            if "already accessed" in str(e):
                raise StoreLocked(
                    f"The document store {key} is in use by another process (an MCP server, the UI or another "
                    "command). Stop it, or run a Qdrant server and set SPARK_AGENTS_RAG_QDRANT_URL."
                ) from None
            raise
        tune_local(client)
        _shared[key] = (client, 1)
        return client


@atexit.register
def _close_all() -> None:
    """Release every embedded store at exit (qdrant-client's own finaliser fails during shutdown)."""
    with _shared_lock:
        clients = [c for c, _ in _shared.values()]
        _shared.clear()
    for client in clients:
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            client.close()


def tune_local(client: Any) -> None:
    """Make embedded Qdrant's per-point SQLite commits cheap: WAL journal, synchronous=NORMAL.

    Local mode commits every point on its own, and each commit waits for an fsync (~15 ms here), so
    1,000 chunks took 15 s. With WAL and synchronous=NORMAL a commit is still atomic and survives a
    killed process; only a power cut can lose the last commits (never half a commit). Reaches into
    qdrant-client's local storage; if that changes shape, this does nothing and ingestion is just slower.
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


def _close_local(path: Path) -> None:
    key = str(path.resolve())
    with _shared_lock:
        if key not in _shared:
            return
        client, users = _shared[key]
        if users > 1:
            _shared[key] = (client, users - 1)
            return
        del _shared[key]
    client.close()


class Store:
    def __init__(self, settings: RagSettings, home: Path) -> None:
        self.settings = settings
        self.chunks_name = settings.collection
        self.sources_name = f"{settings.collection}_sources"
        self._local_path: Path | None = None
        if settings.qdrant_url:
            from qdrant_client import QdrantClient

            self.client = QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key, timeout=60)
            self.location = settings.qdrant_url
        else:
            self._local_path = settings.qdrant_path or home / "qdrant"
            self.client = _open_local(self._local_path, settings.lock_wait_s)
            self.location = str(self._local_path)
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._local_path is not None:
            _close_local(self._local_path)
        else:
            self.client.close()

    # --- schema -------------------------------------------------------------------------------------
    def has_chunks_collection(self) -> bool:
        return self.client.collection_exists(self.chunks_name)

    def dense_size(self) -> int | None:
        if not self.has_chunks_collection():
            return None
        info = self.client.get_collection(self.chunks_name)
        vectors = info.config.params.vectors
        return vectors[DENSE].size if isinstance(vectors, dict) else None  # type: ignore[index]

    def ensure(self, dim: int) -> None:
        from qdrant_client import models

        existing = self.dense_size()
        if existing is None:
            self.client.create_collection(
                self.chunks_name,
                vectors_config={DENSE: models.VectorParams(size=dim, distance=models.Distance.COSINE)},
                sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            )
            if self.settings.qdrant_url:  # payload indexes only matter on a server
                self.client.create_payload_index(self.chunks_name, "source_id", models.PayloadSchemaType.KEYWORD)
        elif existing != dim:
            raise RagError(
                f"The document store at {self.location} holds {existing}-dimension vectors but the embedding model "
                f"gives {dim}: use the model it was built with, or a new SPARK_AGENTS_HOME / "
                "SPARK_AGENTS_RAG_COLLECTION, and ingest again."
            )
        if not self.client.collection_exists(self.sources_name):
            self.client.create_collection(self.sources_name, vectors_config={})
        if self._local_path is not None:
            tune_local(self.client)

    # --- source records -----------------------------------------------------------------------------
    def source_records(self) -> list[dict[str, Any]]:
        if not self.client.collection_exists(self.sources_name):
            return []
        out: list[dict[str, Any]] = []
        offset = None
        while True:
            points, offset = self.client.scroll(
                self.sources_name, limit=1000, offset=offset, with_payload=True, with_vectors=False
            )
            out.extend(p.payload or {} for p in points)
            if offset is None:
                return out

    def put_sources(self, records: Sequence[dict[str, Any]]) -> None:
        from qdrant_client import models

        if records:
            self.client.upsert(
                self.sources_name,
                [models.PointStruct(id=point_id(r["id"]), vector={}, payload=r) for r in records],
                wait=True,
            )

    def delete_sources(self, ids: Iterable[str]) -> None:
        """Remove sources: chunks first, then records (a crash in between leaves a record to retry)."""
        from qdrant_client import models

        ids = list(ids)
        if not ids:
            return
        if self.has_chunks_collection():
            self.client.delete(
                self.chunks_name,
                models.Filter(must=[models.FieldCondition(key="source_id", match=models.MatchAny(any=ids))]),
                wait=True,
            )
        self.client.delete(self.sources_name, [point_id(i) for i in ids], wait=True)

    def cleanup(self) -> list[str]:
        """Remove what interrupted ingestions left: pending sources, and older twins of a replaced file."""
        records = self.source_records()
        doomed = [r["id"] for r in records if r.get("status") != "complete"]
        by_path: dict[str, list[dict[str, Any]]] = {}
        for r in records:
            if r.get("status") == "complete":
                by_path.setdefault(r["path"], []).append(r)
        for twins in by_path.values():
            if len(twins) > 1:
                twins.sort(key=lambda r: r["ingested_at"])
                doomed.extend(r["id"] for r in twins[:-1])
        if doomed:
            log.warning("removing %d source(s) left by an interrupted ingestion: %s", len(doomed), ", ".join(doomed))
            try:
                self.delete_sources(doomed)
            except Exception as e:
                if not is_disk_full(e):
                    raise
                # Pending sources are invisible anyway; they are removed once there is space again.
                log.warning("the disk is full: left sources to remove on a later start")
        return doomed

    # --- chunks -------------------------------------------------------------------------------------
    def upsert_chunks(self, points: list[Any], batch: int = 256) -> None:
        for i in range(0, len(points), batch):
            self.client.upsert(self.chunks_name, points[i : i + batch], wait=True)

    def scroll_chunks(self, source_id: str) -> list[dict[str, Any]]:
        from qdrant_client import models

        if not self.has_chunks_collection():
            return []
        flt = models.Filter(must=[models.FieldCondition(key="source_id", match=models.MatchValue(value=source_id))])
        out: list[dict[str, Any]] = []
        offset = None
        while True:
            points, offset = self.client.scroll(
                self.chunks_name, scroll_filter=flt, limit=1000, offset=offset, with_payload=True, with_vectors=False
            )
            out.extend(p.payload or {} for p in points)
            if offset is None:
                break
        out.sort(key=lambda p: p["index"])
        return out

    def hybrid(
        self,
        dense: list[float],
        sparse: tuple[list[int], list[float]],
        limit: int,
        prefetch: int,
        source_ids: list[str] | None,
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> list[Any]:
        """Dense and sparse candidates fused by reciprocal rank fusion (Qdrant's query API)."""
        from qdrant_client import models

        flt = None
        if source_ids:
            flt = models.Filter(must=[models.FieldCondition(key="source_id", match=models.MatchAny(any=source_ids))])
        prefetches = []
        if weights[0] > 0 or weights[1] <= 0:
            prefetches.append(models.Prefetch(query=dense, using=DENSE, filter=flt, limit=prefetch))
        if sparse[0] and weights[1] > 0:
            prefetches.append(
                models.Prefetch(
                    query=models.SparseVector(indices=sparse[0], values=sparse[1]),
                    using=SPARSE,
                    filter=flt,
                    limit=prefetch,
                )
            )
        if not prefetches:  # keyword-only weighting, but the query has no keywords (only stop words)
            prefetches.append(models.Prefetch(query=dense, using=DENSE, filter=flt, limit=prefetch))
        fusion: Any = models.FusionQuery(fusion=models.Fusion.RRF)
        if weights != (1.0, 1.0) and len(prefetches) == 2:
            fusion = models.RrfQuery(rrf=models.Rrf(weights=list(weights)))
        result = self.client.query_points(
            self.chunks_name,
            prefetch=prefetches,
            query=fusion,
            limit=limit,
            with_payload=True,
        )
        return list(result.points)
