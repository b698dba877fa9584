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
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import unquote

import anyio
from pydantic import BaseModel, Field

from core.errors import SparkAgentsError
from mcp_servers.base import ServerSettings, SparkMCP, cancellable
from mcp_servers.common import DELETES, READS, WRITES, serve
from mcp_servers.prompts import add_prompts
from mcp_servers.sdk import (
    Context,
    MCPServer,
    ToolError,
    announce_resource_list_changes,
    notify_resources_changed,
)
from rag import resources
from rag.errors import RagError
from rag.models import Hit, IngestReport, Source

if TYPE_CHECKING:
    from rag.library import Library
    from rag.settings import RagSettings
    from serving.settings import ServingSettings


def _read_settings() -> tuple[RagSettings, ServingSettings]:
    from rag.settings import RagSettings
    from serving.settings import ServingSettings

    return RagSettings(), ServingSettings()


class Documents:
    """The server's one library, opened on first use (opening takes the embedded store's lock) and shared by
    the client sessions (SDK 1.x enters the lifespan once per HTTP session, 2.x once): closed when the last
    one ends. Its settings are read once per process, as the first session opens (this process's edge)."""

    def __init__(self) -> None:
        self.settings = ServerSettings(_read_settings)
        self._library: Library | None = None
        self._lock = threading.Lock()
        self._sessions = 0

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Documents]:
        self.settings.get()
        self._sessions += 1
        try:
            yield self
        finally:
            self._sessions -= 1
            if self._sessions == 0:
                await anyio.to_thread.run_sync(self.close)

    def library(self) -> Library:
        with self._lock:
            if self._library is None:
                from rag.library import Library

                self._library = Library(*self.settings.get())
            return self._library

    def close(self) -> None:
        with self._lock:
            if self._library is not None:
                self._library.close()
                self._library = None


DOCUMENTS = Documents()


def lifespan(server: MCPServer) -> AbstractAsyncContextManager[Documents]:
    return DOCUMENTS.session()


mcp = SparkMCP(
    "rag",
    lifespan=lifespan,
    instructions=(
        "Search the user's documents. Call search_documents with the user's question and answer only from the "
        "returned chunks, citing each fact with the chunk's `citation`. list_sources shows what is indexed; "
        "ingest_documents adds files or folders by path; delete_source removes one. Resources: rag://sources "
        "(what is indexed), rag://sources/{source_id} (a source's pages and sections), its text whole, by page "
        "or by section, its chunks (.../chunks), and rag://chunks/{chunk_id}, the chunk a citation names."
    ),
)
add_prompts(mcp, ("rag",))
announce_resource_list_changes(mcp)  # ingesting and deleting change what rag://sources lists


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

    def run(check: Callable[[], None]) -> IngestReport:
        def on_progress(p: Any) -> None:
            check()  # cancelled: stop between files (what was stored stays whole)
            if p.stage in ("read", "done") and p.total:
                anyio.from_thread.run(ctx.report_progress, float(p.done), float(p.total), p.path or p.message)

        return library(ctx).ingest(paths, progress=on_progress)

    try:
        report = await cancellable(run)
    except SparkAgentsError as e:
        raise ToolError(str(e)) from e
    for skipped in report.skipped:
        await mcp.notify_log(ctx, "warning", f"skipped {skipped.path}: {skipped.reason}")
    if report.added or report.replaced:
        await notify_resources_changed(ctx)
    return report


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

    deleted = Deleted(deleted=await _call(run))
    await notify_resources_changed(ctx)
    return deleted


# --- resources: what a client attaches or a citation points at -----------------------------------------
# Ids in URIs are percent-decoded (a section path has spaces and '>').


async def _read(fn: Any, *args: Any) -> Any:
    """Resource reads run off the event loop; project errors reach the client as MCP errors (SparkMCP)."""
    return await anyio.to_thread.run_sync(fn, *args)


@mcp.resource("rag://sources", name="sources", title="Ingested documents", mime_type="application/json")
async def sources_resource() -> SourceList:
    """Every ingested document: id, title, path, type, pages, chunk count, when it was ingested."""
    return SourceList(sources=await _read(DOCUMENTS.library().sources))  # a static resource has no context (2.x)


@mcp.resource("rag://sources/{source_id}", name="source", title="A document's outline", mime_type="application/json")
async def source_resource(source_id: str, ctx: Context) -> resources.Outline:  # type: ignore[type-arg]
    """A document's metadata, its pages and sections, and its chunk ids."""
    return await _read(resources.outline, library(ctx), unquote(source_id))


@mcp.resource("rag://sources/{source_id}/text", name="source_text", title="A document's text", mime_type="text/plain")
async def source_text_resource(source_id: str, ctx: Context) -> str:  # type: ignore[type-arg]
    """A document's whole indexed text."""
    return await _read(resources.source_text, library(ctx), unquote(source_id))


@mcp.resource(
    "rag://sources/{source_id}/chunks", name="source_chunks", title="A document's chunks", mime_type="application/json"
)
async def source_chunks_resource(source_id: str, ctx: Context) -> resources.SourceChunks:  # type: ignore[type-arg]
    """A document's chunks in order, each with its id, page and section (what a knowledge graph is built from)."""
    return await _read(resources.source_chunks, library(ctx), unquote(source_id))


@mcp.resource("rag://sources/{source_id}/pages/{page}", name="source_page", title="One page", mime_type="text/plain")
async def source_page_resource(source_id: str, page: str, ctx: Context) -> str:  # type: ignore[type-arg]
    """One page of a paged document (PDF)."""
    if not page.isdigit():
        raise RagError(f"A page is a number (got {unquote(page)!r}).")
    return await _read(lambda: resources.source_text(library(ctx), unquote(source_id), page=int(page)))


@mcp.resource(
    "rag://sources/{source_id}/sections/{section}", name="source_section", title="One section", mime_type="text/plain"
)
async def source_section_resource(source_id: str, section: str, ctx: Context) -> str:  # type: ignore[type-arg]
    """One section of a document (with its subsections), by its path as the outline lists it."""
    return await _read(lambda: resources.source_text(library(ctx), unquote(source_id), section=unquote(section)))


@mcp.resource("rag://chunks/{chunk_id}", name="chunk", title="A cited chunk", mime_type="application/json")
async def chunk_resource(chunk_id: str, ctx: Context) -> resources.CitedChunk:  # type: ignore[type-arg]
    """The chunk a search hit or citation names (`chunk_id`), with its text, page, section and citation."""
    return await _read(resources.read_chunk, library(ctx), unquote(chunk_id))


# --- completions: one function per argument name, for every prompt and template that has it --------------


@mcp.completes("source_id")
async def complete_source(ctx: Context, partial: str, _: dict[str, str]) -> list[str]:  # type: ignore[type-arg]
    """Source ids by id prefix, title or file name."""
    return [s.id for s in await _read(resources.matching_sources, library(ctx), unquote(partial))]


@mcp.completes("chunk_id")
async def complete_chunk(ctx: Context, partial: str, _: dict[str, str]) -> list[str]:  # type: ignore[type-arg]
    """Chunk ids: the matching sources' ids until a ':' is typed, then that source's chunks."""
    partial = unquote(partial)
    if ":" not in partial:
        return [f"{s.id}:" for s in await _read(resources.matching_sources, library(ctx), partial)]
    sid = partial.rpartition(":")[0]
    outline = await _read(resources.outline, library(ctx), sid)
    return [c for c in outline.chunk_ids if c.startswith(partial)]


@mcp.completes("page")
async def complete_page(ctx: Context, partial: str, others: dict[str, str]) -> list[str]:  # type: ignore[type-arg]
    """The pages of the source named in `source_id`."""
    return [str(p) for p in (await _outline(ctx, others)).pages if str(p).startswith(partial)]


@mcp.completes("section")
async def complete_section(ctx: Context, partial: str, others: dict[str, str]) -> list[str]:  # type: ignore[type-arg]
    """The sections of the source named in `source_id`, by path prefix (case-insensitive)."""
    p = unquote(partial).lower()
    return [s for s in (await _outline(ctx, others)).sections if s.lower().startswith(p)]


async def _outline(ctx: Context, others: dict[str, str]) -> resources.Outline:  # type: ignore[type-arg]
    if not others.get("source_id"):
        raise RagError("complete source_id first")  # the completer answers with no values
    return await _read(resources.outline, library(ctx), unquote(others["source_id"]))


if __name__ == "__main__":
    serve(mcp)
