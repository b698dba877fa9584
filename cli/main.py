"""`spark-agents`: the command line. Thin: each command calls library code and prints its result.

Each command group is a module of this package with a `register(app)` function.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from core.console import fail, run_cli
from core.wire import ApprovalAnswer, TurnRequest

app = typer.Typer(
    help="Spark Agents: a local multi-agent assistant (coding, documents, images, knowledge graphs).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# `models up|down|status|pull|list|admit|doctor` live in cli/models.py.
models_app = typer.Typer(help="Start, stop, fetch and inspect the model servers.", no_args_is_help=True)
app.add_typer(models_app, name="models")

# Packages that contribute commands; a missing module is skipped, a broken one is reported.
COMMAND_MODULES = [
    "cli.models",
    "cli.vision",
    "cli.documents",
    "cli.graph",
    "cli.chat",
    "cli.service",
    "cli.ui",
]


def emit_events(events: Iterator[Any], as_json: bool) -> Any:
    """Print a turn's events: JSON lines, or the streamed answer with progress on stderr. Returns the
    ApprovalRequest the turn paused on, if it did."""
    pending = None
    for event in events:
        if event.type == "final":
            pending = event.approval
        if as_json:
            print(event.model_dump_json(), flush=True)
            if event.type == "error":
                raise typer.Exit(1)
            continue
        kind = event.type
        if kind == "token":
            print(event.text, end="", flush=True)
        elif kind == "handoff":
            typer.secho(f"→ {event.agent} agent", fg=typer.colors.CYAN, err=True)
        elif kind == "tool_call":
            typer.secho(
                f"  ⚙ {event.server}.{event.tool}({json.dumps(event.arguments)[:200]})", fg=typer.colors.BLUE, err=True
            )
            if event.note:
                typer.secho(f"    ({event.note})", fg=typer.colors.BRIGHT_BLACK, err=True)
        elif kind == "tool_result":
            color = typer.colors.RED if event.is_error else typer.colors.BLUE
            typer.secho(f"  ↳ {event.summary[:200]}", fg=color, err=True)
        elif kind == "approval":
            print(flush=True)
            typer.secho(f"⏸ {event.prompt()}", fg=typer.colors.YELLOW, err=True)
        elif kind == "final":
            if pending is not None:
                continue  # the approval event has said it
            print(flush=True)
            if event.thread_id:
                typer.secho(f"(thread {event.thread_id})", fg=typer.colors.BRIGHT_BLACK, err=True)
            for c in event.citations:
                typer.secho(f"  [{c.get('label', '')}] {c.get('citation', '')}", fg=typer.colors.GREEN)
                for line in str(c.get("snippet") or "").splitlines():  # the quoted line, with its context
                    print(f"      {line}")
        elif kind == "error":
            print(flush=True)
            fail(event.message)
    return pending


PENDING_EXIT = 3  # `ask` leaves a turn waiting for an approval nobody could give here


def decide(request: Any, yes: bool) -> Any:
    """The user's answer to a paused turn: `--yes` (or SPARK_AGENTS_AGENT_ASSUME_YES) approves it, a
    terminal asks, and with neither the turn stays paused (None) for a later `ask "approve <id>"`."""
    from agents.settings import AgentSettings

    if yes or AgentSettings().assume_yes:
        typer.secho(f"approved {request.tool} (--yes)", fg=typer.colors.YELLOW, err=True)
        return ApprovalAnswer(id=request.id, approved=True)
    if not sys.stdin.isatty():
        typer.secho(
            f'Not run: nobody here to approve it. `spark-agents ask "approve {request.id}"` runs it, '
            f'`spark-agents ask "deny {request.id}"` skips it, `--yes` approves in scripts.',
            fg=typer.colors.YELLOW,
            err=True,
        )
        return None
    reply = typer.prompt("Allow it? [y]es / yes for this [t]hread / [N]o", default="n", show_default=False, err=True)
    choice = reply.strip().lower()[:1]
    return ApprovalAnswer(id=request.id, approved=choice in ("y", "t"), scope="thread" if choice == "t" else "once")


def run_turn_with_approvals(client: Any, events: Iterator[Any], as_json: bool, yes: bool) -> Any:
    """Print a turn, answering each approval it pauses on; returns the request left waiting, if any."""
    while (request := emit_events(events, as_json)) is not None:
        answer = decide(request, yes)
        if answer is None:
            return request
        events = client.turn(TurnRequest(approval=answer))
    return None


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="What to ask the assistant.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the typed event stream as JSON lines.")] = False,
    thread: Annotated[str | None, typer.Option("--thread", "-t", help="Continue this thread id.")] = None,
    attach: Annotated[list[str] | None, typer.Option("--attach", "-a", help="Attach an image (repeatable).")] = None,
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="Search only this source id.")] = None,
    agent: Annotated[str | None, typer.Option("--agent", help="Skip routing: coding, rag, vision or kg.")] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Approve every action the turn asks for (deleting, running code).")
    ] = False,
) -> None:
    """Ask one question; the supervisor routes it and the answer streams.

    Before a tool deletes data or runs code the turn asks for approval: on a terminal it asks you; `--yes`
    approves; otherwise it exits with status 3, leaving the turn waiting for `ask "approve <id>"`."""
    from api.client import ServiceClient
    from api.service import ServiceSettings

    def body() -> Any:
        with ServiceClient(ServiceSettings()) as client:
            images = [str(Path(a).expanduser().resolve()) for a in attach or ()]  # the service has its own cwd
            request = TurnRequest(
                message=question, thread_id=thread, attachments=images, sources=source or None, agent=agent
            )
            events = client.turn(request)
            return run_turn_with_approvals(client, events, as_json, yes)

    if run_cli(body) is not None:
        raise typer.Exit(PENDING_EXIT)


@app.command()
def bench(names: Annotated[list[str] | None, typer.Argument(help="Benchmarks to run (default: all).")] = None) -> None:
    """Run benchmarks from the source checkout (bench/); each prints a table."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    if not (root / "bench" / "__main__.py").is_file():
        fail("the benchmarks live in the source checkout (bench/); run this from a git clone")
    raise typer.Exit(subprocess.call([sys.executable, "-m", "bench", *(names or [])], cwd=root))


def _register_commands(argv: list[str]) -> None:
    """Add the other packages' commands — unless the command is one of this module's own (`ask`, the
    most frequent), whose start-up should not pay for importing every package's settings."""
    own = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    if argv and argv[0] in own:
        return
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            raise
        module.register(app)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _register_commands(sys.argv[1:])
    app(prog_name="spark-agents")


if __name__ == "__main__":
    main()
