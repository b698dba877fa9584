"""The knowledge-graph MCP server: extract, query, summarise and render graphs (thin adapter over `kg`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import unquote

import anyio.to_thread
from pydantic import BaseModel, Field

from kg.settings import KGSettings
from mcp_servers.base import ServerSettings, SparkMCP, cancellable
from mcp_servers.common import READS, WRITES, serve
from mcp_servers.prompts import add_prompts
from mcp_servers.sdk import Context, ToolError

if TYPE_CHECKING:
    from kg.build import BuildReport
    from kg.store import GraphStore, KnowledgeGraph

SETTINGS = ServerSettings(KGSettings)
mcp = SparkMCP(
    "kg",
    lifespan=SETTINGS.lifespan,
    instructions=(
        "Knowledge graphs built from the user's text and documents. Use extract_graph to add facts from text "
        "or an ingested source, query_graph to answer 'how is X related to Y' (mode 'path'), 'what do we know "
        "about X' (mode 'neighbours'), a free question (mode 'subgraph'), or a broad question no entity "
        "answers alone, from community summaries (mode 'global'); every fact carries its source and chunk. "
        "graph_stats summarises a graph; render_graph writes an offline HTML view and returns its path. "
        "Resources: kg://graphs (the collections), kg://graphs/{collection} (stats), "
        "kg://graphs/{collection}/entities/{entity} (an entity's neighbourhood), .../graphml and .../view.html."
    ),
)
add_prompts(mcp, ("kg",))


class ExtractResult(BaseModel):
    collection: str
    extractor: str
    chunks: int
    triples: int
    edges_added: int
    nodes_added: int
    merges: list[str] = Field(description="'surface -> entity (reason)' for each folded name")
    nodes: int
    edges: int


class FactOut(BaseModel):
    subject: str
    relation: str
    object: str
    source_id: str
    chunk_id: str
    evidence: str


class CommunityOut(BaseModel):
    id: int
    score: float
    entities: list[str]
    summary: str
    citations: list[int] = Field(description="numbers of the facts (1-based, in `facts`) this summary cites")


class QueryResult(BaseModel):
    mode: str
    matched: list[str]
    facts: list[FactOut]
    paths: list[list[FactOut]] = Field(default_factory=list)
    communities: list[CommunityOut] = Field(default_factory=list, description="mode 'global': summaries used")
    truncated: bool = False
    text: str = Field(description="the facts as lines (mode 'global': the answer and its sources), ready to quote")


class StatsResult(BaseModel):
    collection: str
    nodes: int
    edges: int
    relations: int
    components: int
    sources: int
    merges: int
    types: dict[str, int]
    top_relations: list[str]
    central: list[str]


class RenderOut(BaseModel):
    path: str
    nodes: int
    edges: int
    total_nodes: int
    truncated: bool


def _fail(e: Exception) -> ToolError:
    return ToolError(str(e))


def _store(collection: str | None) -> GraphStore:
    from kg.store import GraphStore

    return GraphStore(collection, SETTINGS.get())


def _fact(f: object) -> FactOut:
    return FactOut(
        subject=f.subject,  # type: ignore[attr-defined]
        relation=f.relation,  # type: ignore[attr-defined]
        object=f.object,  # type: ignore[attr-defined]
        source_id=f.source_id,  # type: ignore[attr-defined]
        chunk_id=f.chunk_id,  # type: ignore[attr-defined]
        evidence=f.evidence,  # type: ignore[attr-defined]
    )


class SourceChunk(BaseModel):
    """One chunk of an ingested document, as rag://sources/{source_id}/chunks gives it."""

    text: str
    chunk_id: str
    title: str | None = None
    page: int | None = None
    heading: str | None = None


NEEDS_CHUNKS = (
    "Building from an ingested source needs its chunks, which the documents server holds: call extract_graph "
    "through the Spark Agents service (or its MCP gateway), which reads them for you, or pass `chunks` as "
    "rag://sources/{source_id}/chunks gives them."
)


@mcp.tool(annotations=WRITES)
async def extract_graph(
    text: str | None = None,
    source_id: str | None = None,
    collection: str | None = None,
    extractor: Literal["offline", "llm"] | None = None,
    chunks: Annotated[
        list[SourceChunk] | None,
        Field(description="the source's chunks; the service fills them in from source_id, leave it out"),
    ] = None,
    *,
    ctx: Context,  # type: ignore[type-arg]
) -> ExtractResult:
    """Extract (subject, relation, object) facts from `text` or an ingested RAG source and merge them into
    the collection's graph. extractor: 'offline' (rule-based, no model) or 'llm' (the supervisor model).
    All or nothing: on any error, or when the request is cancelled, the stored graph is unchanged. Reports
    progress per chunk."""
    from core.errors import SparkAgentsError
    from kg.build import build_graph, source_chunks, text_chunks

    text, source_id = text or None, source_id or None
    if (text is None) == (source_id is None):
        raise ToolError("Give exactly one of text or source_id.")
    if source_id is not None and chunks is None:
        raise ToolError(NEEDS_CHUNKS)

    settings = SETTINGS.get()

    def run(check: Callable[[], None]) -> BuildReport:
        def progress(done: int, total: int) -> None:
            check()  # cancelled: stop before the next chunk; nothing is saved
            anyio.from_thread.run(ctx.report_progress, float(done), float(total), f"chunk {done} of {total}")

        if source_id is not None:
            given = source_chunks(source_id, [c.model_dump() for c in chunks or []])
        else:
            given = text_chunks(text or "", settings=settings)
        return build_graph(given, collection, extractor, settings=settings, progress=progress)

    try:  # extraction can take minutes with a model: keep the server's event loop free meanwhile
        r = await cancellable(run)
    except SparkAgentsError as e:
        raise _fail(e) from None
    return ExtractResult(
        collection=r.collection,
        extractor=r.extractor,
        chunks=r.chunks,
        triples=r.triples,
        edges_added=r.edges_added,
        nodes_added=r.nodes_added,
        merges=[f"{m.surface} -> {m.into} ({m.reason})" for m in r.merges],
        nodes=r.nodes,
        edges=r.edges,
    )


@mcp.tool(annotations=READS)
async def query_graph(
    mode: Literal["neighbours", "path", "subgraph", "global"] | None = None,
    entity: str | None = None,
    target: str | None = None,
    question: str | None = None,
    hops: int = 1,
    limit: int = 50,
    max_hops: int = 4,
    top: int = 3,
    collection: str | None = None,
) -> QueryResult:
    """Query a graph. mode 'neighbours': facts within `hops` of `entity`; 'path': shortest paths from
    `entity` to `target` (at most `max_hops` long); 'subgraph': facts around the entities named in
    `question` (and paths between them); 'global': a broad `question` ("what does this collection cover?")
    answered from the `top` best-matching community summaries, each fact cited [n] with its chunk. Without
    a mode: 'path' when entity and target are given, 'neighbours' for an entity alone, 'subgraph' for a
    question. Unknown entities and unconnected pairs are errors that say so."""
    # The first global question summarises the communities (with a model: one call each): off the event loop.
    store = _store(collection)
    return await anyio.to_thread.run_sync(
        lambda: _query(mode, entity, target, question, hops, limit, max_hops, top, store)
    )


def _query(
    mode: str | None,
    entity: str | None,
    target: str | None,
    question: str | None,
    hops: int,
    limit: int,
    max_hops: int,
    top: int,
    store: GraphStore,
) -> QueryResult:
    from core.errors import SparkAgentsError
    from kg import query as q

    if mode is None:
        mode = "path" if entity and target else "neighbours" if entity else "subgraph"
    try:
        kg = store.load(cached=True)
        if mode == "global":
            return _global(store, kg, question, top)
        if mode == "path":
            if not entity or not target:
                raise ToolError("mode 'path' needs entity and target.")
            p = q.paths(kg, entity, target, max_hops=max_hops)
            paths = [[_fact(f) for f in path] for path in p.paths]
            lines = [" ; ".join(f"{f.subject} —{f.relation}→ {f.object}" for f in path) for path in paths]
            return QueryResult(
                mode=mode, matched=[p.source, p.target], facts=paths[0], paths=paths, text="\n".join(lines)
            )
        if mode == "neighbours":
            if not entity:
                raise ToolError("mode 'neighbours' needs entity.")
            r = q.neighbours(kg, entity, hops=hops, limit=limit)
        else:
            if not question:
                raise ToolError("mode 'subgraph' needs question.")
            r = q.subgraph_for_question(kg, question, hops=hops, limit=limit)
    except SparkAgentsError as e:
        raise _fail(e) from None
    return QueryResult(
        mode=mode, matched=r.matched, facts=[_fact(f) for f in r.facts], truncated=r.truncated, text=r.as_text()
    )


def _global(store: GraphStore, kg: KnowledgeGraph, question: str | None, top: int) -> QueryResult:
    from kg.community import community_index
    from kg.global_query import global_answer

    if not question:
        raise ToolError("mode 'global' needs question.")
    a = global_answer(community_index(store, kg), question, k=top)
    return QueryResult(
        mode="global",
        matched=[f"community {c.id}" for c in a.communities],
        facts=[_fact(f) for f in a.facts],
        communities=[
            CommunityOut(id=c.id, score=c.score, entities=c.entities, summary=c.summary, citations=c.citations)
            for c in a.communities
        ],
        text=a.as_text(),
    )


class HitIn(BaseModel):
    text: str
    source_id: str = ""
    chunk_id: str = ""
    citation: str = ""


class GraphFact(BaseModel):
    text: str = Field(description="the fact as a sentence")
    citation: str = Field(description="the chunk it was extracted from")
    source_id: str
    chunk_id: str


class GraphFacts(BaseModel):
    entities: list[str] = Field(description="graph entities the question and the hits name")
    facts: list[GraphFact]


@mcp.tool(annotations=READS)
async def graph_facts(
    question: str,
    hits: list[HitIn] | None = None,
    collection: str | None = None,
    max_facts: Annotated[int, Field(ge=1, le=50)] = 8,
) -> GraphFacts:
    """Facts from a graph about the entities a question and its document search hits name (mixed retrieval:
    what the graph knows beside the passages found). Empty when there is no graph or it knows none of them."""
    from core.errors import SparkAgentsError
    from kg.mix import mix_retrieve

    store = _store(collection)

    def run() -> GraphFacts:
        mixed = mix_retrieve(store.load(cached=True), question, hits or [], max_facts=max_facts)
        facts = [
            GraphFact(text=e.text, citation=e.citation, source_id=e.source_id, chunk_id=e.chunk_id) for e in mixed.facts
        ]
        return GraphFacts(entities=mixed.entities, facts=facts)

    try:
        return await anyio.to_thread.run_sync(run)
    except SparkAgentsError as e:
        raise _fail(e) from None


@mcp.tool(annotations=READS)
def graph_stats(collection: str | None = None) -> StatsResult:
    """Size, relation and type counts, and the most central entities of a graph."""
    return _stats(_store(collection))


def _stats(store: GraphStore) -> StatsResult:
    from core.errors import SparkAgentsError
    from kg import query as q

    try:
        s = q.stats(store.load(cached=True))
    except SparkAgentsError as e:
        raise _fail(e) from None
    return StatsResult(
        collection=store.collection,
        nodes=s.nodes,
        edges=s.edges,
        relations=s.relations,
        components=s.components,
        sources=s.sources,
        merges=s.merges,
        types=s.types,
        top_relations=[f"{r} ({n})" for r, n in s.top_relations],
        central=[name for name, _ in s.central],
    )


@mcp.tool(annotations=WRITES)
def render_graph(collection: str | None = None, max_nodes: int | None = None) -> RenderOut:
    """Write an offline HTML view (pyvis, no CDN) of the graph, keeping the most central entities, and
    return the file's path."""
    from core.errors import SparkAgentsError
    from kg.view import render

    try:
        store = _store(collection)
        r = render(
            store.load(cached=True),
            store.dir / f"{store.collection}.html",
            max_nodes or store.settings.view_max_nodes,
            title=store.collection,
            settings=store.settings,
        )
    except SparkAgentsError as e:
        raise _fail(e) from None
    return RenderOut(**r.model_dump())


# --- resources ---------------------------------------------------------------------------------------------
# Entity names in URIs are percent-encoded ("Marie%20Curie"); the names complete.


@mcp.resource("kg://graphs", name="graphs", title="Knowledge graphs", mime_type="application/json")
async def graphs_resource() -> list[dict[str, object]]:
    """Every stored collection with its entity and fact counts."""
    from kg.resources import collections

    settings = SETTINGS.get()
    return [c.model_dump() for c in await anyio.to_thread.run_sync(collections, settings)]


@mcp.resource("kg://graphs/{collection}", name="graph", title="A graph's statistics", mime_type="application/json")
async def graph_resource(collection: str) -> StatsResult:
    """Size, relation and type counts, and the most central entities."""
    return await anyio.to_thread.run_sync(_stats, _known(unquote(collection)))


@mcp.resource(
    "kg://graphs/{collection}/entities/{entity}",
    name="entity",
    title="An entity's neighbourhood",
    mime_type="application/json",
)
async def entity_resource(collection: str, entity: str) -> QueryResult:
    """The facts about one entity (one hop), each with its source and chunk."""
    store = _known(unquote(collection))
    return await anyio.to_thread.run_sync(
        lambda: _query("neighbours", unquote(entity), None, None, 1, 200, 4, 3, store)
    )


@mcp.resource(
    "kg://graphs/{collection}/graphml", name="graphml", title="GraphML export", mime_type="application/graphml+xml"
)
async def graphml_resource(collection: str) -> str:
    """The whole graph as GraphML (for Gephi, yEd, networkx)."""
    from kg.resources import graphml

    store = _known(unquote(collection))
    return await anyio.to_thread.run_sync(lambda: graphml(store.load(cached=True)))


@mcp.resource("kg://graphs/{collection}/view.html", name="view", title="Graph view (HTML)", mime_type="text/html")
async def view_resource(collection: str) -> bytes:
    """The offline interactive view (pyvis, no CDN) of the most central entities, as a binary resource."""
    from kg.resources import view_html

    store = _known(unquote(collection))
    return await anyio.to_thread.run_sync(lambda: view_html(store))


def _known(collection: str) -> GraphStore:
    """A collection that exists (a resource of a graph never built is not found, not an empty graph)."""
    from kg.errors import UnknownCollection

    store = _store(collection)
    if not store.exists:
        raise UnknownCollection(f"No graph collection named {collection!r}; kg://graphs lists them.")
    return store


# --- completions -------------------------------------------------------------------------------------------


@mcp.completes("collection")
async def complete_collection(ctx: Context, partial: str, _: dict[str, str]) -> list[str]:  # type: ignore[type-arg]
    from kg.resources import collections

    settings = SETTINGS.get()
    return [
        c.name for c in await anyio.to_thread.run_sync(collections, settings) if c.name.startswith(unquote(partial))
    ]


@mcp.completes("entity")
async def complete_entity(ctx: Context, partial: str, others: dict[str, str]) -> list[str]:  # type: ignore[type-arg]
    """Entity names (and aliases) of the collection in the other arguments (default: the default one)."""
    from kg.resources import entity_names

    store = _store(unquote(others.get("collection") or "") or None)
    return await anyio.to_thread.run_sync(lambda: entity_names(store.load(cached=True), unquote(partial)))


if __name__ == "__main__":
    serve(mcp)
