"""The official MCP conformance suite's server scenarios that apply to a real server, against the gateway and
every capability server over streamable HTTP; and both protocol revisions' `initialize` answered in kind.
The scenarios left out call the suite's own fixture tools, resources and prompts (tests/support/conformance.py
says which and why)."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess

import httpx
import pytest

from tests.support.conformance import APPLICABLE, NEEDS_FIXTURES, all_server_scenarios, conformance_cli
from tests.support.mcp_client import http_server

pytestmark = pytest.mark.conformance
SERVERS = ["gateway", "rag", "kg", "code", "vision"]


@pytest.fixture(scope="module")
def cli() -> list[str]:
    return conformance_cli()


def test_every_scenario_is_run_or_skipped_for_a_reason(cli: list[str]) -> None:
    assert all_server_scenarios(cli) == set(APPLICABLE) | set(NEEDS_FIXTURES)


@pytest.mark.parametrize("server", SERVERS)
def test_applicable_scenarios_pass(cli: list[str], server: str) -> None:
    failed = {}
    with http_server(f"mcp_servers.{server}") as url:
        for scenario in APPLICABLE:
            done = subprocess.run(
                [*cli, "server", "--url", url, "--scenario", scenario], capture_output=True, text=True, timeout=120
            )
            out = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
            summary = re.search(r"Passed: (\d+)/(\d+), (\d+) failed", out)
            if done.returncode != 0 or not summary or summary[1] != summary[2] or summary[3] != "0":
                failed[scenario] = out[-1500:]
        for version in ("2025-06-18", "2025-11-25"):  # both revisions' clients get their own back
            info = initialize(url, version)
            assert info["protocolVersion"] == version
            assert info["serverInfo"] == {
                "name": f"spark-agents-{server}",
                "version": importlib.metadata.version("spark-agents"),
            }
    assert not failed, "\n\n".join(f"{name}:\n{out}" for name, out in failed.items())


def initialize(url: str, version: str) -> dict:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    r = httpx.post(url, json=body, headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    return next(json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: "))["result"]
