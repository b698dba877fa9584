"""Knowledge graphs: triple extraction (LLM or offline rules), entity merging, a persisted networkx store,
queries (neighbours, paths, question subgraphs, stats, central entities), communities with summaries and
global questions over them (`kg.community`, `kg.global_query`), mixed graph + vector retrieval (`kg.mix`)
and an offline pyvis view.

The names below are the public API. They load on first use, so `import kg` stays cheap (no networkx,
no pydantic) for callers that only need one part. Queries are functions of `kg.query`; the view is
`kg.view.render`; communities `kg.community.community_index`, global answers `kg.global_query.global_answer`,
mixed retrieval `kg.mix.mix_retrieve`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from kg.build import BuildReport, build_graph, file_chunks, source_chunks, text_chunks
    from kg.errors import (
        AmbiguousEntity,
        ExtractionError,
        GraphCorrupted,
        InvalidTriple,
        KGError,
        NoPath,
        SourceUnavailable,
        UnknownEntity,
    )
    from kg.extract import LLMExtractor, OfflineExtractor, extract_all, get_extractor
    from kg.model import Chunk, Triple
    from kg.settings import KGSettings
    from kg.store import GraphStore, KnowledgeGraph

_WHERE = {
    "BuildReport": "kg.build",
    "build_graph": "kg.build",
    "file_chunks": "kg.build",
    "source_chunks": "kg.build",
    "text_chunks": "kg.build",
    "AmbiguousEntity": "kg.errors",
    "ExtractionError": "kg.errors",
    "GraphCorrupted": "kg.errors",
    "InvalidTriple": "kg.errors",
    "KGError": "kg.errors",
    "NoPath": "kg.errors",
    "SourceUnavailable": "kg.errors",
    "UnknownEntity": "kg.errors",
    "LLMExtractor": "kg.extract",
    "OfflineExtractor": "kg.extract",
    "extract_all": "kg.extract",
    "get_extractor": "kg.extract",
    "Chunk": "kg.model",
    "Triple": "kg.model",
    "KGSettings": "kg.settings",
    "GraphStore": "kg.store",
    "KnowledgeGraph": "kg.store",
}

__all__ = [
    "AmbiguousEntity",
    "BuildReport",
    "Chunk",
    "ExtractionError",
    "GraphCorrupted",
    "GraphStore",
    "InvalidTriple",
    "KGError",
    "KGSettings",
    "KnowledgeGraph",
    "LLMExtractor",
    "NoPath",
    "OfflineExtractor",
    "SourceUnavailable",
    "Triple",
    "UnknownEntity",
    "build_graph",
    "extract_all",
    "file_chunks",
    "get_extractor",
    "source_chunks",
    "text_chunks",
]


__getattr__ = lazy_exports(__name__, _WHERE)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
