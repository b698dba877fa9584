"""`Library`: ingest documents, list and delete sources, search with citations.

with Library(RagSettings(), ServingSettings()) as lib:
    report = lib.ingest(["~/papers"])
    for hit in lib.search("how is the KV cache sized?", k=5):
        print(hit.citation, hit.text)
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag import chunking, fusion, sparse
from rag.backend import IndexStatus
from rag.errors import DocumentError, RagError, SourceNotFound
from rag.models import Chunk, Hit, IngestReport, Progress, Skipped, Source, source_id_for
from rag.retrieval import check_query, rerank, sparse_query, to_hit
from rag.settings import RagSettings
from rag.store import ChunkPoint, Store, is_disk_full, point_id
from serving.settings import ServingSettings

log = logging.getLogger(__name__)

ProgressFn = Callable[[Progress], None]


@dataclass
class _Pending:
    source: Source
    pieces: list[chunking.Piece]
    replaces: str | None
    texts: list[str] = field(default_factory=list)


class Library:
    """The user's document collection. Safe to share between threads; open it once per process."""

    def __init__(
        self,
        settings: RagSettings,
        serving: ServingSettings,
        embedder: Any | None = None,
    ) -> None:
        self.settings = settings
        self.serving = serving
        self._embedder = embedder
        self._store: Store | None = None
        self._lock = threading.RLock()
        self._depth = 0

    # --- lifecycle ----------------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                store = Store(self.settings, self.serving.home)
                try:
                    store.cleanup()
                except Exception:
                    store.close()
                    raise
                self._store = store
            return self._store

    @contextmanager
    def _using(self) -> Iterator[Store]:
        """The open store for one public call; with `keep_open=False` it is closed (lock released) after."""
        with self._lock:
            self._depth += 1
            try:
                yield self.store
            finally:
                self._depth -= 1
                if self._depth == 0 and not self.settings.keep_open:
                    self.close()

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from serving.embeddings import get_embedder

            self._embedder = get_embedder(self.serving)
        return self._embedder

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- sources ------------------------------------------------------------------------------------
    def sources(self) -> list[Source]:
        """Every complete source, oldest first."""
        with self._using() as store:
            records = [r for r in store.source_records() if r.get("status") == "complete"]
        out = [Source.model_validate({k: v for k, v in r.items() if k != "status"}) for r in records]
        return sorted(out, key=lambda s: (s.ingested_at, s.id))

    def resolve(self, source_id: str) -> Source:
        """The source with this id, or with this unique id prefix (at least 4 characters)."""
        sid = (source_id or "").strip().lower()
        sources = self.sources()
        exact = [s for s in sources if s.id == sid]
        if exact:
            return exact[0]
        matches = [s for s in sources if len(sid) >= 4 and s.id.startswith(sid)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise SourceNotFound(f"The id prefix {sid!r} matches {len(matches)} sources; give more characters.")
        raise SourceNotFound(f"No source has the id {source_id!r}; `spark-agents sources list` shows the ids.")

    def delete_source(self, source_id: str) -> None:
        """Remove a source and all its chunks (accepts a unique id prefix)."""
        with self._using() as store:
            source = self.resolve(source_id)
            store.delete_sources([source.id])

    def chunks(self, source_id: str) -> list[Chunk]:
        """Every chunk of a source, in document order (the knowledge-graph builder reads these)."""
        with self._using() as store:
            source = self.resolve(source_id)
            payloads = store.scroll_chunks(source.id)
        return [Chunk.model_validate({k: p.get(k) for k in Chunk.model_fields}) for p in payloads]

    # --- search -------------------------------------------------------------------------------------
    def search(self, query: str, k: int = 5, source_ids: list[str] | None = None) -> list[Hit]:
        """The `k` best chunks for `query`: dense and BM25 candidates fused (`rag.fusion`), optionally reranked."""
        q = check_query(query, self.settings.max_query_chars)
        if not 1 <= k <= 100:
            raise RagError(f"k must be between 1 and 100 (got {k}).")
        with self._using() as store:
            complete = {s.id for s in self.sources()}
            ids = None
            if source_ids:
                ids = sorted({self.resolve(s).id for s in source_ids})
            if not complete or not store.has_chunks_collection():
                return []
            dense = self.embedder.embed([q])[0]
            want = max(k, self.settings.rerank_candidates) if self.settings.rerank_model else k
            weights = (self.settings.dense_weight, self.settings.sparse_weight)
            dense_hits, sparse_hits = store.candidates(
                dense if weights[0] > 0 or weights[1] <= 0 else None,
                sparse_query(q),
                max(self.settings.prefetch, want),
                ids,
            )
            if not dense_hits and not sparse_hits and weights[0] <= 0:  # keyword-only, and no keyword matched
                dense_hits, _ = store.candidates(dense, None, max(self.settings.prefetch, want), ids)
        fused = fusion.fuse(dense_hits, sparse_hits, self.settings.fusion, weights, self.settings.rrf_k)
        hits = [to_hit(p.payload, p.score) for p in fused if p.payload.get("source_id") in complete]
        hits = hits[:want]
        if self.settings.rerank_model:
            hits = rerank(self.settings.rerank_model, q, hits)
        return hits[:k]

    def index_status(self) -> IndexStatus:
        """Where the vector index stands (building in the background, ready...), for status displays."""
        with self._using() as store:
            return store.index_status()

    # --- ingestion ----------------------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | os.PathLike[str]], progress: ProgressFn | None = None) -> IngestReport:
        """Add files and folders (recursively). Same content is skipped; a changed file replaces its old
        version; bad files are reported in `skipped` and never stop the others."""
        started = time.perf_counter()
        emit = progress or (lambda _p: None)
        report = IngestReport()
        files = self._expand(paths, report)
        emit(Progress(stage="scan", done=len(files), total=len(files), message=f"{len(files)} file(s)"))
        with self._using() as store:
            existing = {s.id: s for s in self.sources()}
            by_path = {s.path: s for s in existing.values()}
            batch: list[_Pending] = []
            seen: set[str] = set()
            for n, path in enumerate(files, start=1):
                emit(Progress(stage="read", done=n - 1, total=len(files), path=str(path)))
                item = self._prepare(path, existing, by_path, seen, report)
                if item is not None:
                    batch.append(item)
                if sum(len(p.pieces) for p in batch) >= self.settings.batch_chunks:
                    self._flush(store, batch, report, emit, existing, by_path)
                    batch = []
            self._flush(store, batch, report, emit, existing, by_path)
            if report.added or report.replaced:
                store.after_write()  # may start an index build in the background; this call does not wait
        report.files = len(files)
        report.seconds = time.perf_counter() - started
        emit(Progress(stage="done", done=len(files), total=len(files), message=_summary(report)))
        return report

    def _expand(self, paths: Iterable[str | os.PathLike[str]], report: IngestReport) -> list[Path]:
        files: list[Path] = []
        seen: set[Path] = set()
        limit = self.settings.max_files

        def add(p: Path) -> None:
            if p not in seen:
                seen.add(p)
                files.append(p)
                if len(files) > limit:
                    raise RagError(
                        f"More than {limit:,} files to ingest: ingest a smaller folder, or raise "
                        "SPARK_AGENTS_RAG_MAX_FILES."
                    )

        for raw in paths:
            p = Path(os.path.expanduser(str(raw)))
            try:
                p = p.resolve(strict=True)
            except (FileNotFoundError, RuntimeError, OSError):
                report.skipped.append(Skipped(path=str(raw), reason="no such file or folder"))
                continue
            if p.is_dir():
                for f in _walk(p):
                    add(f)
            elif p.is_file():
                add(p)
            else:
                report.skipped.append(Skipped(path=str(p), reason="not a regular file or folder"))
        return files

    def _prepare(
        self,
        path: Path,
        existing: dict[str, Source],
        by_path: dict[str, Source],
        seen: set[str],
        report: IngestReport,
    ) -> _Pending | None:
        from rag.readers import read_document

        try:
            size = path.stat().st_size
            limit = int(self.settings.max_file_mb * 1024 * 1024)
            if size > limit:
                raise DocumentError(
                    str(path),
                    f"is {_human(size)}, over the {self.settings.max_file_mb:g} MB limit "
                    "(SPARK_AGENTS_RAG_MAX_FILE_MB)",
                )
            try:
                data = path.read_bytes()
            except OSError as e:
                raise DocumentError(str(path), f"cannot be read ({e.strerror or e})") from None
            sid = source_id_for(data)
            if sid in existing:
                report.unchanged.append(existing[sid])
                return None
            if sid in seen:
                report.skipped.append(Skipped(path=str(path), reason=f"same content as another file ({sid})"))
                return None
            doc = read_document(data, str(path), ocr=self.settings.vision if self.settings.ocr else None)
            pieces = chunking.split(doc, self.settings.chunk_tokens, self.settings.chunk_overlap)
            if not pieces:
                raise DocumentError(str(path), "has no text to index")
        except DocumentError as e:
            log.info("skipped %s", e)
            report.skipped.append(Skipped(path=str(path), reason=e.reason))
            return None
        seen.add(sid)
        old = by_path.get(str(path))
        source = Source(
            id=sid,
            title=doc.title[:300],
            path=str(path),
            type=doc.doc_type,
            pages=doc.page_count,
            chunks=len(pieces),
            bytes=len(data),
            ingested_at=datetime.now(UTC),
            notes=doc.notes,
            encoding=doc.encoding,
        )
        return _Pending(source, pieces, old.id if old and old.id != sid else None)

    def _flush(
        self,
        store: Store,
        batch: list[_Pending],
        report: IngestReport,
        emit: ProgressFn,
        existing: dict[str, Source],
        by_path: dict[str, Source],
    ) -> None:
        if not batch:
            return
        texts = [chunking.index_text(p.source.title, piece) for p in batch for piece in p.pieces]
        vectors: list[list[float]] = []
        step = 64
        for i in range(0, len(texts), step):
            emit(Progress(stage="embed", done=i, total=len(texts)))
            vectors.extend(self.embedder.embed(texts[i : i + step]))
        store.ensure(len(vectors[0]))
        points = []
        n = 0
        for item in batch:
            s = item.source
            for index, piece in enumerate(item.pieces):
                idx, val = sparse.document_vector(texts[n])
                chunk_id = f"{s.id}:{index:05d}"
                payload = {
                    "chunk_id": chunk_id,
                    "source_id": s.id,
                    "index": index,
                    "text": piece.text,
                    "title": s.title,
                    "path": s.path,
                    "page": piece.page,
                    "heading": piece.heading,
                }
                points.append(ChunkPoint(point_id(chunk_id), vectors[n], (idx, val), payload))
                n += 1
        emit(Progress(stage="write", done=0, total=len(points)))
        records = [item.source.model_dump(mode="json") for item in batch]
        try:
            store.put_sources([{**r, "status": "pending"} for r in records])
            store.upsert_chunks(points)
            store.put_sources([{**r, "status": "complete"} for r in records])
        except Exception as e:
            if not is_disk_full(e):
                raise
            raise RagError(
                f"The disk holding the document store ({store.location}) is full: {len(batch)} file(s) were not "
                "ingested. Free some space and ingest them again; sources ingested before are intact."
            ) from None
        replaced = [item.replaces for item in batch if item.replaces]
        store.delete_sources(replaced)
        emit(Progress(stage="write", done=len(points), total=len(points)))
        for item in batch:
            s = item.source
            existing[s.id] = s
            by_path[s.path] = s
            report.added.append(s)
            report.pages += s.pages or 1
            report.chunks += s.chunks
        report.replaced.extend(replaced)


def _walk(root: Path) -> Iterator[Path]:
    """Files under `root`, sorted, skipping hidden files and folders and not following folder links."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                p = Path(dirpath) / name
                if p.is_file():
                    yield p


def _human(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    if size < 1024**3:
        return f"{size / 1024**2:.1f} MB"
    return f"{size / 1024**3:.1f} GB"


def _summary(report: IngestReport) -> str:
    return (
        f"{len(report.added)} added, {len(report.unchanged)} unchanged, {len(report.replaced)} replaced, "
        f"{len(report.skipped)} skipped; {report.chunks} chunks"
    )
