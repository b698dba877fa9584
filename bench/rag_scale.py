"""RAG speed: ingestion throughput (pages/s, chunks/s) and query latency at 1k, 10k and 100k chunks.

    python -m bench rag_scale            # SPARK_BENCH_RAG_SCALES=1000,10000 to choose the scale points

Ingestion: PDFs built from real English text (the Python 3.11 HOWTO pages from Debian's python3.11-doc,
or a generated text when that is not installed), ingested end to end by `Library.ingest` with the real
local embedding model (read, chunk, embed, write), into embedded Qdrant.

Query latency: embedded Qdrant (local mode, on disk) filled to each scale. Embedding 100k chunks with
all-MiniLM-L6-v2 on two shared CPU cores takes hours, so the larger stores use synthetic dense vectors:
real MiniLM vectors of 1,000 real chunks, each copy perturbed with Gaussian noise and re-normalised;
their sparse BM25 vectors are computed from real text. Queries are the Python FAQ's questions (real
MiniLM query vectors). Reported: the hybrid store query (dense + BM25 prefetch fused by RRF), the same
with a source filter, and end to end `Library.search` (query embedding included).
"""

from __future__ import annotations

import os
import random
import re
import tempfile
import time
from pathlib import Path

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
    lib = Library(RagSettings(qdrant_path=home / "ingest-qdrant"), ServingSettings(home=home))
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


def fill(home: Path, n: int, base_texts: list[str], base_vecs: list[list[float]], n_sources: int = 100) -> None:
    """Write `n` chunks into an embedded store at `home` as ingestion does (records, chunks, sparse, dense)."""
    from datetime import UTC, datetime

    import numpy as np
    from qdrant_client import models

    from rag import sparse
    from rag.settings import RagSettings
    from rag.store import DENSE, SPARSE, Store, point_id

    store = Store(RagSettings(qdrant_path=home / "qdrant"), home)
    store.ensure(len(base_vecs[0]))
    rng = np.random.default_rng(0)
    base = np.asarray(base_vecs, dtype=np.float32)
    per_source = n // n_sources
    sparse_cache = [sparse.document_vector(t) for t in base_texts]
    now = datetime.now(UTC).isoformat()
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
            k = (s * per_source + j) % len(base_texts)
            if n <= len(base_texts):
                vec = base[k]
            else:
                vec = base[k] + rng.normal(0, 0.02, base.shape[1]).astype(np.float32)
                vec /= np.linalg.norm(vec)
            idx, val = sparse_cache[k]
            cid = f"{sid}:{j:05d}"
            points.append(
                models.PointStruct(
                    id=point_id(cid),
                    vector={DENSE: vec.tolist(), SPARSE: models.SparseVector(indices=idx, values=val)},
                    payload={
                        "chunk_id": cid,
                        "source_id": sid,
                        "index": j,
                        "text": base_texts[k],
                        "title": f"doc {s}",
                        "path": f"/bench/doc{s}.pdf",
                        "page": j + 1,
                        "heading": None,
                    },
                )
            )
        store.upsert_chunks(points, batch=1000)
    store.put_sources(records)
    store.close()


def latency(home: Path, queries: list[str], qvecs: list[list[float]]) -> dict[str, float]:
    from rag.library import Library
    from rag.retrieval import sparse_query
    from rag.settings import RagSettings
    from serving.settings import ServingSettings

    t = time.perf_counter()
    lib = Library(RagSettings(qdrant_path=home / "qdrant"), ServingSettings(home=home))
    store = lib.store
    open_s = time.perf_counter() - t
    hybrid, filtered, e2e = [], [], []
    sources = [s.id for s in lib.sources()][:3]
    for q, v in zip(queries, qvecs, strict=True):
        t = time.perf_counter()
        store.hybrid(v, sparse_query(q), 15, 50, None)
        hybrid.append(time.perf_counter() - t)
        t = time.perf_counter()
        store.hybrid(v, sparse_query(q), 15, 50, sources)
        filtered.append(time.perf_counter() - t)
    for q in queries[:10]:
        t = time.perf_counter()
        lib.search(q, k=5)
        e2e.append(time.perf_counter() - t)
    lib.close()
    ms = 1000.0
    return {
        "open_s": open_s,
        "p50": _pct(hybrid, 50) * ms,
        "p95": _pct(hybrid, 95) * ms,
        "f50": _pct(filtered, 50) * ms,
        "f95": _pct(filtered, 95) * ms,
        "e50": _pct(e2e, 50) * ms,
        "e95": _pct(e2e, 95) * ms,
    }


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from serving.embeddings import get_embedder

    scales = [int(s) for s in os.environ.get("SPARK_BENCH_RAG_SCALES", "1000,10000,100000").split(",")]
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        root = Path(tmp)
        ing = ingestion(root / "ingest")
        print("### Ingestion (real PDFs, real all-MiniLM-L6-v2, embedded Qdrant)\n")
        print("| files | pages | chunks | seconds | pages/s | chunks/s | share of time in embedding |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        print(
            f"| {ing['files']:.0f} | {ing['pages']:.0f} | {ing['chunks']:.0f} | {ing['seconds']:.1f} "
            f"| {ing['pages/s']:.2f} | {ing['chunks/s']:.1f} | {ing['embed_share']:.0%} |"
        )
        embedder = get_embedder()
        base_texts = _base_chunks(1000)
        base_vecs = embedder.embed(base_texts)
        queries = faq_questions(int(os.environ.get("SPARK_BENCH_RAG_QUERIES", "40")))
        qvecs = embedder.embed(queries)
        rows = []
        for n in scales:
            home = root / f"s{n}"
            t = time.perf_counter()
            fill(home, n, base_texts, base_vecs)
            fill_s = time.perf_counter() - t
            r = latency(home, queries, qvecs)
            rows.append((n, fill_s, r))
        print(f"\n### Query latency, embedded Qdrant ({len(queries)} FAQ questions; k=5 from 50+50 candidates)\n")
        print(
            "| chunks | dense vectors | write s | open s | hybrid p50 ms | hybrid p95 ms | filtered p50 ms "
            "| filtered p95 ms | search() p50 ms | search() p95 ms |"
        )
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for n, fill_s, r in rows:
            kind = "real MiniLM" if n <= len(base_texts) else "synthetic (MiniLM + noise)"
            print(
                f"| {n:,} | {kind} | {fill_s:.1f} | {r['open_s']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} "
                f"| {r['f50']:.0f} | {r['f95']:.0f} | {r['e50']:.0f} | {r['e95']:.0f} |"
            )
        print(
            f"\nfiltered: restricted to 3 of 100 sources. search(): end to end, query embedding included. "
            f"Load average at start: {load:.1f} on {os.cpu_count()} cores (shared machine)."
        )


if __name__ == "__main__":
    main()
