"""`spark-agents graph ...`: build, query (also --global), show, communities, stats, export/import, alias and
reset knowledge graphs.

Thin clients of the resident service (`api.client`), which owns the graphs: every command reads and changes
the graphs of the service's data directory (another machine's, with `SPARK_AGENTS_SERVICE_URL`). Files the
user names (`--file`, `export`, `import`, the HTML view) are read and written here, their content travels.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from core.console import fail, run_cli

graph_app = typer.Typer(help="Build, query and view knowledge graphs.", no_args_is_help=True)

Collection = Annotated[
    str | None, typer.Option("--collection", "-c", help="Graph collection (default: SPARK_AGENTS_KG_COLLECTION).")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(graph_app, name="graph")


def _graph(method: str, route: str, collection: str | None = None, **kwargs: Any) -> Any:
    """One `/api/graph/{route}` request to the service (the collection, when given, as a query parameter)."""
    from api.client import ServiceClient
    from api.service import ServiceSettings

    given = {**kwargs.pop("params", {}), "collection": collection}
    params = {k: v for k, v in given.items() if v is not None}
    with ServiceClient(ServiceSettings()) as client:
        return client.request(method, f"/api/graph/{route}", params=params, **kwargs)


@graph_app.command("build")
def build(
    source: Annotated[str | None, typer.Option("--source", help="An ingested RAG source id.")] = None,
    text: Annotated[str | None, typer.Option("--text", help="Text to extract from.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="A UTF-8 text file to extract from.")] = None,
    extractor: Annotated[
        str | None, typer.Option("--extractor", help="offline (rule-based, no model) or llm (supervisor model).")
    ] = None,
    collection: Collection = None,
    as_json: AsJson = False,
) -> None:
    """Extract triples and merge them into the graph (all or nothing)."""
    from kg.build import BuildReport, file_text

    given = [x for x in (source, text, file) if x is not None]
    if len(given) != 1:
        fail("give exactly one of --source ID, --text TEXT or --file PATH")
    if extractor not in (None, "offline", "llm"):
        fail(f"unknown extractor {extractor!r}: use offline or llm")

    def body() -> None:
        if source is not None:
            _build_from_source(source, collection, extractor, as_json)
            return
        given, source_id = file_text(file) if file is not None else (text or "", None)
        request = {"text": given, "source_id": source_id, "collection": collection, "extractor": extractor}
        report = BuildReport.model_validate(_graph("POST", "build", json=request))
        if as_json:
            print(report.model_dump_json(indent=2))
            return
        print(
            f"{report.collection}: {report.triples} triples from {report.chunks} chunks ({report.extractor}); "
            f"+{report.edges_added} edges, +{report.nodes_added} entities, {len(report.merges)} merges, "
            f"{report.duplicates_skipped} duplicates skipped. Graph: {report.nodes} entities, {report.edges} facts."
        )
        if report.fallback_chunks:
            print(
                f"  {len(report.fallback_chunks)} of {report.chunks} chunks fell back to the offline extractor "
                f"(the model's JSON was unusable): {', '.join(report.fallback_chunks[:10])}"
            )
        for m in report.merges[:20]:
            print(f"  merged {m.surface!r} into {m.into!r} ({m.reason})")
        print(report.path)

    run_cli(body)


def _build_from_source(source: str, collection: str | None, extractor: str | None, as_json: bool) -> None:
    """An ingested source is read from the document store, which the resident service owns: the build
    runs there (its kg server), so it works while the UI or an IDE is using the same data."""
    from api.client import ServiceClient
    from api.service import ServiceSettings

    arguments = {"source_id": source, "collection": collection, "extractor": extractor}
    with ServiceClient(ServiceSettings()) as client:
        r = client.tool("kg", "extract_graph", {k: v for k, v in arguments.items() if v is not None}).structured or {}
    if as_json:
        print(json.dumps(r, indent=2))
        return
    print(
        f"{r['collection']}: {r['triples']} triples from {r['chunks']} chunks ({r['extractor']}); "
        f"+{r['edges_added']} edges, +{r['nodes_added']} entities, {len(r['merges'])} merges. "
        f"Graph: {r['nodes']} entities, {r['edges']} facts."
    )
    for merge in r["merges"][:20]:
        print(f"  merged {merge}")


@graph_app.command("query")
def query(
    entity: Annotated[str | None, typer.Argument(help="Entity whose neighbourhood to show.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Show paths from ENTITY to this entity.")] = None,
    question: Annotated[str | None, typer.Option("--question", "-q", help="Facts relevant to a question.")] = None,
    global_question: Annotated[
        str | None,
        typer.Option("--global", "-g", help="A broad question, answered from community summaries with citations."),
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Communities to answer a --global question from.")] = 3,
    hops: Annotated[int, typer.Option("--hops", help="Neighbourhood depth (1-5).")] = 1,
    max_hops: Annotated[int, typer.Option("--max-hops", help="Longest path to look for with --to.")] = 4,
    limit: Annotated[int, typer.Option("--limit", help="Maximum facts to print.")] = 50,
    collection: Collection = None,
    as_json: AsJson = False,
) -> None:
    """Neighbours of ENTITY, paths ENTITY --to OTHER, the subgraph for --question, or a --global answer."""
    from kg.global_query import GlobalAnswer
    from kg.query import PathResult, SubgraphResult

    if question is None and entity is None and global_question is None:
        fail("give an ENTITY (optionally with --to OTHER), --question TEXT or --global TEXT")

    def body() -> None:
        if global_question is not None:
            answer = GlobalAnswer.model_validate(
                _graph("GET", "global", collection, params={"question": global_question, "top": top})
            )
            print(answer.model_dump_json(indent=2) if as_json else answer.as_text())
            return
        if question is not None:
            params: dict[str, Any] = {"question": question, "hops": hops, "limit": limit}
            result = SubgraphResult.model_validate(_graph("GET", "subgraph", collection, params=params))
        elif to is not None:
            params = {"source": entity or "", "target": to, "max_hops": max_hops}
            paths = PathResult.model_validate(_graph("GET", "paths", collection, params=params))
            if as_json:
                print(paths.model_dump_json(indent=2))
                return
            for i, p in enumerate(paths.paths, 1):
                print(f"path {i}:")
                for f in p:
                    print(f"  {f.sentence()}  [{f.source_id} {f.chunk_id}]")
            return
        else:
            params = {"entity": entity or "", "hops": hops, "limit": limit}
            result = SubgraphResult.model_validate(_graph("GET", "neighbours", collection, params=params))
        if as_json:
            print(result.model_dump_json(indent=2))
            return
        print(f"matched: {', '.join(result.matched)}")
        print(result.as_text() or "(no facts)")
        if result.truncated:
            print(f"(more facts exist; raise --limit above {limit})")

    run_cli(body)


@graph_app.command("show")
def show(
    no_open: Annotated[bool, typer.Option("--no-open", help="Write the HTML but do not open a browser.")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write the HTML.")] = None,
    max_nodes: Annotated[int | None, typer.Option("--max-nodes", help="Keep the N most central entities.")] = None,
    community: Annotated[
        int | None, typer.Option("--community", help="Show only this community (see `graph communities`).")
    ] = None,
    colour_by: Annotated[str, typer.Option("--colour-by", help="Colour entities by 'type' or 'community'.")] = "type",
    collection: Collection = None,
) -> None:
    """Write an offline HTML view of the graph, print its path, and open it."""
    from kg.settings import KGSettings

    if colour_by not in ("type", "community"):
        fail(f"unknown --colour-by {colour_by!r}: use type or community")

    def body() -> None:
        params = {"max_nodes": max_nodes, "community": community, "colour_by": colour_by}
        view = _graph("GET", "view", collection, params=params)
        suffix = f".community-{community}" if community is not None else ""
        path = output or KGSettings().graphs_dir / f"{view['collection']}{suffix}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(view["html"], encoding="utf-8")
        print(path)
        if view["truncated"]:
            typer.secho(
                f"showing the {view['nodes']} most central of {view['total_nodes']} entities (--max-nodes)", err=True
            )
        if not no_open:
            import webbrowser

            webbrowser.open(path.resolve().as_uri())

    run_cli(body)


@graph_app.command("communities")
def communities(
    collection: Collection = None,
    limit: Annotated[int, typer.Option("--limit", help="Communities to list (largest first).")] = 20,
    as_json: AsJson = False,
) -> None:
    """The graph's communities, largest first, each with its summary (cached beside the graph)."""
    from kg.community import CommunityIndex

    def body() -> None:
        index = CommunityIndex.model_validate(_graph("GET", "communities", collection))
        if as_json:
            print(index.model_dump_json(indent=2))
            return
        print(f"{len(index.communities)} communities ({index.summarizer} summaries)")
        for c in index.communities[:limit]:
            print(f"[{c.id}] {c.size} entities, {c.fact_count} facts: {c.summary}")
        if len(index.communities) > limit:
            print(f"(+{len(index.communities) - limit} more; raise --limit)")
        if index.fallbacks:
            typer.secho(f"{index.fallbacks} model summaries failed; extractive ones stand in", err=True)

    run_cli(body)


@graph_app.command("stats")
def stats(
    collection: Collection = None,
    as_json: AsJson = False,
    merges: Annotated[bool, typer.Option("--merges", help="Also list the recorded entity merges.")] = False,
) -> None:
    """Entities, facts, relations, types and the most central entities."""
    from kg.query import Stats

    def body() -> None:
        answer = _graph("GET", "stats", collection)
        s = Stats.model_validate(answer["stats"])
        if merges and not as_json:
            for m in answer["merges"]:
                print(f"merged {m.get('surface')!r} into {m.get('into')!r} ({m.get('reason')}, {m.get('score')})")
        if as_json:
            print(s.model_dump_json(indent=2))
            return
        print(
            f"{answer['collection']}: {s.nodes} entities, {s.edges} facts, {s.relations} relations, "
            f"{s.components} components, {s.sources} sources, {s.merges} merges"
        )
        print("types: " + ", ".join(f"{k} {v}" for k, v in s.types.items()))
        print("top relations: " + ", ".join(f"{r} ({n})" for r, n in s.top_relations))
        print("central: " + ", ".join(name for name, _ in s.central))

    run_cli(body)


@graph_app.command("export")
def export(
    path: Annotated[Path, typer.Argument(help="Output file (.graphml or .json).")],
    collection: Collection = None,
) -> None:
    """Export the graph as GraphML or JSON."""

    def body() -> None:
        fmt = "graphml" if path.suffix.lower() == ".graphml" else "json"
        content = _graph("GET", "export", collection, params={"format": fmt})["content"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        print(path)

    run_cli(body)


@graph_app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="A .graphml or .json file.")],
    collection: Collection = None,
) -> None:
    """Merge a GraphML or JSON graph into the collection."""

    def body() -> None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            fail(f"No such file: {path}")
        except OSError as e:
            fail(f"Cannot import {path}: {e.strerror or e}")
        r = _graph("POST", "import", collection, params={"name": str(path)}, content=data)
        print(f"+{r['edges_added']} edges, +{r['nodes_added']} entities, {len(r['merges'])} merges")

    run_cli(body)


@graph_app.command("alias")
def alias(
    name: Annotated[str, typer.Argument(help="Another name for an entity.")],
    canonical: Annotated[str, typer.Argument(help="The entity it stands for.")],
    collection: Collection = None,
) -> None:
    """Record that NAME means CANONICAL (applies to later builds and queries)."""
    run_cli(lambda: _graph("PUT", "aliases", collection, json={"name": name, "canonical": canonical}))
    print(json.dumps({name: canonical}))


@graph_app.command("reset")
def reset(collection: Collection = None) -> None:
    """Move the graph file (even a corrupted one) to a backup and start empty."""
    backup = run_cli(lambda: _graph("POST", "reset", collection)["backup"])
    print(f"backed up to {backup}" if backup else "nothing to reset")
