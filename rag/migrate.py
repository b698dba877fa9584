"""Move a collection from the old embedded store (qdrant-client local mode) to Qdrant Edge, on first open.

Copies every chunk (vectors included, nothing re-embedded) and every source record into a new Edge
folder `<collection>.migrating`, and renames it into place only when complete: a migration killed half
way leaves the old store as it was and is simply redone on the next open. The old folder is left
untouched (the log says it can be deleted), so nothing is ever lost. The old store's file lock keeps
two processes from migrating at once.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from rag.backend import ChunkPoint, point_id

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]


def legacy_exists(legacy: Path, collection: str) -> bool:
    return (legacy / "collection" / collection).is_dir() or (legacy / "collection" / f"{collection}_sources").is_dir()


def migrate(
    legacy: Path,
    target: Path,
    collection: str,
    *,
    indexing_threshold_kb: int,
    progress: ProgressFn | None = None,
) -> int:
    """Copy `collection` from the local-mode folder `legacy` into an Edge folder `target`; the chunk count."""
    from rag.backend_client import ClientBackend
    from rag.backend_edge import EdgeBackend

    started = time.monotonic()
    old = ClientBackend(collection, path=legacy)  # takes the old store's lock
    try:
        if target.exists():  # another process finished the migration while we waited
            return 0
        tmp = target.with_name(target.name + ".migrating")
        shutil.rmtree(tmp, ignore_errors=True)
        total = old.count()
        log.info("migrating %d chunks of %s from %s to Qdrant Edge at %s", total, collection, legacy, target)
        new = EdgeBackend(tmp, indexing_threshold_kb=indexing_threshold_kb, background_index=False)
        try:
            dim = old.dense_size()
            done = 0
            if dim is not None:
                new.create_chunks(dim)
                for page in old.points_with_vectors():
                    new.upsert("chunks", page)
                    done += len(page)
                    if progress is not None:
                        progress(done, total)
                    if total and done * 10 // total != (done - len(page)) * 10 // total:
                        log.info("migration: %d/%d chunks", done, total)
            records = [ChunkPoint(point_id(p["id"]), [], ([], []), p) for p in old.payloads("sources") if "id" in p]
            new.upsert("sources", records)
            new.flush()
        finally:
            new.close()
        os.rename(tmp, target)  # the commit point
    finally:
        old.close()
    log.warning(
        "migrated %d chunks and their sources to Qdrant Edge (%s) in %.1fs; the old store %s is no longer used "
        "and can be deleted",
        done,
        target,
        time.monotonic() - started,
        legacy,
    )
    return done
