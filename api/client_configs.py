"""Client configuration for editors and chat apps: Continue's config.yaml, VS Code's mcp.json and Claude
Desktop's JSON, pointing at `spark-agents serve` (the OpenAI-compatible API) and at every MCP server.

`spark-agents mcp list` prints them; `examples/` holds the same files, generated with placeholder paths
(`python -m api.client_configs` rewrites them).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel

from agents.capabilities import CAPABILITIES

if TYPE_CHECKING:
    from api.service import ServiceSettings

SERVERS: dict[str, str] = {
    "gateway": "the whole assistant (ask_assistant) plus every capability tool, through one server"
} | {c.server: c.server_description for c in CAPABILITIES.values()}
ENV_KEYS = ("SPARK_AGENTS_HOME", "SPARK_AGENTS_PROFILE")
EXAMPLE_PYTHON = "/path/to/spark-agents/.venv/bin/python"
EXAMPLE_FILES = {
    "continue": "continue/config.yaml",
    "vscode": "vscode/mcp.json",
    "claude_desktop": "claude_desktop_config.json",
}


def available_servers() -> list[str]:
    """The MCP servers installed in this checkout (`mcp_servers.<name>` importable)."""
    return [s for s in SERVERS if importlib.util.find_spec(f"mcp_servers.{s}") is not None]


def default_api_base(settings: ServiceSettings) -> str:
    """This home's service: SPARK_AGENTS_SERVICE_URL's, or the home's port on loopback (8800 by default)."""
    from api.service import choose_port

    if settings.service_url:
        return f"{settings.service_url.rstrip('/')}/v1"
    host = settings.service_host if settings.service_host not in ("0.0.0.0", "::") else "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{choose_port(settings)}/v1"


class ClientConfigs(BaseModel):
    api_base: str
    servers: list[str]
    continue_config: dict[str, Any]
    vscode: dict[str, Any]
    claude_desktop: dict[str, Any]

    def continue_yaml(self) -> str:
        header = "# Continue (VS Code / JetBrains / `cn`): ~/.continue/config.yaml, or `cn --config THIS_FILE`\n"
        return header + yaml.safe_dump(self.continue_config, sort_keys=False, allow_unicode=True)

    def files(self) -> dict[str, str]:
        """Relative path -> file text, as written under `examples/`."""
        return {
            EXAMPLE_FILES["continue"]: self.continue_yaml(),
            EXAMPLE_FILES["vscode"]: json.dumps(self.vscode, indent=2) + "\n",
            EXAMPLE_FILES["claude_desktop"]: json.dumps(self.claude_desktop, indent=2) + "\n",
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "api_base": self.api_base,
            "servers": self.servers,
            "continue": self.continue_config,
            "continue_config_yaml": self.continue_yaml(),
            "vscode_mcp_json": self.vscode,
            "claude_desktop_config_json": self.claude_desktop,
        }

    def as_text(self) -> str:
        return "\n".join(
            [
                f"# OpenAI-compatible API of this home's service (started by any command): {self.api_base}",
                f"# MCP servers: {', '.join(self.servers)} (each also serves HTTP: python -m mcp_servers.NAME --http)",
                "",
                "## Continue: ~/.continue/config.yaml",
                self.continue_yaml(),
                "## VS Code: .vscode/mcp.json (workspace) or `MCP: Open User Configuration`",
                json.dumps(self.vscode, indent=2),
                "",
                "## Claude Desktop: claude_desktop_config.json (Settings > Developer > Edit Config)",
                json.dumps(self.claude_desktop, indent=2),
            ]
        )


def client_configs(
    api_base: str,
    python: str | None = None,
    servers: list[str] | None = None,
    env: dict[str, str] | None = None,
    token: str | None = None,
) -> ClientConfigs:
    """Configurations for the given servers (default: those installed), run by `python` (default: this
    interpreter), with `env` passed to them (default: SPARK_AGENTS_HOME/PROFILE when set here)."""
    python = python or sys.executable
    servers = servers if servers is not None else available_servers()
    if env is None:
        env = {k: os.environ[k] for k in ENV_KEYS if os.environ.get(k)}
    if token is None:
        token = os.environ.get("SPARK_AGENTS_API_TOKEN") or None  # callers pass the home's token

    def launch(name: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"command": python, "args": ["-m", f"mcp_servers.{name}"]}
        if env:
            entry["env"] = dict(env)
        return entry

    from api.catalog import MODELS

    models = []
    for model_id, agent in MODELS.items():
        models.append(
            {
                "name": "Spark Agents" if agent is None else f"Spark Agents ({agent})",
                "provider": "openai",
                "model": model_id,
                "apiBase": api_base,
                "apiKey": token or "YOUR-SPARK-AGENTS-TOKEN",
                "roles": ["chat", "edit", "apply"] if agent is None else ["chat"],
            }
        )
    continue_config = {
        "name": "Spark Agents",
        "version": "0.1.0",
        "schema": "v1",
        "models": models,
        "mcpServers": [{"name": f"spark-agents-{s}", "type": "stdio", **launch(s)} for s in servers],
    }
    vscode = {"servers": {f"spark-agents-{s}": {"type": "stdio", **launch(s)} for s in servers}}
    claude = {"mcpServers": {f"spark-agents-{s}": launch(s) for s in servers}}
    return ClientConfigs(
        api_base=api_base, servers=servers, continue_config=continue_config, vscode=vscode, claude_desktop=claude
    )


def example_configs() -> ClientConfigs:
    """What `examples/` holds: every server, the default API address, placeholder paths and token."""
    return client_configs(
        api_base="http://127.0.0.1:8800/v1", python=EXAMPLE_PYTHON, servers=list(SERVERS), env={}, token=""
    )


def write_configs(configs: ClientConfigs, folder: Path) -> list[Path]:
    written = []
    for rel, text in configs.files().items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_configs(example_configs(), Path(__file__).resolve().parent.parent / "examples"):
        print(p)
