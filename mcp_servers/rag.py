"""The documents MCP server: ingest files, search them with citations, list and delete sources.

    python -m mcp_servers.rag            # stdio
    python -m mcp_servers.rag --http     # streamable HTTP on 127.0.0.1:8811/mcp

A thin adapter over `rag.library.Library`, held in the server's lifespan: opened on the first call (a
`tools/list` never touches the store) and closed when the server stops. The embedded Qdrant store allows
one process at a time, so stop this server before running `spark-agents ingest` on the same
SPARK_AGENTS_HOME, or use a Qdrant server via SPARK_AGENTS_RAG_QDRANT_URL.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

import anyio
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from pydantic import BaseModel, Field

from core.errors import SparkAgentsError
from mcp_servers.common import DELETES, READS, WRITES, serve
from rag.models import Hit, IngestReport, Source

if TYPE_CHECKING:
    from rag.library import Library


class Documents:
    """The server's one library, opened on first use (opening takes the embedded store's lock)."""

    def __init__(self) -> None:
        self._library: Library | None = None
        self._lock = threading.Lock()

    def library(self) -> Library:
        with self._lock:
            if self._library is None:
                from rag.library import Library

                self._library = Library()
            return self._library

    def close(self) -> None:
        with self._lock:
            if self._library is not None:
                self._library.close()
                self._library = None


@asynccontextmanager
async def lifespan(server: FastMCP) -> AsyncIterator[Documents]:
    documents = Documents()
    try:
        yield documents
    finally:
        await anyio.to_thread.run_sync(documents.close)


mcp = FastMCP(
    "rag",
    lifespan=lifespan,
    instructions=(
        "Search the user's documents. Call search_documents with the user's question and answer only from the "
        "returned chunks, citing each fact with the chunk's `citation`. list_sources shows what is indexed; "
        "ingest_documents adds files or folders by path; delete_source removes one."
    ),
)


def library(ctx: Context) -> Library:  # type: ignore[type-arg]
    documents: Documents = ctx.request_context.lifespan_context
    return documents.library()


async def _call(fn: Any, *args: Any) -> Any:
    try:
        return await anyio.to_thread.run_sync(fn, *args)
    except SparkAgentsError as e:
        raise ToolError(str(e)) from e


class SearchResult(BaseModel):
    query: str
    hits: list[Hit] = Field(description="best chunks first, each with its source, page, score and citation")


class SourceList(BaseModel):
    sources: list[Source]


class Deleted(BaseModel):
    deleted: Source


@mcp.tool(annotations=WRITES)
async def ingest_documents(
    paths: Annotated[list[str], Field(min_length=1, description="files or folders on the server's machine")],
    ctx: Context,  # type: ignore[type-arg]
) -> IngestReport:
    """Add documents (PDF, Word .docx, HTML, Markdown, text) to the library. Folders are read recursively.
    Unchanged files are skipped, changed files replace their old version, unreadable files are listed in
    `skipped` with the reason."""

    def on_progress(p: Any) -> None:
        if p.stage in ("read", "done") and p.total:
            anyio.from_thread.run(ctx.report_progress, float(p.done), float(p.total), p.path or p.message)

    return await _call(lambda: library(ctx).ingest(paths, progress=on_progress))


@mcp.tool(annotations=READS)
async def search_documents(
    query: Annotated[str, Field(description="the question or keywords to look for")],
    k: Annotated[int, Field(ge=1, le=50, description="how many chunks to return")] = 5,
    source_ids: Annotated[
        list[str] | None, Field(description="only search these sources (ids from list_sources)")
    ] = None,
    *,
    ctx: Context,  # type: ignore[type-arg]
) -> SearchResult:
    """Hybrid (semantic + keyword) search over the ingested documents. Returns chunks with a citation
    string (title, file, page or section) to quote in the answer."""
    hits = await _call(lambda: library(ctx).search(query, k=k, source_ids=source_ids))
    return SearchResult(query=query, hits=hits)


@mcp.tool(annotations=READS)
async def list_sources(ctx: Context) -> SourceList:  # type: ignore[type-arg]
    """Every ingested document: id, title, path, type, pages, chunk count and when it was ingested."""
    return SourceList(sources=await _call(lambda: library(ctx).sources()))


@mcp.tool(annotations=DELETES)
async def delete_source(
    source_id: Annotated[str, Field(min_length=1, description="a source id from list_sources (or a unique prefix)")],
    ctx: Context,  # type: ignore[type-arg]
) -> Deleted:
    """Remove a document and all its chunks from the library."""

    def run() -> Source:
        lib = library(ctx)
        source = lib.resolve(source_id)
        lib.delete_source(source.id)
        return source

    return Deleted(deleted=await _call(run))


if __name__ == "__main__":
    serve(mcp)
