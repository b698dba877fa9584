"""What every MCP server shares: the command line (stdio by default, `--http` for streamable HTTP)."""

from __future__ import annotations

import argparse
import logging
import sys

from mcp.server.fastmcp import FastMCP
from mcp.server.transport_security import TransportSecuritySettings

LOOPBACK = ("127.0.0.1", "localhost", "::1")
DEFAULT_PORTS = {"gateway": 8810, "rag": 8811, "kg": 8812, "code": 8813, "vision": 8814}


def serve(mcp: FastMCP, argv: list[str] | None = None) -> None:
    """Run `mcp` over stdio, or streamable HTTP with `--http` (loopback by default, Host/Origin checked)."""
    name = mcp.name
    parser = argparse.ArgumentParser(
        prog=f"python -m mcp_servers.{name}",
        description=f"Spark Agents {name} MCP server (stdio by default).",
    )
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="bind address for --http (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORTS.get(name, 8800), help="port for --http")
    args = parser.parse_args(argv)
    # stdout belongs to the protocol on stdio: logs go to stderr.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if not args.http:
        mcp.run("stdio")
        return
    mcp.settings.host, mcp.settings.port = args.host, args.port
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if args.host not in LOOPBACK:
        logging.getLogger(__name__).warning(
            "%s MCP server exposed on %s: anyone who can reach it can call it", name, args.host
        )
        hosts.append(f"{args.host}:*")
        origins.append(f"http://{args.host}:*")
    mcp.settings.transport_security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )
    mcp.run("streamable-http")
