"""An MCP client written by someone else: the MCP Inspector's CLI mode (npm `@modelcontextprotocol/inspector`)
lists and calls the gateway's tools over stdio (launched from the config `spark-agents mcp list` writes) and
over streamable HTTP. The package is installed once into a cache folder (~/.cache/spark-agents-npm, or
SPARK_AGENTS_NPM_CACHE); the test is skipped only where node/npm are absent or the install fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.mcp_client import http_server
from tests.support.npm import npm_script
from tests.support.scripted_server import ScriptedServer, text

ANSWER = "Answered for the MCP Inspector."
PACKAGE = "@modelcontextprotocol/inspector"


@pytest.fixture(scope="module")
def inspector() -> list[str]:
    return ["node", str(npm_script(PACKAGE, "cli/build/cli.js", "the MCP Inspector CLI")), "--cli"]


def run_inspector(cmd: list[str], *args: str) -> dict:
    done = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    return json.loads(done.stdout)


def test_inspector_over_stdio_from_generated_config(
    inspector: list[str], scripted_roles: ScriptedServer, tmp_path: Path
) -> None:
    scripted_roles.default = text(ANSWER)
    subprocess.run(
        [sys.executable, "-m", "cli", "mcp", "list", "--write", str(tmp_path)], check=True, capture_output=True
    )
    config = tmp_path / "claude_desktop_config.json"
    assert "spark-agents-gateway" in json.loads(config.read_text())["mcpServers"]
    target = ["--config", str(config), "--server", "spark-agents-gateway"]
    listed = run_inspector(inspector, *target, "--method", "tools/list")
    names = {t["name"] for t in listed["tools"]}
    assert "ask_assistant" in names and len(names) > 1
    called = run_inspector(
        inspector, *target, "--method", "tools/call", "--tool-name", "ask_assistant", "--tool-arg", "question=hello"
    )
    assert not called.get("isError")
    assert called["structuredContent"]["answer"] == ANSWER


def test_inspector_over_http(inspector: list[str], scripted_roles: ScriptedServer) -> None:
    scripted_roles.default = text(ANSWER)
    with http_server("mcp_servers.gateway") as url:
        listed = run_inspector(inspector, url, "--transport", "http", "--method", "tools/list")
        assert "ask_assistant" in {t["name"] for t in listed["tools"]}
        called = run_inspector(
            inspector,
            url,
            "--transport",
            "http",
            "--method",
            "tools/call",
            "--tool-name",
            "ask_assistant",
            "--tool-arg",
            "question=hello over http",
        )
        assert called["structuredContent"]["answer"] == ANSWER
        assert called["structuredContent"]["thread_id"]
