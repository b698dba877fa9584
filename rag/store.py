"""The store: chunks (dense + sparse vectors) and source records, over one of two vector back-ends.

- Qdrant Edge in-process (`rag.backend_edge`), the embedded default, under `<home>/edge/<collection>`:
  HNSW, sparse vectors with IDF, payload filters, the index built in the background.
- qdrant-client (`rag.backend_client`) for `SPARK_AGENTS_RAG_QDRANT_URL` (a server or cluster), or its
  local mode with `SPARK_AGENTS_RAG_BACKEND=client` (the older embedded store).

An embedded store is opened by one process at a time (a file lock); inside one process every `Store` on
the same folder shares one back-end. A collection in the older local-mode folder is migrated to Edge the
first time Edge opens without one (`rag.migrate`).

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
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from rag.backend import DENSE, SPARSE, Backend, ChunkPoint, IndexStatus, Scored, Sparse, point_id
from rag.errors import RagError, StoreLocked
from rag.settings import RagSettings

log = logging.getLogger(__name__)

__all__ = ["DENSE", "SPARSE", "ChunkPoint", "Scored", "Store", "is_disk_full", "point_id"]

_shared: dict[tuple[str, str], tuple[Backend, int]] = {}  # (kind, folder) -> (back-end, users)
_shared_lock = threading.Lock()


def is_disk_full(error: BaseException) -> bool:
    """True for "no space left on device", whether it comes from the OS, SQLite or Qdrant Edge."""
    import errno
    import sqlite3

    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if isinstance(error, sqlite3.OperationalError) and "full" in str(error):
        return True
    text = str(error).lower()
    return "no space left" in text or "disk quota" in text


def backend_kind(settings: RagSettings) -> str:
    """`edge`, `local` (qdrant-client local mode) or `server`, from the settings."""
    if settings.qdrant_url:
        return "server"
    return "local" if settings.backend == "client" else "edge"


def _open_shared(settings: RagSettings, home: Path) -> tuple[Backend, tuple[str, str] | None]:
    kind = backend_kind(settings)
    if kind == "server":
        from rag.backend_client import ClientBackend

        server: Backend = ClientBackend(
            settings.collection, url=settings.qdrant_url, api_key=settings.qdrant_api_key, hnsw_ef=settings.hnsw_ef
        )
        return server, None
    legacy = settings.qdrant_path or home / "qdrant"
    folder = legacy if kind == "local" else (settings.edge_path or home / "edge") / settings.collection
    key = (kind, str(folder.resolve()))
    deadline = time.monotonic() + settings.lock_wait_s
    while True:
        with _shared_lock:
            if key in _shared:
                backend, users = _shared[key]
                _shared[key] = (backend, users + 1)
                return backend, key
            try:
                backend = _open_embedded(kind, folder, legacy, settings)
            except StoreLocked:
                if time.monotonic() >= deadline:
                    raise
            else:
                _shared[key] = (backend, 1)
                return backend, key
        time.sleep(0.1)


def _open_embedded(kind: str, folder: Path, legacy: Path, settings: RagSettings) -> Backend:
    if kind == "local":
        from rag.backend_client import ClientBackend

        return ClientBackend(settings.collection, path=folder, hnsw_ef=settings.hnsw_ef)
    from rag.backend_edge import EdgeBackend
    from rag.migrate import legacy_exists, migrate

    if not folder.exists() and legacy_exists(legacy, settings.collection):
        migrate(legacy, folder, settings.collection, indexing_threshold_kb=settings.indexing_threshold_kb)
    return EdgeBackend(
        folder,
        hnsw_ef=settings.hnsw_ef,
        indexing_threshold_kb=settings.indexing_threshold_kb,
        background_index=settings.background_index,
        min_free_mb=settings.min_free_mb,
    )


def _release(key: tuple[str, str] | None, backend: Backend) -> None:
    if key is None:
        backend.close()
        return
    with _shared_lock:
        if key not in _shared:
            return
        shared, users = _shared[key]
        if users > 1:
            _shared[key] = (shared, users - 1)
            return
        del _shared[key]
    backend.close()


@atexit.register
def _close_all() -> None:
    """Release every embedded store at exit (stop a running index build, flush, drop the file locks)."""
    with _shared_lock:
        backends = [b for b, _ in _shared.values()]
        _shared.clear()
    for backend in backends:
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            backend.close()


class Store:
    def __init__(self, settings: RagSettings, home: Path) -> None:
        self.settings = settings
        self.backend, self._key = _open_shared(settings, home)
        self.location = self.backend.location
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        _release(self._key, self.backend)

    # --- schema -------------------------------------------------------------------------------------
    def has_chunks_collection(self) -> bool:
        return self.backend.dense_size() is not None

    def dense_size(self) -> int | None:
        return self.backend.dense_size()

    def ensure(self, dim: int) -> None:
        existing = self.backend.dense_size()
        if existing is None:
            self.backend.create_chunks(dim)
        elif existing != dim:
            raise RagError(
                f"The document store at {self.location} holds {existing}-dimension vectors but the embedding model "
                f"gives {dim}: use the model it was built with, or a new SPARK_AGENTS_HOME / "
                "SPARK_AGENTS_RAG_COLLECTION, and ingest again."
            )

    # --- source records -----------------------------------------------------------------------------
    def source_records(self) -> list[dict[str, Any]]:
        return list(self.backend.payloads("sources"))

    def put_sources(self, records: Sequence[dict[str, Any]]) -> None:
        if records:
            self.backend.upsert("sources", [ChunkPoint(point_id(r["id"]), [], ([], []), dict(r)) for r in records])

    def delete_sources(self, ids: Iterable[str]) -> None:
        """Remove sources atomically: mark their records `deleting` (invisible from then on), delete their
        chunks, then the records. A crash part way leaves a non-complete record that `cleanup` finishes."""
        ids = list(ids)
        if not ids:
            return
        wanted = set(ids)
        marked = [{**r, "status": "deleting"} for r in self.source_records() if r.get("id") in wanted]
        self.put_sources(marked)
        self.backend.delete_sources_chunks(ids)
        self.backend.delete_ids("sources", [point_id(i) for i in ids])

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
    def upsert_chunks(self, points: list[ChunkPoint], batch: int = 256) -> None:
        for i in range(0, len(points), batch):
            self.backend.upsert("chunks", points[i : i + batch])

    def after_write(self) -> None:
        """An ingestion finished writing: the back-end may start building its index in the background."""
        self.backend.after_write()

    def count_chunks(self) -> int:
        return self.backend.count()

    def scroll_chunks(self, source_id: str) -> list[dict[str, Any]]:
        out = list(self.backend.payloads("chunks", source_id))
        out.sort(key=lambda p: p["index"])
        return out

    def candidates(
        self, dense: list[float] | None, sparse: Sparse | None, limit: int, source_ids: list[str] | None
    ) -> tuple[list[Scored], list[Scored]]:
        """Dense and BM25 candidate lists, best first, for `rag.fusion` to combine."""
        return self.backend.nearest(dense, sparse, limit, source_ids)

    def engine_rrf(
        self,
        dense: list[float],
        sparse: Sparse,
        limit: int,
        prefetch: int,
        source_ids: list[str] | None,
        weights: tuple[float, float] = (1.0, 1.0),
    ) -> list[Scored]:
        """The engine's own reciprocal rank fusion of dense and sparse prefetches (the former hybrid query)."""
        return self.backend.engine_rrf(dense, sparse, limit, prefetch, source_ids, weights)

    def index_status(self) -> IndexStatus:
        return self.backend.index_status()

    def wait_for_index(self, timeout: float | None = None) -> IndexStatus:
        """Block until a running background index build finishes (benchmarks and tests)."""
        wait = getattr(self.backend, "wait_for_index", None)
        return wait(timeout) if wait is not None else self.backend.index_status()

    def build_index(self, wait: bool = True, timeout: float | None = None) -> IndexStatus:
        build = getattr(self.backend, "build_index", None)
        return build(wait, timeout) if build is not None else self.backend.index_status()
