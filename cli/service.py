"""`spark-agents serve` and `service up|down|status` (the resident service), `mcp list` (client configurations).

`cli.main` mounts these through `register(app)`; everything heavy is imported inside the commands, so
`spark-agents --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.console import run_cli

if TYPE_CHECKING:
    from api.service import ServiceSettings


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
    port: Annotated[
        int | None, typer.Option(help="Port (default: the home's, 8800 unless SPARK_AGENTS_SERVICE_PORT says).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(help="Also accept `Authorization: Bearer TOKEN` (off loopback; prefer SPARK_AGENTS_API_TOKEN)."),
    ] = None,
) -> None:
    """Run this home's Spark Agents service in the foreground, logs on the terminal: the OpenAI-compatible API
    (/v1/chat/completions, /v1/models) and the native API, both behind the home's token. When the service
    already runs (a command started it), says where and exits."""
    from api.service import ServiceSettings, choose_port, healthy, read_record, run_service
    from api.settings import ApiSettings
    from core.net import check_bind

    service = ServiceSettings()
    record = read_record(service)
    if record is not None and healthy(record.url):
        typer.echo(f"The Spark Agents service already runs for {service.home}: {record.url} (pid {record.pid}).")
        typer.echo(describe_service(record.url, service))
        return
    overrides = {k: v for k, v in {"host": host, "token": token}.items() if v is not None}
    settings = ApiSettings(**overrides)
    run_cli(lambda: check_bind(settings.host, settings.token))
    # the home's port: set, recorded, or chosen now (8800, or a free port when it is taken: said below)
    bound = port if port is not None else run_cli(lambda: choose_port(service))
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    url = f"http://{shown}:{bound}"
    typer.secho(f"Spark Agents service for {service.home} on {url} (Ctrl-C stops it)", err=True)
    typer.secho(describe_service(url, service), err=True)
    run_cli(lambda: run_service(settings.host, bound, service, token=settings.token))


def describe_service(url: str, settings: ServiceSettings) -> str:
    """Where the OpenAI API is, its models and token, and a snippet for Continue and any OpenAI client."""
    from api.catalog import MODELS

    return "\n".join(
        [
            f"OpenAI-compatible API: {url}/v1 — models: {', '.join(MODELS)}",
            f"API key: the token in {settings.token_file} (`spark-agents mcp list --write DIR` puts it in the configs)",
            "",
            "Continue (~/.continue/config.yaml):",
            "  models:",
            "    - name: Spark Agents",
            "      provider: openai",
            "      model: spark-agents",
            f"      apiBase: {url}/v1",
            f"      apiKey: <the token in {settings.token_file}>",
            "",
            "Any OpenAI client:",
            f'  OpenAI(base_url="{url}/v1", api_key=open("{settings.token_file}").read().strip())',
        ]
    )


def service_up() -> None:
    """Start this data directory's service in the background (no-op when it runs)."""
    from api.service import ensure_service

    handle = run_cli(ensure_service)
    print(f"{'started' if handle.started else 'running'}: {handle.url} pid={handle.pid}")


def service_down() -> None:
    """Stop this data directory's service."""
    from api.service import ServiceSettings, stop_service

    print("stopped" if run_cli(lambda: stop_service(ServiceSettings())) else "not running")


def service_status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Whether the service runs, where, how many turns it is running, and how to point an editor at it."""
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
    elif status["running"] and url:
        print(f"running: {url} pid={status['pid']} home={settings.home} active_runs={health.get('active_runs')}")
        print(describe_service(url.rstrip("/"), settings))
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
    no_token: Annotated[
        bool, typer.Option("--no-token", help="Leave a placeholder where the home's token would go (to share).")
    ] = False,
) -> None:
    """Ready-to-paste configuration for Continue, VS Code and Claude Desktop: the OpenAI-compatible API of this
    home's service, with its token as the API key, and every MCP server."""
    from api.client_configs import client_configs, default_api_base, write_configs
    from api.service import ServiceSettings, service_token

    service = ServiceSettings()
    if no_token:
        token = f"<the token in {service.token_file}>"
    else:
        token = service.service_token if service.service_url else service_token(service, create=True)
    typer.secho(f"API key: the token in {service.token_file}", err=True)
    configs = client_configs(api_base or default_api_base(ServiceSettings()), python=python, token=token or "")
    if write is not None:
        for path in write_configs(configs, write):
            typer.secho(f"wrote {path}", err=True)
    if as_json:
        print(json.dumps(configs.as_json(), indent=2))
        return
    print(configs.as_text())
