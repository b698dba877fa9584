"""Continue's own CLI (npm `@continuedev/cli`, `cn -p`, non-interactive) answers a prompt through
the home's auto-started service, configured by the config.yaml that `spark-agents mcp list --write` generates.

Installed once into ~/.cache/spark-agents-npm (or SPARK_AGENTS_NPM_CACHE); skipped only where node/npm are
absent or the install fails. The MCP servers are dropped from the config here (Continue would start five
Python processes); the Inspector tests cover MCP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from api.service import ServiceSettings, ensure_service
from tests.support.npm import npm_script
from tests.support.scripted_server import ScriptedServer, text

PACKAGE = "@continuedev/cli"


@pytest.fixture(scope="module")
def continue_cli() -> list[str]:
    return ["node", str(npm_script(PACKAGE, "dist/cn.js", "Continue's CLI"))]


def test_continue_cli_answers_through_our_api(
    continue_cli: list[str], scripted_roles: ScriptedServer, tmp_path: Path
) -> None:
    scripted_roles.default = text("Hello from Spark Agents, via Continue.")
    url = ensure_service(ServiceSettings()).url  # the home's service, auto-started as any command would
    subprocess.run(
        [sys.executable, "-m", "cli", "mcp", "list", "--write", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    config_path = tmp_path / "continue" / "config.yaml"
    config = yaml.safe_load(config_path.read_text())
    assert config["models"][0]["apiBase"] == f"{url}/v1"  # the address and the token, written for the editor
    assert config["models"][0]["apiKey"] == ServiceSettings().token_file.read_text().strip()
    config["mcpServers"] = []
    config_path.write_text(yaml.safe_dump(config))
    home = tmp_path / "cn-home"  # Continue keeps its state under $HOME/.continue
    home.mkdir()
    done = subprocess.run(
        [*continue_cli, "-p", "Say hello", "--config", str(config_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HOME": str(home)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "Hello from Spark Agents, via Continue."
    # It went through our API to the model: Continue's prompt reached the supervisor.
    assert any("Say hello" in str(m.get("content")) for r in scripted_roles.chat_requests for m in r["messages"])
