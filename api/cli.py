"""`spark-agents serve` and `service up|down|status` (the resident service), `mcp list` (client configurations).

`agents.cli` mounts these through `register(app)`; everything heavy is imported inside the commands, so
`spark-agents --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from core.console import run_cli


def register(app: typer.Typer) -> None:
    app.command()(serve)
    mcp_app = typer.Typer(
        help="The MCP servers: client configurations for editors and chat apps.", no_args_is_help=True
    )
    mcp_app.command("list")(mcp_list)
    app.add_typer(mcp_app, name="mcp")
    service_app = typer.Typer(
        help="The resident service that owns the runtime and the stores (started on first use).",
        no_args_is_help=True,
    )
    service_app.command("up")(service_up)
    service_app.command("down")(service_down)
    service_app.command("status")(service_status)
    app.add_typer(service_app, name="service")


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8800).")] = None,
    token: Annotated[
        str | None,
        typer.Option(help="Require `Authorization: Bearer TOKEN` (prefer SPARK_AGENTS_API_TOKEN: not in `ps`)."),
    ] = None,
) -> None:
    """Run the Spark Agents service in the foreground: the OpenAI-compatible API (/v1/chat/completions,
    /v1/models, /health) and the native API; the CLI, the UI and the gateway on this machine use it."""
    from api.catalog import MODELS
    from api.service import run_service
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
    run_cli(lambda: run_service(settings.host, settings.port, token=settings.token, open_openai_api=True))


def service_up() -> None:
    """Start this data directory's service in the background (no-op when it runs)."""
    from api.service import ensure_service

    handle = run_cli(ensure_service)
    print(f"{'started' if handle.started else 'running'}: {handle.url} pid={handle.pid}")


def service_down() -> None:
    """Stop this data directory's service."""
    from api.service import stop_service

    print("stopped" if run_cli(stop_service) else "not running")


def service_status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Whether the service runs, where, and how many turns it is running."""
    import httpx

    from api.service import ServiceSettings, read_record

    settings = ServiceSettings()
    record = read_record(settings)
    url = settings.service_url or (record.url if record else None)
    health: dict[str, object] = {}
    if url:
        try:
            health = httpx.get(f"{url.rstrip('/')}/health", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            health = {}
    status = {
        "running": bool(health),
        "url": url,
        "pid": record.pid if record else None,
        "home": str(settings.home),
        **health,
    }
    if as_json:
        print(json.dumps(status, indent=2))
    elif status["running"]:
        print(f"running: {url} pid={status['pid']} home={settings.home} active_runs={health.get('active_runs')}")
    else:
        print(f"not running (home {settings.home}); any command that needs it starts it")
    if not status["running"]:
        raise typer.Exit(3)


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
