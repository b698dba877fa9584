"""The embedded back-end: Qdrant Edge (`qdrant-edge-py`), Qdrant's own engine in-process.

Layout under `<home>/edge/<collection>/`:
    sources/            an Edge shard of source records (no vectors); its WAL lock is the folder's lock
    chunks-000001/      the current chunks shard: dense (HNSW) + BM25 sparse (IDF) vectors, source_id index
    CURRENT             {"gen": 1, "indexed": 12345, "dim": 384}, written atomically

Index building never blocks the store. `EdgeShard.optimize()` builds HNSW while holding the GIL (measured:
a Python thread ran 2 ticks in 10 s), so it cannot run in a thread of the serving process. Instead, once
enough points are unindexed, a background thread copies the shard (under the lock, after a flush), a
child process (`python -m rag.edge_index`) optimises the copy at low priority, and the thread swaps it
in: loads it, replays every write made since the copy, flushes, then points CURRENT at it. Until then
searches run on the live shard, exactly (plain segments), so they stay correct. A kill at any moment
leaves CURRENT naming a complete shard; the next open removes the other folders.

Edge writes through memory-mapped files, and a store into a mapped page of a full disk kills the process
(SIGBUS) instead of raising. So every write first checks the free space: it must leave `min_free_mb` free
after a generous estimate of its size, else it fails as ENOSPC, which the library reports as a full disk.
Only chunk upserts (the bulk) must leave the margin; source records and deletes need only their own size,
so marking, deleting and cleaning up after a refused write always fit in it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from core.files import atomic_write
from rag.backend import DENSE, SPARSE, Backend, ChunkPoint, Collection, IndexStatus, Scored, Sparse
from rag.errors import RagError, StoreLocked

log = logging.getLogger(__name__)

_NO_VECTOR = "none"  # the sources shard's one (never used) sparse vector: Edge needs at least one vector


class _Ops:
    """The three writes the store makes, by name (so a build can replay them on the new shard)."""

    def __getitem__(self, kind: str) -> Callable[[Any], Any]:
        from qdrant_edge import UpdateOperation

        ops: dict[str, Callable[[Any], Any]] = {
            "upsert": UpdateOperation.upsert_points,
            "delete_ids": UpdateOperation.delete_points,
            "delete_filter": UpdateOperation.delete_points_by_filter,
        }
        return ops[kind]


_OPS = _Ops()


def _locked_error(path: Path) -> StoreLocked:
    return StoreLocked(
        f"The document store {path} is in use by another process (an MCP server, the UI or another command). "
        "Stop it, or run a Qdrant server and set SPARK_AGENTS_RAG_QDRANT_URL."
    )


def open_shard(path: Path, config: Any | None = None) -> Any:
    """Load the Edge shard at `path`, or create it with `config`; StoreLocked when another process has it."""
    from qdrant_edge import EdgeShard

    try:
        if (path / "edge_config.json").exists() or (path / "segments").exists():
            return EdgeShard.load(str(path))
        if config is None:
            raise RagError(f"The document store folder {path} is missing its shard files.")
        return EdgeShard.create(str(path), config)
    except RagError:
        raise
    except Exception as e:
        if "WouldBlock" in str(e) or "lock" in str(e).lower():
            raise _locked_error(path.parent) from None
        raise


def chunks_config(dim: int, indexing_threshold_kb: int) -> Any:
    from qdrant_edge import (
        Distance,
        EdgeConfig,
        EdgeOptimizersConfig,
        EdgeSparseVectorParams,
        EdgeVectorParams,
        Modifier,
    )

    return EdgeConfig(
        vectors={DENSE: EdgeVectorParams(size=dim, distance=Distance.Cosine)},
        sparse_vectors={SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf)},
        optimizers=EdgeOptimizersConfig(indexing_threshold=indexing_threshold_kb),
    )


def _sources_config() -> Any:
    from qdrant_edge import EdgeConfig, EdgeSparseVectorParams

    return EdgeConfig(sparse_vectors={_NO_VECTOR: EdgeSparseVectorParams()})


_NEW_SHARD_BYTES = 5_000_000  # measured: a new chunks shard takes 3.3 MB of disk (page headers, flags)
_DELETE_BYTES = 1_000_000  # a delete writes a WAL record and flips flags; generous


def _written_bytes(point: ChunkPoint) -> int:
    """Generous disk cost of one upsert: measured ~1.5x the raw size (WAL record + vector and payload
    storage); counted 3x, plus page slack."""
    raw = len(json.dumps(point.payload, default=str)) + 4 * len(point.dense) + 8 * len(point.sparse[0])
    return 3 * raw + 512


def _folder_size(path: Path) -> tuple[int, int]:
    """(apparent, allocated) bytes of a folder's files: Edge's page files are sparse."""
    apparent = used = 0
    for file in path.rglob("*"):
        with contextlib.suppress(OSError):
            st = file.stat()
            if file.is_file():
                apparent += st.st_size
                used += st.st_blocks * 512
    return apparent, used


class EdgeBackend(Backend):
    name = "qdrant-edge"

    def __init__(
        self,
        root: Path,
        *,
        hnsw_ef: int = 2048,
        indexing_threshold_kb: int = 10_000,
        background_index: bool = True,
        min_free_mb: int = 64,
    ) -> None:
        self.root = root
        self.min_free = min_free_mb * 1_000_000
        self.location = str(root)
        self.hnsw_ef = hnsw_ef
        self.indexing_threshold_kb = indexing_threshold_kb
        self.background_index = background_index
        self._lock = threading.RLock()
        self._closed = False
        root.mkdir(parents=True, exist_ok=True)
        if not (root / "sources").exists():
            self._ensure_space(_NEW_SHARD_BYTES)
        self._sources = open_shard(root / "sources", _sources_config())  # takes the folder's lock
        self._manifest = self._read_manifest()
        self._remove_leftovers()
        gen = self._manifest.get("gen")
        self._chunks: Any | None = open_shard(self._gen_dir(gen)) if gen else None
        # the background build
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._log: list[tuple[str, Any]] | None = None  # writes made since the copy, replayed on the new shard
        self._stage: str | None = None
        self._started: float | None = None
        self._failed_at: int | None = None  # points count when the last build failed (retry after more writes)
        self.after_write()

    # --- files --------------------------------------------------------------------------------------
    def _gen_dir(self, gen: int) -> Path:
        return self.root / f"chunks-{gen:06d}"

    def _read_manifest(self) -> dict[str, Any]:
        path = self.root / "CURRENT"
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise RagError(f"The document store's manifest {path} is unreadable ({e}).") from None
        return data if isinstance(data, dict) else {}

    def _write_manifest(self, **changes: Any) -> None:
        self._manifest = {**self._manifest, **changes}
        atomic_write(self.root / "CURRENT", json.dumps(self._manifest))

    def _remove_leftovers(self) -> None:
        """Folders a killed build or swap left behind: every chunks shard but the current one, the build copy."""
        current = self._gen_dir(self._manifest["gen"]).name if self._manifest.get("gen") else None
        for child in self.root.iterdir():
            if child.is_dir() and (child.name.startswith("chunks-") or child.name == "build") and child.name != current:
                log.info("removing %s, left by an interrupted index build", child)
                shutil.rmtree(child, ignore_errors=True)

    # --- schema -------------------------------------------------------------------------------------
    def dense_size(self) -> int | None:
        return int(self._manifest["dim"]) if self._chunks is not None and "dim" in self._manifest else None

    def create_chunks(self, dim: int) -> None:
        from qdrant_edge import PayloadSchemaType, UpdateOperation

        with self._lock:
            self._ensure_space(_NEW_SHARD_BYTES)
            gen = 1
            shard = open_shard(self._gen_dir(gen), chunks_config(dim, self.indexing_threshold_kb))
            shard.update(UpdateOperation.create_field_index("source_id", PayloadSchemaType.Keyword))
            shard.flush()
            self._chunks = shard
            self._write_manifest(gen=gen, indexed=0, dim=dim)

    # --- free space -------------------------------------------------------------------------------
    def _ensure_space(self, needed: int, margin: bool = True) -> None:
        """Refuse (ENOSPC) a write that would leave less than the margin free; see the module docstring."""
        free = shutil.disk_usage(self.root).free
        keep = self.min_free if margin else 0
        if free < needed + keep:
            raise OSError(
                errno.ENOSPC,
                f"No space left on device: {free / 1e6:.1f} MB free at {self.root}, and a write of about "
                f"{needed / 1e6:.1f} MB must leave {keep / 1e6:.0f} MB free (SPARK_AGENTS_RAG_MIN_FREE_MB): "
                "Qdrant Edge writes through memory-mapped files, which a full disk would crash",
            )

    # --- writes -------------------------------------------------------------------------------------
    def _shard(self, collection: Collection) -> Any:
        if collection == "sources":
            return self._sources
        if self._chunks is None:
            raise RagError("The document store has no chunks collection yet.")
        return self._chunks

    def _apply(self, collection: Collection, kind: str, arg: Any, size: int) -> None:
        op = _OPS[kind](arg)
        with self._lock:
            self._ensure_space(size, margin=collection == "chunks" and kind == "upsert")
            self._shard(collection).update(op)
            if collection == "chunks" and self._log is not None:
                self._log.append((kind, arg))

    def upsert(self, collection: Collection, points: list[ChunkPoint]) -> None:
        from qdrant_edge import Point, SparseVector

        out = []
        for p in points:
            vector: dict[str, Any] = {}
            if p.dense:
                vector[DENSE] = p.dense
            if p.sparse[0]:
                vector[SPARSE] = SparseVector(indices=p.sparse[0], values=p.sparse[1])
            out.append(Point(id=p.id, vector=vector, payload=p.payload))
        if out:
            self._apply(collection, "upsert", out, sum(_written_bytes(p) for p in points))

    def delete_ids(self, collection: Collection, ids: list[str]) -> None:
        if ids and (collection == "sources" or self._chunks is not None):
            self._apply(collection, "delete_ids", list(ids), _DELETE_BYTES + 64 * len(ids))

    def delete_sources_chunks(self, source_ids: list[str]) -> None:
        if source_ids and self._chunks is not None:
            self._apply("chunks", "delete_filter", self._filter(source_ids), _DELETE_BYTES)

    @staticmethod
    def _filter(source_ids: list[str] | None) -> Any:
        from qdrant_edge import FieldCondition, Filter, MatchAny

        if not source_ids:
            return None
        return Filter(must=[FieldCondition(key="source_id", match=MatchAny(any=list(source_ids)))])

    # --- reads --------------------------------------------------------------------------------------
    def payloads(self, collection: Collection, source_id: str | None = None) -> Iterator[dict[str, Any]]:
        from qdrant_edge import ScrollRequest

        if collection == "chunks" and self._chunks is None:
            return
        flt = self._filter([source_id]) if source_id else None
        offset = None
        while True:
            with self._lock:
                request = ScrollRequest(offset=offset, limit=1000, filter=flt, with_payload=True, with_vector=False)
                records, offset = self._shard(collection).scroll(request)
            for r in records:
                yield dict(r.payload or {})
            if offset is None:
                return

    def count(self) -> int:
        from qdrant_edge import CountRequest

        with self._lock:
            return 0 if self._chunks is None else int(self._chunks.count(CountRequest(exact=True)))

    def nearest(
        self, dense: list[float] | None, sparse: Sparse | None, limit: int, source_ids: list[str] | None
    ) -> tuple[list[Scored], list[Scored]]:
        from qdrant_edge import Query, QueryBatchRequest, QueryRequest, SearchParams, SparseVector

        if self._chunks is None:
            return [], []
        flt = self._filter(source_ids)
        requests, kinds = [], []
        if dense is not None:
            query = Query.Nearest(dense, using=DENSE)
            params = SearchParams(hnsw_ef=self.hnsw_ef)
            requests.append(QueryRequest(limit=limit, query=query, filter=flt, with_payload=True, params=params))
            kinds.append("dense")
        if sparse is not None and sparse[0]:
            query = Query.Nearest(SparseVector(indices=sparse[0], values=sparse[1]), using=SPARSE)
            requests.append(QueryRequest(limit=limit, query=query, filter=flt, with_payload=True))
            kinds.append("sparse")
        out: dict[str, list[Scored]] = {"dense": [], "sparse": []}
        if requests:
            with self._lock:
                results = self._chunks.query_batch(QueryBatchRequest(requests))
            for kind, points in zip(kinds, results, strict=True):
                out[kind] = [Scored(str(p.id), float(p.score), dict(p.payload or {})) for p in points]
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
        from qdrant_edge import Fusion, Prefetch, Query, QueryRequest, SearchParams, SparseVector

        if self._chunks is None:
            return []
        flt = self._filter(source_ids)
        params = SearchParams(hnsw_ef=self.hnsw_ef)
        prefetches = [Prefetch(limit=prefetch, query=Query.Nearest(dense, using=DENSE), filter=flt, params=params)]
        if sparse[0]:
            vector = SparseVector(indices=sparse[0], values=sparse[1])
            prefetches.append(Prefetch(limit=prefetch, query=Query.Nearest(vector, using=SPARSE), filter=flt))
        fusion: Any = Fusion.Rrf(k=60, weights=list(weights) if len(prefetches) == 2 else None)
        request = QueryRequest(limit=limit, prefetches=prefetches, query=fusion, with_payload=True)
        with self._lock:
            points = self._chunks.query(request)
        return [Scored(str(p.id), float(p.score), dict(p.payload or {})) for p in points]

    # --- the background index build -------------------------------------------------------------------
    def _build_after(self) -> int:
        """Unindexed points worth a build: Qdrant indexes a segment once it passes the indexing threshold."""
        dim = int(self._manifest.get("dim") or 384)
        return max(1, self.indexing_threshold_kb * 1024 // (dim * 4))

    def after_write(self) -> None:
        if not self.background_index or self._chunks is None or self._closed:
            return
        with self._lock:
            if self._thread is not None:
                return
            points = self.count()
            unindexed = points - int(self._manifest.get("indexed") or 0)
            if unindexed < self._build_after():
                return
            if self._failed_at is not None and points - self._failed_at < self._build_after():
                return
            self._start_build()

    def build_index(self, wait: bool = True, timeout: float | None = None) -> IndexStatus:
        """Start an index build now (if none is running), and optionally wait for it to finish."""
        with self._lock:
            if self._thread is None and self._chunks is not None:
                self._start_build()
            thread = self._thread
        if wait and thread is not None:
            thread.join(timeout)
        return self.index_status()

    def wait_for_index(self, timeout: float | None = None) -> IndexStatus:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.index_status()

    def _start_build(self) -> None:
        self._stage, self._started = "copying the shard", time.monotonic()
        self._thread = threading.Thread(target=self._build, name="edge-index-build", daemon=True)
        self._thread.start()

    def _build(self) -> None:
        build = self.root / "build"
        try:
            with self._lock:
                if self._closed or self._chunks is None:
                    return
                shutil.rmtree(build, ignore_errors=True)
                self._chunks.flush()
                gen = int(self._manifest["gen"])
                apparent, used = _folder_size(self._gen_dir(gen))
                self._ensure_space(apparent + 2 * used)  # the copy writes its holes out; the index grows it
                shutil.copytree(self._gen_dir(gen), build)
                points = self.count()
                self._log = []
            self._stage = f"building the HNSW index of {points:,} points"
            log.info("index build started: %d points in %s", points, self.root)
            self._run_child(build)
            with self._lock:
                if self._closed:
                    return
                self._stage = "swapping in the new index"
                self._swap(build, gen, points)
            log.info("index build done in %.1fs: %d points", time.monotonic() - (self._started or 0), points)
        except Exception as e:  # noqa: BLE001 - a failed build leaves the live shard serving, exactly
            if not self._closed:
                log.warning("index build failed (searches stay exact; retried after more writes): %s", e)
                with contextlib.suppress(Exception):
                    self._failed_at = self.count()
            shutil.rmtree(build, ignore_errors=True)
        finally:
            with self._lock:
                self._log = None
                self._thread = None
                self._proc = None
                self._stage = None
                self._started = None

    def _run_child(self, build: Path) -> None:
        cmd = [sys.executable, "-m", "rag.edge_index", str(build)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self._proc = proc
        assert proc.stdout is not None
        for line in proc.stdout:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                self._stage = str(event.get("stage") or self._stage)
        err = proc.stderr.read() if proc.stderr else ""
        if proc.wait() != 0:
            raise RagError(f"the index builder exited with {proc.returncode}: {err.strip()[-500:]}")

    def _swap(self, build: Path, gen: int, points: int) -> None:
        new_dir = self._gen_dir(gen + 1)
        shutil.rmtree(new_dir, ignore_errors=True)
        os.rename(build, new_dir)
        new = open_shard(new_dir)
        try:
            for kind, arg in self._log or []:
                new.update(_OPS[kind](arg))
            new.flush()
        except Exception:
            new.close()
            shutil.rmtree(new_dir, ignore_errors=True)
            raise
        self._write_manifest(gen=gen + 1, indexed=points)  # the commit point
        old, self._chunks = self._chunks, new
        if old is not None:
            old.close()
        shutil.rmtree(self._gen_dir(gen), ignore_errors=True)

    def index_status(self) -> IndexStatus:
        with self._lock:
            points = self.count()
            indexed = int(self._manifest.get("indexed") or 0)
            if self._thread is not None:
                started = self._started or time.monotonic()
                return IndexStatus(
                    backend=self.name,
                    state="building",
                    points=points,
                    indexed_points=indexed,
                    stage=self._stage,
                    seconds=time.monotonic() - started,
                    message="searches stay exact on the live data until the new index is swapped in",
                )
            state = "ready" if points - indexed < self._build_after() else "unindexed"
            return IndexStatus(backend=self.name, state=state, points=points, indexed_points=indexed)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            proc, thread = self._proc, self._thread
        if proc is not None and proc.poll() is None:
            proc.kill()
        if thread is not None:
            thread.join(30)
        with self._lock:
            if self._chunks is not None:
                self._chunks.close()
                self._chunks = None
            self._sources.close()
        shutil.rmtree(self.root / "build", ignore_errors=True)

    # --- used by rag.migrate ------------------------------------------------------------------------
    def flush(self) -> None:
        with self._lock:
            self._sources.flush()
            if self._chunks is not None:
                self._chunks.flush()
