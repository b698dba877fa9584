"""The knowledge-graph routes (`/api/graph/...`): what `spark-agents graph` and the UI's graph page read and
change, answered on the service's machine from its data directory, so a front end pointed at another box
(`SPARK_AGENTS_SERVICE_URL`) shows that box's graphs.

Every route takes an optional `collection` (default: the service's `SPARK_AGENTS_KG_COLLECTION`) and answers
the `kg` library's own models, which the front ends print as they always did. Graph files and views travel
as content: the client writes them where its user asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from kg.build import BuildReport, build_graph, text_chunks
from kg.community import CommunityIndex, community_index, fingerprint
from kg.global_query import GlobalAnswer, global_answer
from kg.query import PathResult, Stats, SubgraphResult, neighbours, paths, stats, subgraph_for_question
from kg.resources import render_aside
from kg.settings import KGSettings
from kg.store import AddReport, GraphStore

T = TypeVar("T")
Collection = Annotated[str | None, Query(description="the graph collection (default: the service's)")]


class GraphStats(BaseModel):
    collection: str
    fingerprint: str = Field(description="changes whenever the graph's entities or facts do")
    stats: Stats
    merges: list[dict[str, Any]] = Field(description="the merge log: every name folded into an entity, and why")


class GraphView(BaseModel):
    collection: str
    html: str = Field(description="the offline pyvis page (no CDN)")
    nodes: int
    total_nodes: int
    truncated: bool


class GraphExport(BaseModel):
    collection: str
    format: Literal["json", "graphml"]
    content: str


class BuildText(BaseModel):
    text: str
    source_id: str | None = Field(None, description="the id the facts cite (default: one from the text's hash)")
    collection: str | None = None
    extractor: Literal["offline", "llm"] | None = None


class Alias(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    canonical: str = Field(min_length=1, max_length=200)


class Reset(BaseModel):
    backup: str | None = Field(description="where the old graph file went; None when there was none")


def graph_router(authorize: Callable[..., None], settings: KGSettings) -> APIRouter:
    """The `/api/graph` routes over the graphs under `settings` (the service's home)."""
    router = APIRouter(prefix="/api/graph", dependencies=[Depends(authorize)], tags=["graph"])

    def store(collection: str | None) -> GraphStore:
        return GraphStore(collection, settings)

    async def off_loop(fn: Callable[[], T]) -> T:  # graphs load, render and summarise in a worker thread
        return await anyio.to_thread.run_sync(fn)

    @router.get("/stats", response_model=GraphStats)
    async def graph_stats(collection: Collection = None) -> GraphStats:
        """Entities, facts, relations, types, the most central entities, and the merge log."""
        s = store(collection)

        def read() -> GraphStats:
            kg = s.load(cached=True)
            return GraphStats(collection=s.collection, fingerprint=fingerprint(kg), stats=stats(kg), merges=kg.merges)

        return await off_loop(read)

    @router.get("/neighbours", response_model=SubgraphResult)
    async def graph_neighbours(entity: str, hops: int = 1, limit: int = 50, collection: Collection = None) -> Any:
        """The facts within `hops` of an entity (found by name, alias or part of its name)."""
        return await off_loop(lambda: neighbours(store(collection).load(cached=True), entity, hops=hops, limit=limit))

    @router.get("/subgraph", response_model=SubgraphResult)
    async def graph_subgraph(question: str, hops: int = 1, limit: int = 50, collection: Collection = None) -> Any:
        """The facts around the entities a question names."""
        return await off_loop(
            lambda: subgraph_for_question(store(collection).load(cached=True), question, hops=hops, limit=limit)
        )

    @router.get("/paths", response_model=PathResult)
    async def graph_paths(source: str, target: str, max_hops: int = 4, collection: Collection = None) -> Any:
        """The shortest paths from one entity to another."""
        return await off_loop(lambda: paths(store(collection).load(cached=True), source, target, max_hops=max_hops))

    @router.get("/global", response_model=GlobalAnswer)
    async def graph_global(question: str, top: int = 3, collection: Collection = None) -> Any:
        """A broad question answered from the best-matching community summaries, every fact cited."""
        s = store(collection)
        return await off_loop(lambda: global_answer(community_index(s, s.load(cached=True)), question, k=top))

    @router.get("/communities", response_model=CommunityIndex)
    async def graph_communities(collection: Collection = None) -> Any:
        """The communities, largest first, each with its summary (cached beside the graph)."""
        return await off_loop(lambda: community_index(store(collection)))

    @router.get("/view", response_model=GraphView)
    async def graph_view(
        max_nodes: int | None = None,
        community: int | None = None,
        colour_by: Literal["type", "community"] = "type",
        title: Annotated[str | None, Query(max_length=200)] = None,
        collection: Collection = None,
    ) -> GraphView:
        """The offline HTML view of the most central entities (optionally one community only)."""
        return await off_loop(lambda: _view(store(collection), max_nodes, community, colour_by, title))

    @router.get("/export", response_model=GraphExport)
    async def graph_export(
        fmt: Annotated[Literal["json", "graphml"], Query(alias="format")] = "json", collection: Collection = None
    ) -> GraphExport:
        """The whole graph as this store's JSON or as GraphML."""
        s = store(collection)
        return GraphExport(collection=s.collection, format=fmt, content=await off_loop(lambda: s.export_text(fmt)))

    @router.post("/import", response_model=AddReport)
    async def graph_import(
        request: Request,
        name: Annotated[str, Query(min_length=1, description="the file's name: its format and the facts' origin")],
        fmt: Annotated[Literal["json", "graphml"] | None, Query(alias="format")] = None,
        collection: Collection = None,
    ) -> Any:
        """Merge a GraphML or JSON graph (the request body) into the collection, through entity merging."""
        data = await request.body()
        return await off_loop(lambda: store(collection).import_data(data, name, fmt))

    @router.post("/build", response_model=BuildReport)
    async def graph_build(body: BuildText) -> Any:
        """Extract facts from text and merge them into the collection (all or nothing)."""
        chunks = text_chunks(body.text, body.source_id, settings=settings)
        return await off_loop(lambda: build_graph(chunks, body.collection, body.extractor, settings=settings))

    @router.put("/aliases", response_model=Alias)
    async def graph_alias(body: Alias, collection: Collection = None) -> Alias:
        """Record that `name` means `canonical` (applies to later builds and queries)."""
        await off_loop(lambda: store(collection).set_alias(body.name, body.canonical))
        return body

    @router.post("/reset", response_model=Reset)
    async def graph_reset(collection: Collection = None) -> Reset:
        """Move the graph file (even a corrupted one) to a backup and start empty."""
        backup = await off_loop(store(collection).reset)
        return Reset(backup=str(backup) if backup else None)

    return router


def _view(
    store: GraphStore,
    max_nodes: int | None,
    community: int | None,
    colour_by: Literal["type", "community"],
    title: str | None,
) -> GraphView:
    """Rendered aside, in a folder of its own: the stored view file is the CLI's to write."""
    title = title or (store.collection if community is None else f"{store.collection}: community {community}")
    result, page = render_aside(store, max_nodes, title=title, colour_by=colour_by, community=community)
    html = page.decode("utf-8")
    return GraphView(
        collection=store.collection,
        html=html,
        nodes=result.nodes,
        total_nodes=result.total_nodes,
        truncated=result.truncated,
    )
