"""`spark-agents ingest`, `sources list|delete`, `search`: the document commands.

Thin clients of the resident service (`api.client`): its rag MCP server is the store's one owner, so these
work while the UI, an IDE or `spark-agents serve` use the same documents.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from core.console import run_cli
from rag.display import safe
from rag.passages import quoted

sources_app = typer.Typer(help="List and delete ingested documents (sources).", no_args_is_help=True)


def _rag(tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """The structured result of one rag tool, called through the service."""
    from api.client import ServiceClient
    from api.service import ServiceSettings

    with ServiceClient(ServiceSettings()) as client:
        return client.tool("rag", tool, arguments).structured or {}


def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files and folders (folders are read recursively).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the ingestion report as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Add documents (PDF, Word, HTML, Markdown, text) to the searchable library."""
    from api.client import ServiceClient
    from api.service import ServiceSettings
    from rag.models import IngestReport

    bar: Any = None

    def on_progress(item: dict[str, Any]) -> None:
        nonlocal bar
        if quiet or not item.get("total"):
            return
        from tqdm import tqdm

        if bar is None:
            stream = typer.get_text_stream("stderr")
            bar = tqdm(total=int(item["total"]), unit="file", desc="ingest", file=stream, leave=True)
        bar.n = int(item.get("done") or 0)
        bar.set_postfix_str((item.get("message") or "")[-40:], refresh=True)
        if bar.n >= bar.total:
            bar.close()

    def body() -> None:
        absolute = [str(Path(p).expanduser().absolute()) for p in paths]  # the service has its own cwd
        with ServiceClient(ServiceSettings()) as client:
            result = client.tool_progress("rag", "ingest_documents", {"paths": absolute}, on_progress)
        if bar is not None:
            bar.close()
        report = IngestReport.model_validate(result.structured)
        if as_json:
            print(report.model_dump_json(indent=2))
            return
        for s in report.added:
            pages = f", {s.pages} pages" if s.pages else ""
            print(f"added      {s.id}  {safe(s.title)} ({s.type}{pages}, {s.chunks} chunks)  {safe(s.path)}")
            for note in s.notes:
                typer.secho(f"           note: {note}", err=True)
        for s in report.unchanged:
            print(f"unchanged  {s.id}  {safe(s.title)}  {safe(s.path)}")
        for old in report.replaced:
            print(f"replaced   {old}")
        for sk in report.skipped:
            typer.secho(f"skipped    {safe(sk.path)}: {safe(sk.reason)}", fg=typer.colors.YELLOW, err=True)
        print(
            f"{len(report.added)} added, {len(report.unchanged)} unchanged, {len(report.replaced)} replaced, "
            f"{len(report.skipped)} skipped; {report.chunks} chunks in {report.seconds:.1f}s"
        )
        if report.skipped and not (report.added or report.unchanged):
            raise typer.Exit(1)

    run_cli(body)


@sources_app.command("list")
def sources_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One source a line: id, type, pages, chunks, text encoding, title, path."""
    from rag.models import Source

    def body() -> None:
        sources = [Source.model_validate(s) for s in _rag("list_sources").get("sources", [])]
        if as_json:
            print(json.dumps([s.model_dump(mode="json") for s in sources], indent=2))
            return
        if not sources:
            typer.secho("no sources yet: `spark-agents ingest PATH...` adds some", err=True)
        for s in sources:
            pages = f"{s.pages}p" if s.pages else "-"
            encoding = s.encoding or "-"
            print(f"{s.id}  {s.type:<8} {pages:>5} {s.chunks:>5}ch  {encoding:<10} {safe(s.title)}  {safe(s.path)}")

    run_cli(body)


@sources_app.command("delete")
def sources_delete(
    source_ids: Annotated[list[str], typer.Argument(help="Source id(s), or unique prefixes of at least 4 characters.")],
) -> None:
    """Delete sources and all their chunks."""
    from rag.models import Source

    def body() -> None:
        for sid in source_ids:
            source = Source.model_validate(_rag("delete_source", {"source_id": sid})["deleted"])
            print(f"deleted {source.id}  {safe(source.title)}")

    run_cli(body)


def search(
    query: Annotated[str, typer.Argument(help="What to look for: a question or a few words.")],
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only search this source id (repeatable).")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="How many chunks to show.", min=1, max=50)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search the documents and print the best chunks with their citations."""
    from rag.models import Hit

    def body() -> None:
        found = _rag("search_documents", {"query": query, "k": k, "source_ids": source or None})
        hits = [Hit.model_validate(h) for h in found.get("hits", [])]
        if as_json:
            print(json.dumps([h.model_dump(mode="json") for h in hits], indent=2))
            return
        if not hits:
            typer.secho("no results (is anything ingested? `spark-agents sources list`)", err=True)
            return
        for i, h in enumerate(hits, start=1):
            typer.secho(f"[{i}] {h.citation}  (score {h.score:.3f}, source {h.source_id})", fg=typer.colors.GREEN)
            for line in quoted(h.text, query, h.title, limit=600).splitlines():  # the lines that match, in context
                print(f"    {line}")
            print()

    run_cli(body)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("search")(search)
    app.add_typer(sources_app, name="sources")
