"""The data that crosses boundaries (CLI, MCP tools, UI, the knowledge-graph builder): pydantic models."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


def source_id_for(data: bytes) -> str:
    """A source's id: the first 16 hex digits of the SHA-256 of its bytes (same content, same id)."""
    return hashlib.sha256(data).hexdigest()[:16]


class Source(BaseModel):
    """One ingested document."""

    id: str = Field(description="stable id: the first 16 hex digits of the SHA-256 of the file's bytes")
    title: str
    path: str = Field(description="absolute path of the file when it was ingested")
    type: str = Field(description="pdf, docx, html, markdown or text (detected from the content)")
    pages: int | None = Field(None, description="page count (PDF); None for formats without pages")
    chunks: int
    bytes: int
    ingested_at: datetime
    notes: list[str] = Field(default_factory=list, description="e.g. OCR used, legacy text encoding")
    encoding: str | None = Field(
        None, description="text encoding the file was decoded with (utf-8, utf-16-le, cp1252...); None for PDF/Word"
    )


class Chunk(BaseModel):
    """One indexed piece of a source."""

    chunk_id: str = Field(description="<source id>:<index>")
    source_id: str
    index: int
    text: str
    title: str
    path: str
    page: int | None = None
    heading: str | None = Field(None, description="section path, e.g. 'Install > From source'")


def citation(title: str, path: str, page: int | None, heading: str | None) -> str:
    """How a chunk is cited: title, file name, then page or section (invisible characters escaped)."""
    from rag.display import safe

    title, heading = safe(title), safe(heading) if heading else heading
    name = safe(path.replace("\\", "/").rsplit("/", 1)[-1])
    parts = [title if title == name else f"{title} ({name})"]
    if page is not None:
        parts.append(f"p. {page}")
    if heading:
        parts.append(f"§ {heading}")
    return ", ".join(parts)


class Hit(BaseModel):
    """One search result: a chunk with its score and a citation string."""

    text: str
    source_id: str
    chunk_id: str
    title: str
    path: str
    page: int | None = None
    heading: str | None = None
    score: float = Field(description="fused rank score (reciprocal rank fusion), or the reranker's score")
    citation: str


class Skipped(BaseModel):
    """A file that was not ingested, and why."""

    path: str
    reason: str


class IngestReport(BaseModel):
    added: list[Source] = Field(default_factory=list, description="new sources")
    unchanged: list[Source] = Field(default_factory=list, description="already stored with the same content")
    replaced: list[str] = Field(default_factory=list, description="ids of old versions removed by a changed file")
    skipped: list[Skipped] = Field(default_factory=list)
    files: int = 0
    pages: int = 0
    chunks: int = 0
    seconds: float = 0.0


class Progress(BaseModel):
    """One progress event of an ingestion (the CLI draws a bar from these; the UI can stream them)."""

    stage: Literal["scan", "read", "embed", "write", "done"]
    done: int
    total: int
    path: str | None = None
    message: str | None = None
