"""Building a graph from text, files or RAG sources' chunks: chunk, extract (all or nothing), merge, save once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kg.canon import acronym_definitions, name_definitions
from kg.errors import ExtractionError, SourceUnavailable
from kg.extract import extract_all, get_extractor
from kg.merge import MergeRecord
from kg.model import Chunk
from kg.settings import KGSettings
from kg.store import GraphStore
from kg.text import split_text


class BuildReport(BaseModel):
    collection: str
    extractor: str
    source_ids: list[str]
    chunks: int
    triples: int
    edges_added: int
    duplicates_skipped: int
    nodes_added: int
    merges: list[MergeRecord]
    # LLM builds: chunks the offline rules extracted because the model's JSON was unusable (ids, in order)
    fallback_chunks: list[str] = []
    nodes: int
    edges: int
    path: str


def text_chunks(text: str, source_id: str | None = None, *, settings: KGSettings) -> list[Chunk]:
    if len(text) > settings.max_text_chars:
        raise ExtractionError(
            f"The text has {len(text):,} characters; the limit is {settings.max_text_chars:,} "
            "(SPARK_AGENTS_KG_MAX_TEXT_CHARS). Split it, or ingest it as a RAG source and build from the source."
        )
    if not text.strip():
        raise ExtractionError("The text is empty: nothing to extract.")
    source_id = source_id or f"text:{hashlib.sha1(text.encode()).hexdigest()[:12]}"
    return [
        Chunk(text=chunk, source_id=source_id, chunk_id=f"{source_id}#{i}@{offset}")
        for i, (offset, chunk) in enumerate(split_text(text, settings.chunk_chars))
    ]


def file_chunks(path: Path, settings: KGSettings) -> list[Chunk]:
    return text_chunks(*file_text(path), settings=settings)


def file_text(path: Path) -> tuple[str, str]:
    """A UTF-8 text file's text and the source id its facts cite (the file's name and a hash of its bytes)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExtractionError(f"No such file: {path}") from None
    except IsADirectoryError:
        raise ExtractionError(f"{path} is a folder: give a text file.") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ExtractionError(
            f"{path} is not UTF-8 text; for PDF/DOCX/HTML ingest it with `spark-agents ingest` and use --source."
        ) from None
    return text, f"file:{path.name}:{hashlib.sha1(data).hexdigest()[:10]}"


_PASSAGE_KEYS = ("text", "source_id", "chunk_id", "title", "page", "heading")


def source_chunks(source_id: str, passages: Iterable[Mapping[str, Any]]) -> list[Chunk]:
    """An ingested document's chunks (`text`, `chunk_id`, `title`, `page`, `heading`, as the documents server's
    `rag://sources/{id}/chunks` gives them) to extract from: the graph's facts then cite the chunk ids the
    documents' search hits carry. The caller reads them from the document store's owner; kg never opens it."""
    chunks = [
        Chunk.model_validate({"source_id": source_id, **{k: p[k] for k in _PASSAGE_KEYS if p.get(k) is not None}})
        for p in passages
    ]
    if not chunks:
        raise SourceUnavailable(f"RAG source {source_id!r} has no chunks (see `spark-agents sources list`).")
    return chunks


def _in_order(chunks: list[Chunk], ids: set[str]) -> list[str]:
    return [c.chunk_id for c in chunks if c.chunk_id in ids]


def document_acronyms(chunks: list[Chunk]) -> dict[str, str]:
    """Acronym -> expansion, and other name -> name ("zstd" -> "Zstandard"), for every definition the chunks
    write out (the first definition wins)."""
    found: dict[str, str] = {}
    for chunk in chunks:
        for acr, expansion in [*acronym_definitions(chunk.text).items(), *name_definitions(chunk.text).items()]:
            found.setdefault(acr, expansion)
    return found


def build_graph(
    chunks: list[Chunk],
    collection: str | None = None,
    extractor: str | None = None,
    *,
    settings: KGSettings,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Extract triples from every chunk, then merge them into the collection in one atomic save.

    Any failure (model error, malformed answer, invalid triple, or `progress(done, total)` raising because
    the caller gave up) raises before the graph is touched.
    """
    name = extractor or settings.extractor
    store = GraphStore(collection, settings)
    store.load()  # a corrupted graph is reported before any (possibly slow) extraction
    if name == "llm" and len(chunks) > settings.max_llm_chunks:
        raise ExtractionError(
            f"That is {len(chunks)} chunks, one model call each; the limit is {settings.max_llm_chunks} "
            "(SPARK_AGENTS_KG_MAX_LLM_CHUNKS). Use --extractor offline or a smaller input."
        )
    ex = get_extractor(name, settings)
    triples = extract_all(chunks, ex, progress)
    acronyms = document_acronyms(chunks)
    with store.update() as kg:
        added = kg.add_triples(triples, settings, acronyms)
        nodes, edges = kg.graph.number_of_nodes(), kg.graph.number_of_edges()
    return BuildReport(
        collection=store.collection,
        extractor=name,
        source_ids=sorted({c.source_id for c in chunks}),
        chunks=len(chunks),
        triples=len(triples),
        edges_added=added.edges_added,
        duplicates_skipped=added.duplicates_skipped,
        nodes_added=added.nodes_added,
        merges=added.merges,
        fallback_chunks=_in_order(chunks, {f.chunk_id for f in getattr(ex, "fallbacks", [])}),
        nodes=nodes,
        edges=edges,
        path=str(store.path),
    )
