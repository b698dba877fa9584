"""`spark-agents chat`: an interactive, streaming conversation with slash commands."""

from __future__ import annotations

from typing import Annotated

import typer

HELP = """Commands: /new (new thread)  /threads (list)  /resume ID  /attach PATH (image for the next message)
          /agent NAME|auto (force a specialist)  /history  /help  /quit"""


def register(app: typer.Typer) -> None:
    threads_app = typer.Typer(help="List, show, rename and delete conversation threads.", no_args_is_help=True)
    app.add_typer(threads_app, name="threads")

    @threads_app.command("list")
    def threads_list() -> None:
        """One thread a line: id, last activity, title."""
        import time

        from agents.threads import ThreadStore

        for t in ThreadStore().list():
            print(f"{t.id}  {time.strftime('%Y-%m-%d %H:%M', time.localtime(t.updated))}  {t.title}")

    @threads_app.command("show")
    def threads_show(thread_id: str) -> None:
        """A thread's messages."""
        from agents.turn import thread_messages
        from core.console import run_cli

        for m in run_cli(lambda: thread_messages(thread_id)):
            who = m["role"] if m["role"] == "user" else f"assistant ({m['agent']})"
            print(f"{who}> {m['content']}")

    @threads_app.command("rename")
    def threads_rename(thread_id: str, title: str) -> None:
        """Give a thread a new title."""
        from agents.threads import ThreadStore
        from core.console import run_cli

        run_cli(lambda: ThreadStore().rename(thread_id, title))
        print(f"renamed {thread_id}")

    @threads_app.command("delete")
    def threads_delete(thread_id: str) -> None:
        """Delete a thread and its stored messages."""
        from agents.turn import delete_thread
        from core.console import run_cli

        run_cli(lambda: delete_thread(thread_id))
        print(f"deleted {thread_id}")

    @app.command()
    def chat(
        thread: Annotated[str | None, typer.Option("--thread", "-t", help="Resume this thread id.")] = None,
    ) -> None:
        """Chat interactively: streams answers, shows handoffs and tool calls."""
        from agents.cli import emit_events
        from agents.threads import ThreadStore
        from agents.turn import run_turn, thread_messages
        from core.errors import SparkAgentsError

        def show_history(thread_id: str) -> None:
            try:
                for m in thread_messages(thread_id):
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
                    for t in ThreadStore().list():
                        print(f"{t.id}  {t.title}")
                elif cmd == "/resume" and arg:
                    thread = arg
                    show_history(thread)
                elif cmd == "/history" and thread:
                    show_history(thread)
                elif cmd == "/attach" and arg:
                    attachments.append(arg)
                    print(f"attached {arg} to the next message")
                elif cmd == "/agent" and arg:
                    agent = None if arg == "auto" else arg
                else:
                    print(HELP)
                continue
            print("assistant> ", end="", flush=True)
            for event in run_turn(line, thread_id=thread, attachments=attachments, agent=agent):
                if event.type == "error":
                    typer.secho(f"\nerror: {event.message}", fg=typer.colors.RED, err=True)
                    continue
                if event.type == "final" and event.thread_id:
                    thread = event.thread_id
                emit_events(iter([event]), as_json=False)
            attachments = []
