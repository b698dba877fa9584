"""RAG speed at scale, old and new embedded back-end side by side, plus end-to-end ingestion throughput.

    python -m bench rag_scale     # SPARK_BENCH_RAG_SCALES=10000,100000  SPARK_BENCH_RAG_BACKENDS=edge,client
                                  # SPARK_BENCH_RAG_QUERIES=40  SPARK_BENCH_RAG_INGEST=0 skips the ingestion table
                                  # SPARK_BENCH_RAG_EF=128,512 adds dense recall/latency at each hnsw_ef

Ingestion: PDFs built from real English text (the Python 3.11 HOWTO pages from Debian's python3.11-doc,
or a generated text when that is not installed), ingested end to end by `Library.ingest` with the real
local embedding model (read, chunk, embed, write), into Qdrant Edge.

Scale: each (back-end, size) runs in its own child process (so its peak RSS is its own) and fills a store
as ingestion does. Embedding 100k chunks with all-MiniLM-L6-v2 on two shared CPU cores takes hours, so
the dense vectors are real MiniLM vectors of 1,000 real chunks, each copy perturbed with Gaussian noise
and re-normalised (the distribution of real embeddings, not uniform random); the BM25 vectors come from
the real text. Queries are the Python FAQ's questions (real MiniLM query vectors). Reported: write and
index-build time, the hybrid candidate query + fusion, the same filtered to 3 of 100 sources, the dense
half's recall@10 against exact search, disk and peak RSS.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HOWTO = Path("/usr/share/doc/python3.11/html/howto")
FAQ = Path("/usr/share/doc/python3.11/html/faq")


def _text_pages(words_per_page: int = 350, max_pages: int = 120) -> list[str]:
    """Pages of real prose (Python HOWTOs) or, without them, a deterministic generated text."""
    words: list[str] = []
    if HOWTO.is_dir():
        from bs4 import BeautifulSoup

        for f in sorted(HOWTO.glob("*.html")):
            soup = BeautifulSoup(f.read_text(encoding="utf-8"), "lxml")
            body = soup.find("div", attrs={"role": "main"}) or soup.body
            words.extend(body.get_text(" ").split())  # type: ignore[union-attr]
            if len(words) > words_per_page * max_pages:
                break
    if len(words) < words_per_page * 10:
        rng = random.Random(7)
        vocab = [f"term{i}" for i in range(5000)]
        words = [rng.choice(vocab) for _ in range(words_per_page * max_pages)]
    pages = [" ".join(words[i : i + words_per_page]) for i in range(0, len(words), words_per_page)]
    return [p for p in pages if p][:max_pages]


def _pdf(pages: list[str]) -> bytes:
    from tests.rag.docs import text_pdf

    def wrap(text: str) -> str:
        text = text.encode("latin-1", "replace").decode("latin-1")
        return "\n".join(re.findall(r".{1,95}(?:\s|$)", text))

    return text_pdf([wrap(p) for p in pages])


def faq_questions(limit: int = 200) -> list[str]:
    if not FAQ.is_dir():
        return [f"how do I use feature {i} of the library?" for i in range(50)]
    from bs4 import BeautifulSoup

    out = []
    for f in sorted(FAQ.glob("*.html")):
        for h in BeautifulSoup(f.read_text(encoding="utf-8"), "lxml").find_all(re.compile("^h[2-4]$")):
            q = h.get_text(" ", strip=True).rstrip("¶").strip()
            if q.endswith("?"):
                out.append(q)
    return out[:limit]


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def ingestion(home: Path) -> dict[str, float]:
    from rag.library import Library
    from rag.settings import RagSettings
    from serving.settings import ServingSettings

    pages = _text_pages(max_pages=40)
    docs = home / "docs"
    docs.mkdir(parents=True)
    per_file = 10
    for i in range(0, len(pages), per_file):
        (docs / f"doc{i // per_file:03d}.pdf").write_bytes(_pdf(pages[i : i + per_file]))
    lib = Library(RagSettings(edge_path=home / "ingest-edge"), ServingSettings(home=home))
    lib.embedder.embed(["warm up"])
    t = time.perf_counter()
    report = lib.ingest([docs])
    seconds = time.perf_counter() - t
    texts = [c.text for s in lib.sources() for c in lib.chunks(s.id)]
    t = time.perf_counter()
    lib.embedder.embed(texts)
    embed_s = time.perf_counter() - t
    lib.close()
    return {
        "embed_share": embed_s / seconds,
        "files": report.files,
        "pages": report.pages,
        "chunks": report.chunks,
        "seconds": seconds,
        "pages/s": report.pages / seconds,
        "chunks/s": report.chunks / seconds,
    }


def _base_chunks(n: int = 1000) -> list[str]:
    from rag.chunking import split
    from rag.readers import Page, ParsedDocument

    pieces = []
    pages = _text_pages(max_pages=400)
    for i in range(0, len(pages), 10):
        doc = ParsedDocument("text", f"doc{i}", [Page(p, None) for p in pages[i : i + 10]])
        pieces.extend(p.text for p in split(doc))
        if len(pieces) >= n:
            break
    while len(pieces) < n:  # the generated fallback text is short: reuse with a marker
        pieces.append(pieces[len(pieces) % max(1, len(pieces))] + f" v{len(pieces)}")
    return pieces[:n]


def fill(
    settings: Any, home: Path, n: int, base_texts: list[str], base: Any, n_sources: int = 100
) -> tuple[Any, float, float]:
    """Write `n` chunks as ingestion does (records, chunks with dense + BM25 vectors); the dense matrix,
    the write seconds and the index-build seconds (Edge builds in the background; we wait for it)."""
    from datetime import UTC, datetime

    import numpy as np

    from rag import sparse
    from rag.store import ChunkPoint, Store, point_id

    store = Store(settings, home)
    store.ensure(base.shape[1])
    rng = np.random.default_rng(0)
    per_source = n // n_sources
    sparse_cache = [sparse.document_vector(t) for t in base_texts]
    now = datetime.now(UTC).isoformat()
    # Real MiniLM vectors of real chunks; past the base size, each copy is perturbed (Gaussian noise,
    # sigma 0.02 a dimension, then re-normalised): the spread of real embeddings, not uniform random.
    idx = np.arange(n) % len(base_texts)
    matrix = base[idx].copy()
    if n > len(base_texts):
        matrix += rng.normal(0, 0.02, matrix.shape).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    t = time.perf_counter()
    records = []
    for s in range(n_sources):
        sid = f"{s:016x}"
        records.append(
            {
                "id": sid,
                "title": f"doc {s}",
                "path": f"/bench/doc{s}.pdf",
                "type": "pdf",
                "pages": per_source,
                "chunks": per_source,
                "bytes": 0,
                "ingested_at": now,
                "notes": [],
                "status": "complete",
            }
        )
        points = []
        for j in range(per_source):
            row = s * per_source + j
            k = int(idx[row])
            cid = f"{sid}:{j:05d}"
            payload = {
                "chunk_id": cid,
                "source_id": sid,
                "index": j,
                "text": base_texts[k],
                "title": f"doc {s}",
                "path": f"/bench/doc{s}.pdf",
                "page": j + 1,
                "heading": None,
            }
            points.append(ChunkPoint(point_id(cid), matrix[row].tolist(), sparse_cache[k], payload))
        store.upsert_chunks(points, batch=1000)
    store.put_sources(records)
    write_s = time.perf_counter() - t
    t = time.perf_counter()
    store.after_write()
    store.wait_for_index()
    index_s = time.perf_counter() - t
    store.close()
    return matrix[: per_source * n_sources], write_s, index_s


def one(backend: str, n: int, root: Path, n_queries: int) -> dict[str, Any]:
    """One back-end at one scale, in this process (run as a child, so RSS is its own)."""
    import resource

    import numpy as np

    from rag import fusion
    from rag.retrieval import sparse_query
    from rag.settings import RagSettings
    from serving.embeddings import get_embedder
    from serving.settings import ServingSettings

    embedder = get_embedder(ServingSettings())
    base_texts = _base_chunks(1000)
    base = np.asarray(embedder.embed(base_texts), dtype=np.float32)
    queries = faq_questions(n_queries)
    qvecs = np.asarray(embedder.embed(queries), dtype=np.float32)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    home = root / f"{backend}-{n}"
    settings = RagSettings(backend=backend, edge_path=home / "edge", qdrant_path=home / "qdrant")
    matrix, write_s, index_s = fill(settings, home, n, base_texts, base)
    from rag.store import Store

    t = time.perf_counter()
    store = Store(settings, home)
    open_s = time.perf_counter() - t
    per_source = len(matrix) // 100
    chosen = [f"{s:016x}" for s in (3, 41, 77)]
    mask = np.zeros(len(matrix), dtype=bool)
    for s in (3, 41, 77):
        mask[s * per_source : (s + 1) * per_source] = True
    hybrid, filtered, recall, frecall = [], [], [], []
    for q, v in zip(queries, qvecs, strict=True):
        sq = sparse_query(q)
        t = time.perf_counter()
        d, b = store.candidates(v.tolist(), sq, 50, None)
        fusion.fuse(d, b, settings.fusion, (settings.dense_weight, settings.sparse_weight))
        hybrid.append(time.perf_counter() - t)
        t = time.perf_counter()
        fd, fb = store.candidates(v.tolist(), sq, 50, chosen)
        fusion.fuse(fd, fb, settings.fusion, (settings.dense_weight, settings.sparse_weight))
        filtered.append(time.perf_counter() - t)
        sims = matrix @ v
        exact = {int(i) for i in np.argsort(-sims)[:10]}
        got = {_row(h.payload, per_source) for h in d[:10]}
        recall.append(len(exact & got) / 10)
        fsims = np.where(mask, sims, -np.inf)
        fexact = {int(i) for i in np.argsort(-fsims)[:10]}
        fgot = {_row(h.payload, per_source) for h in fd[:10]}
        frecall.append(len(fexact & fgot) / 10)
    by_ef = {}
    for ef in [int(e) for e in os.environ.get("SPARK_BENCH_RAG_EF", "").split(",") if e]:
        if not hasattr(store.backend, "hnsw_ef"):
            continue
        store.backend.hnsw_ef = ef  # type: ignore[attr-defined]
        got_recall, lat = [], []
        for v in qvecs:
            t = time.perf_counter()
            d, _ = store.candidates(v.tolist(), None, 50, None)
            lat.append(time.perf_counter() - t)
            exact = {int(i) for i in np.argsort(-(matrix @ v))[:10]}
            got_recall.append(len(exact & {_row(h.payload, per_source) for h in d[:10]}) / 10)
        by_ef[ef] = (sum(got_recall) / len(got_recall), _pct(lat, 50) * 1000, _pct(lat, 95) * 1000)
    store.close()
    disk = sum(f.stat().st_blocks * 512 for f in home.rglob("*") if f.is_file())  # allocated, not sparse size
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ms = 1000.0
    return {
        "write_s": write_s,
        "index_s": index_s,
        "open_s": open_s,
        "p50": _pct(hybrid, 50) * ms,
        "p95": _pct(hybrid, 95) * ms,
        "f50": _pct(filtered, 50) * ms,
        "f95": _pct(filtered, 95) * ms,
        "recall": sum(recall) / len(recall),
        "frecall": sum(frecall) / len(frecall),
        "disk_mb": disk / 1e6,
        "rss_mb": rss / 1024,
        "rss_store_mb": (rss - rss_before) / 1024,
        "queries": len(queries),
        "by_ef": by_ef,
    }


def _row(payload: dict[str, Any], per_source: int) -> int:
    return int(payload["source_id"], 16) * per_source + int(payload["index"])


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        backend, n, root, nq = sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5])
        print(json.dumps(one(backend, n, root, nq)))
        return
    scales = [int(s) for s in os.environ.get("SPARK_BENCH_RAG_SCALES", "10000,100000").split(",")]
    backends = os.environ.get("SPARK_BENCH_RAG_BACKENDS", "edge,client").split(",")
    n_queries = int(os.environ.get("SPARK_BENCH_RAG_QUERIES", "40"))
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        root = Path(tmp)
        if os.environ.get("SPARK_BENCH_RAG_INGEST", "1") != "0":
            ing = ingestion(root / "ingest")
            print("### Ingestion (real PDFs, real all-MiniLM-L6-v2, Qdrant Edge)\n")
            print("| files | pages | chunks | seconds | pages/s | chunks/s | share of time in embedding |")
            print("|---:|---:|---:|---:|---:|---:|---:|")
            print(
                f"| {ing['files']:.0f} | {ing['pages']:.0f} | {ing['chunks']:.0f} | {ing['seconds']:.1f} "
                f"| {ing['pages/s']:.2f} | {ing['chunks/s']:.1f} | {ing['embed_share']:.0%} |\n"
            )
        print(
            f"### Query latency and recall ({n_queries} FAQ questions; hybrid = 50 dense + 50 BM25 candidates, fused)\n"
        )
        print(
            "| back-end | chunks | write s | index s | open s | hybrid p50 ms | hybrid p95 ms | filtered p50 ms "
            "| filtered p95 ms | dense recall@10 | filtered recall@10 | disk MB | peak RSS MB |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        names = {"edge": "Qdrant Edge (new)", "client": "qdrant-client local (old)"}
        for n in scales:
            for backend in backends:
                cmd = [sys.executable, "-m", "bench.rag_scale", "--one", backend, str(n), str(root), str(n_queries)]
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    print(f"| {names[backend]} | {n:,} | failed: {proc.stderr.strip().splitlines()[-1][:80]} |")
                    continue
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                print(
                    f"| {names[backend]} | {n:,} | {r['write_s']:.1f} | {r['index_s']:.1f} | {r['open_s']:.1f} "
                    f"| {r['p50']:.1f} | {r['p95']:.1f} | {r['f50']:.1f} | {r['f95']:.1f} | {r['recall']:.3f} "
                    f"| {r['frecall']:.3f} | {r['disk_mb']:.0f} | {r['rss_mb']:.0f} |",
                    flush=True,
                )
                for ef, (rec, p50, p95) in r.get("by_ef", {}).items():
                    print(f"|   dense only, hnsw_ef={ef} | {n:,} | | | | {p50:.1f} | {p95:.1f} | | | {rec:.3f} | | | |")
                shutil.rmtree(root / f"{backend}-{n}", ignore_errors=True)
        print(
            "\nVectors: real all-MiniLM-L6-v2 vectors of 1,000 real chunks (Python HOWTOs), each copy perturbed "
            "with Gaussian noise (sigma 0.02 a dimension) and re-normalised; BM25 vectors from the real text. "
            "filtered: 3 of 100 sources. recall@10: the dense half's top 10 against exact search (numpy) over "
            "the same vectors. index s: Edge's background build (a child process) until swapped in; 0 for "
            "local mode, which has no index. Peak RSS: the whole benchmark child (embedding model included). "
            f"Load average at start: {load:.1f} on {os.cpu_count()} cores (shared machine)."
        )


if __name__ == "__main__":
    main()
