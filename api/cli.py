"""`spark-agents serve` (the OpenAI-compatible API) and `spark-agents mcp list` (client configurations).

`agents.cli` mounts these through `register(app)`; everything heavy is imported inside the commands, so
`spark-agents --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from core.console import fail, run_cli


def register(app: typer.Typer) -> None:
    app.command()(serve)
    mcp_app = typer.Typer(
        help="The MCP servers: client configurations for editors and chat apps.", no_args_is_help=True
    )
    mcp_app.command("list")(mcp_list)
    app.add_typer(mcp_app, name="mcp")


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8800).")] = None,
    token: Annotated[
        str | None,
        typer.Option(help="Require `Authorization: Bearer TOKEN` (prefer SPARK_AGENTS_API_TOKEN: not in `ps`)."),
    ] = None,
) -> None:
    """Serve the assistant as an OpenAI-compatible API (/v1/chat/completions, /v1/models, /health)."""
    import uvicorn

    from api.app import create_app
    from api.catalog import MODELS
    from api.settings import ApiSettings
    from core.net import check_bind

    overrides = {k: v for k, v in {"host": host, "port": port, "token": token}.items() if v is not None}
    settings = ApiSettings(**overrides)
    run_cli(lambda: check_bind(settings.host, settings.token))
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    typer.secho(
        f"Spark Agents API on http://{shown}:{settings.port}/v1 (models: {', '.join(MODELS)}); "
        f"docs at /docs{'; bearer token required' if settings.token else ''}",
        err=True,
    )
    try:
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
    except OSError as e:
        fail(f"cannot listen on {settings.host}:{settings.port} ({e.strerror or e}); pick another --port")


def mcp_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with every configuration.")] = False,
    api_base: Annotated[
        str | None, typer.Option(help="Where `spark-agents serve` listens (default from SPARK_AGENTS_API_*).")
    ] = None,
    python: Annotated[str | None, typer.Option(help="Python that runs the servers (default: this one).")] = None,
    write: Annotated[
        Path | None, typer.Option(help="Also write the files (config.yaml, mcp.json, ...) into this folder.")
    ] = None,
) -> None:
    """Ready-to-paste configuration for Continue, VS Code and Claude Desktop, for every MCP server."""
    from agents.client_configs import client_configs, write_configs

    configs = client_configs(api_base=api_base, python=python)
    if write is not None:
        for path in write_configs(configs, write):
            typer.secho(f"wrote {path}", err=True)
    if as_json:
        print(json.dumps(configs.as_json(), indent=2))
        return
    print(configs.as_text())
