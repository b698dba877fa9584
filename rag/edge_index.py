"""`python -m rag.edge_index SHARD_DIR`: build the HNSW index of a copied Qdrant Edge shard, then exit.

Run by `rag.backend_edge` in a child process, because `EdgeShard.optimize()` holds the GIL for the whole
build (minutes at 100k points) and would freeze the serving process. Runs at low CPU priority; prints one
JSON line per stage on stdout, which the parent shows as the build's progress.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time


def _say(**event: object) -> None:
    print(json.dumps(event), flush=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m rag.edge_index SHARD_DIR", file=sys.stderr)
        return 2
    with contextlib.suppress(OSError):
        os.nice(10)  # the build yields to searches and ingestion in the serving process
    from qdrant_edge import EdgeShard

    started = time.monotonic()
    _say(stage="loading the copy")
    shard = EdgeShard.load(argv[0])
    points = shard.info().points_count
    _say(stage=f"building the HNSW index of {points:,} points", points=points)
    shard.optimize()
    shard.flush()
    info = shard.info()
    shard.close()
    _say(stage="index built", points=points, segments=info.segments_count, seconds=time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
