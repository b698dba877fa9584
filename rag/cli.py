"""`spark-agents ingest`, `sources list|delete`, `search`: the document commands."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from core.console import run_cli

sources_app = typer.Typer(help="List and delete ingested documents (sources).", no_args_is_help=True)


def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files and folders (folders are read recursively).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the ingestion report as JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Add documents (PDF, Word, HTML, Markdown, text) to the searchable library."""
    from rag.library import Library
    from rag.models import Progress

    bar = None

    def on_progress(p: Progress) -> None:
        nonlocal bar
        if quiet:
            return
        from tqdm import tqdm

        if p.stage == "scan":
            bar = tqdm(total=p.total, unit="file", desc="ingest", file=typer.get_text_stream("stderr"), leave=True)
        elif bar is not None and p.stage == "read":
            bar.n = p.done
            bar.set_postfix_str((p.path or "")[-40:], refresh=True)
        elif bar is not None and p.stage == "embed":
            bar.set_postfix_str(f"embedding {p.done}/{p.total} chunks", refresh=True)
        elif bar is not None and p.stage == "done":
            bar.n = p.total
            bar.set_postfix_str("", refresh=True)
            bar.close()

    def body() -> None:
        with Library() as lib:
            report = lib.ingest(paths, progress=on_progress)
        if as_json:
            print(report.model_dump_json(indent=2))
            return
        for s in report.added:
            pages = f", {s.pages} pages" if s.pages else ""
            print(f"added      {s.id}  {s.title} ({s.type}{pages}, {s.chunks} chunks)  {s.path}")
            for note in s.notes:
                typer.secho(f"           note: {note}", err=True)
        for s in report.unchanged:
            print(f"unchanged  {s.id}  {s.title}  {s.path}")
        for old in report.replaced:
            print(f"replaced   {old}")
        for sk in report.skipped:
            typer.secho(f"skipped    {sk.path}: {sk.reason}", fg=typer.colors.YELLOW, err=True)
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
    """One source a line: id, type, pages, chunks, title, path."""
    from rag.library import Library

    def body() -> None:
        with Library() as lib:
            sources = lib.sources()
        if as_json:
            print(json.dumps([s.model_dump(mode="json") for s in sources], indent=2))
            return
        if not sources:
            typer.secho("no sources yet: `spark-agents ingest PATH...` adds some", err=True)
        for s in sources:
            pages = f"{s.pages}p" if s.pages else "-"
            print(f"{s.id}  {s.type:<8} {pages:>5} {s.chunks:>5}ch  {s.title}  {s.path}")

    run_cli(body)


@sources_app.command("delete")
def sources_delete(
    source_ids: Annotated[list[str], typer.Argument(help="Source id(s), or unique prefixes of at least 4 characters.")],
) -> None:
    """Delete sources and all their chunks."""
    from rag.library import Library

    def body() -> None:
        with Library() as lib:
            for sid in source_ids:
                source = lib.resolve(sid)
                lib.delete_source(source.id)
                print(f"deleted {source.id}  {source.title}")

    run_cli(body)


def search(
    query: Annotated[str, typer.Argument(help="What to look for: a question or a few words.")],
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only search this source id (repeatable).")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="How many chunks to show.", min=1, max=100)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search the documents and print the best chunks with their citations."""
    from rag.library import Library

    def body() -> None:
        with Library() as lib:
            hits = lib.search(query, k=k, source_ids=source or None)
        if as_json:
            print(json.dumps([h.model_dump(mode="json") for h in hits], indent=2))
            return
        if not hits:
            typer.secho("no results (is anything ingested? `spark-agents sources list`)", err=True)
            return
        for i, h in enumerate(hits, start=1):
            typer.secho(f"[{i}] {h.citation}  (score {h.score:.3f}, source {h.source_id})", fg=typer.colors.GREEN)
            text = " ".join(h.text.split())
            print(f"    {text[:600]}{'…' if len(text) > 600 else ''}\n")

    run_cli(body)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("search")(search)
    app.add_typer(sources_app, name="sources")
