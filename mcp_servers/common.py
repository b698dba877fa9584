"""What every MCP server shares: the command line (stdio by default, `--http` for streamable HTTP)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import ToolAnnotations

from core.errors import ConfigError
from core.net import bearer_token, check_bind, token_matches
from mcp_servers.sdk import MCPServer, http_app

# What each tool does to the world, for clients (and agents/approval.py: a destructive tool asks first).
READS = ToolAnnotations(readOnlyHint=True, openWorldHint=False)
WRITES = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=True, openWorldHint=False)
DELETES = ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=True, openWorldHint=False)
RUNS_CODE = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=False)
ASKS = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=False)

DEFAULT_PORTS = {"gateway": 8810, "rag": 8811, "kg": 8812, "code": 8813, "vision": 8814}


def serve(mcp: MCPServer, argv: list[str] | None = None) -> None:
    """Run `mcp` over stdio, or streamable HTTP with `--http` (loopback by default, Host/Origin checked)."""
    name = getattr(mcp, "key", mcp.name)
    parser = argparse.ArgumentParser(
        prog=f"python -m mcp_servers.{name}",
        description=f"Spark Agents {name} MCP server (stdio by default).",
    )
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="bind address for --http (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORTS.get(name, 8800), help="port for --http")
    parser.add_argument(
        "--token",
        default=os.environ.get("SPARK_AGENTS_MCP_TOKEN") or None,
        help="with --http, require `Authorization: Bearer TOKEN` (prefer SPARK_AGENTS_MCP_TOKEN: not in `ps`); "
        "required off loopback",
    )
    args = parser.parse_args(argv)
    # stdout belongs to the protocol on stdio: logs go to stderr, warnings and errors only unless asked
    # (the SDK logs every request at INFO, through rich: ~1 ms a call and a noisy log).
    level = os.environ.get("SPARK_AGENTS_MCP_LOG_LEVEL", "WARNING").upper()
    level = level if isinstance(logging.getLevelName(level), int) else "WARNING"
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    if not args.http:
        mcp.run("stdio")
        return
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    try:
        check_bind(args.host, args.token, f"the {name} MCP server", "SPARK_AGENTS_MCP_TOKEN")
    except ConfigError as e:
        parser.exit(2, f"error: {e}\n")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        hosts.append(f"{args.host}:*")
        origins.append(f"http://{args.host}:*")
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )
    import uvicorn

    app = http_app(mcp, security)
    uvicorn.run(
        BearerAuth(app, args.token) if args.token else app,
        host=args.host,
        port=args.port,
        log_level=mcp.settings.log_level.lower(),
    )


class BearerAuth:
    """ASGI middleware: HTTP requests need `Authorization: Bearer <token>` (lifespan events pass through)."""

    def __init__(self, app: Any, token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization")
            if not token_matches(bearer_token(given), self.token):
                from starlette.responses import JSONResponse

                body = {"error": "missing or wrong bearer token (Authorization: Bearer <token>)"}
                await JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
                return
        await self.app(scope, receive, send)
