"""`spark-agents ui`: run the Streamlit app (bound to loopback unless told otherwise)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

import ui

APP = Path(ui.__file__).with_name("app.py")


def streamlit_command(host: str, port: int, theme: str | None = None) -> list[str]:
    """The `streamlit run` command line for the app (no browser, no telemetry, no file watcher)."""
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]
    if theme:
        cmd += ["--theme.base", theme]
    return cmd


def register(app: typer.Typer) -> None:
    @app.command("ui")
    def ui(
        port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8501,
        host: Annotated[
            str, typer.Option(help="Address to bind; 127.0.0.1 keeps the app private to this machine.")
        ] = "127.0.0.1",
        theme: Annotated[
            str | None, typer.Option(help="Start in the light or dark theme (Settings in the app's menu switches).")
        ] = None,
    ) -> None:
        """Open the web app: chat, documents, knowledge graph and models (Streamlit)."""
        from core.console import fail

        if theme not in (None, "light", "dark"):
            fail(f"--theme must be light or dark, not {theme!r}")
        if host not in ("127.0.0.1", "localhost", "::1"):
            typer.secho(
                f"warning: binding to {host} exposes the assistant (and its tools) to the network.",
                fg=typer.colors.YELLOW,
                err=True,
            )
        typer.echo(f"Spark Agents UI on http://{host}:{port}  (Ctrl-C stops it)", err=True)
        cmd = streamlit_command(host, port, theme)
        if os.name == "posix":  # become the server: signals (Ctrl-C, SIGTERM) reach it directly
            sys.stderr.flush()
            os.execv(cmd[0], cmd)
        try:
            code = subprocess.call(cmd)
        except KeyboardInterrupt:
            code = 0
        raise typer.Exit(code)
