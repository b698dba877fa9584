"""`spark-agents chat`: an interactive, streaming conversation with slash commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from core.console import run_cli
from core.wire import TurnRequest

HELP = """Commands: /new (new thread)  /threads (list)  /resume ID  /attach PATH (image for the next message)
          /agent NAME|auto (force a specialist)  /history  /help  /quit"""


def _client() -> Any:
    from api.client import ServiceClient
    from api.service import ServiceSettings

    return ServiceClient(ServiceSettings())


def _thread_lines(client: Any) -> list[str]:
    import time

    rows = client.request("GET", "/api/threads")
    return [f"{t['id']}  {time.strftime('%Y-%m-%d %H:%M', time.localtime(t['updated']))}  {t['title']}" for t in rows]


def _history(client: Any, thread_id: str) -> list[dict[str, Any]]:
    return list(client.request("GET", f"/api/threads/{thread_id}")["messages"])


def register(app: typer.Typer) -> None:
    threads_app = typer.Typer(help="List, show, rename and delete conversation threads.", no_args_is_help=True)
    app.add_typer(threads_app, name="threads")

    @threads_app.command("list")
    def threads_list() -> None:
        """One thread a line: id, last activity, title."""
        for line in run_cli(lambda: _thread_lines(_client())):
            print(line)

    @threads_app.command("show")
    def threads_show(thread_id: str) -> None:
        """A thread's messages."""
        for m in run_cli(lambda: _history(_client(), thread_id)):
            who = m["role"] if m["role"] == "user" else f"assistant ({m['agent']})"
            print(f"{who}> {m['content']}")

    @threads_app.command("rename")
    def threads_rename(thread_id: str, title: str) -> None:
        """Give a thread a new title."""
        run_cli(lambda: _client().request("PATCH", f"/api/threads/{thread_id}", json={"title": title}))
        print(f"renamed {thread_id}")

    @threads_app.command("delete")
    def threads_delete(thread_id: str) -> None:
        """Delete a thread and its stored messages."""
        run_cli(lambda: _client().request("DELETE", f"/api/threads/{thread_id}"))
        print(f"deleted {thread_id}")

    @app.command()
    def chat(
        thread: Annotated[str | None, typer.Option("--thread", "-t", help="Resume this thread id.")] = None,
    ) -> None:
        """Chat interactively: streams answers, shows handoffs and tool calls."""
        from cli.main import decide, emit_events
        from core.errors import SparkAgentsError

        client = run_cli(_client)

        def show_history(thread_id: str) -> None:
            try:
                for m in _history(client, thread_id):
                    print(f"{m['role']}> {m['content']}")
            except SparkAgentsError as e:
                typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)

        typer.secho("Spark Agents chat. " + HELP, fg=typer.colors.BRIGHT_BLACK, err=True)
        attachments: list[str] = []
        agent: str | None = None
        while True:
            try:
                line = input("you> ").strip()
            except (EOFError, KeyboardInterrupt):
                print()
                return
            if not line:
                continue
            if line.startswith("/"):
                cmd, _, arg = line.partition(" ")
                arg = arg.strip()
                if cmd in ("/quit", "/exit"):
                    return
                if cmd == "/new":
                    thread, attachments = None, []
                    print("new thread")
                elif cmd == "/threads":
                    try:
                        for row in _thread_lines(client):
                            print(row)
                    except SparkAgentsError as e:
                        typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)
                elif cmd == "/resume" and arg:
                    thread = arg
                    show_history(thread)
                elif cmd == "/history" and thread:
                    show_history(thread)
                elif cmd == "/attach" and arg:
                    attachments.append(str(Path(arg).expanduser().resolve()))
                    print(f"attached {arg} to the next message")
                elif cmd == "/agent" and arg:
                    agent = None if arg == "auto" else arg
                else:
                    print(HELP)
                continue
            print("assistant> ", end="", flush=True)
            events = client.turn(TurnRequest(message=line, thread_id=thread, attachments=attachments, agent=agent))
            try:
                while events is not None:
                    pending = None
                    for event in events:
                        if event.type == "error":
                            typer.secho(f"\nerror: {event.message}", fg=typer.colors.RED, err=True)
                            continue
                        if event.type == "final" and event.thread_id:
                            thread = event.thread_id
                        pending = emit_events(iter([event]), as_json=False) or pending
                    answer = decide(pending, yes=False) if pending is not None else None
                    events = client.turn(TurnRequest(approval=answer)) if answer is not None else None
            except SparkAgentsError as e:
                typer.secho(f"\nerror: {e}", fg=typer.colors.RED, err=True)
            attachments = []
