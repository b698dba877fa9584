"""What a client reads of the library beside search: one chunk by its id (a citation's target), a source's
text whole or by page or section, its chunks (what a knowledge graph is built from), and the candidates a
client completes an id or title from.

The text comes from the indexed chunks (what search and citations refer to), with the overlap between
consecutive chunks removed, so it is there even when the original file has moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, Field

from rag.errors import RagError, SourceNotFound
from rag.models import Chunk, Source, citation

if TYPE_CHECKING:
    from rag.library import Library

T = TypeVar("T")
MIN_OVERLAP = 12  # shorter shared runs between chunks are coincidence, not the splitter's overlap


class CitedChunk(Chunk):
    """A chunk with the citation its search hits carry."""

    citation: str


class Outline(BaseModel):
    """A source's metadata and where its text can be read: pages and sections in document order."""

    source: Source
    pages: list[int] = Field(default_factory=list)
    sections: list[str] = Field(default_factory=list, description="section paths, e.g. 'Install > From source'")
    chunk_ids: list[str] = Field(default_factory=list)


def parse_chunk_id(chunk_id: str) -> tuple[str, int]:
    """`<source id>:<index>` -> (source id, index); a clear error for anything else."""
    sid, sep, index = (chunk_id or "").strip().rpartition(":")
    if not sep or not sid or not index.isdigit():
        raise RagError(f"{chunk_id!r} is not a chunk id: expected '<source id>:<index>', as in a search hit.")
    return sid, int(index)


def read_chunk(library: Library, chunk_id: str) -> CitedChunk:
    """The chunk a citation names, with its citation."""
    sid, index = parse_chunk_id(chunk_id)
    for c in library.chunks(sid):
        if c.index == index:
            return CitedChunk(**c.model_dump(), citation=citation(c.title, c.path, c.page, c.heading))
    raise SourceNotFound(f"The source {sid!r} has no chunk {index}; its chunks are listed in its outline.")


def outline(library: Library, source_id: str) -> Outline:
    source = library.resolve(source_id)
    chunks = library.chunks(source.id)
    return Outline(
        source=source,
        pages=_unique(c.page for c in chunks if c.page is not None),
        sections=_unique(c.heading for c in chunks if c.heading),
        chunk_ids=[c.chunk_id for c in chunks],
    )


class SourceChunks(BaseModel):
    """A source and every chunk of it, in document order: the knowledge graph extracts from these, so its
    facts cite the chunk ids the documents' search hits carry."""

    source: Source
    chunks: list[Chunk]


def source_chunks(library: Library, source_id: str) -> SourceChunks:
    source = library.resolve(source_id)
    return SourceChunks(source=source, chunks=library.chunks(source.id))


def source_text(library: Library, source_id: str, page: int | None = None, section: str | None = None) -> str:
    """A source's text, or one page's or one section's (a section includes its subsections)."""
    source = library.resolve(source_id)
    chunks = library.chunks(source.id)
    if page is not None:
        chunks = [c for c in chunks if c.page == page]
        if not chunks:
            raise SourceNotFound(f"{source.title!r} has no page {page} (pages: {_pages(source)}).")
    if section is not None:
        wanted = section.strip()
        chunks = [c for c in chunks if c.heading and (c.heading == wanted or c.heading.startswith(f"{wanted} > "))]
        if not chunks:
            raise SourceNotFound(f"{source.title!r} has no section {section!r}; its outline lists the sections.")
    return join_chunks([c.text for c in chunks])


def join_chunks(texts: list[str]) -> str:
    """Consecutive chunks as one text: the run a chunk shares with the end of the one before is kept once."""
    out = ""
    for text in texts:
        if not out:
            out = text
            continue
        shared = _overlap(out, text)
        out = out + text[shared:] if shared else f"{out}\n\n{text}"
    return out


def _overlap(before: str, after: str) -> int:
    for n in range(min(len(before), len(after)), MIN_OVERLAP - 1, -1):
        if before.endswith(after[:n]):
            return n
    return 0


def matching_sources(library: Library, partial: str, limit: int = 100) -> list[Source]:
    """Sources whose id starts with `partial` or whose title or file name contains it (case-insensitive)."""
    p = (partial or "").strip().lower()
    found = [
        s
        for s in library.sources()
        if not p or s.id.startswith(p) or p in s.title.lower() or p in s.path.rsplit("/", 1)[-1].lower()
    ]
    return found[:limit]


def _unique(items: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(items))


def _pages(source: Source) -> str:
    return f"1-{source.pages}" if source.pages else "none"
