"""The official MCP conformance suite (npm `@modelcontextprotocol/conformance`) and the Node 22 it needs
(Debian's Node 20 lacks `fs.globSync`): the npm registry's `node-linux-<arch>` package holds a Node 22
binary. Both live in the checkout's git-ignored `.node/` (`scripts/install.sh --system` fills it; a test
fills it on first use when npm is there)."""

from __future__ import annotations

import platform
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PREFIX = ROOT / ".node"
SUITE = "@modelcontextprotocol/conformance@0.1.16"
NODE = f"node-linux-{'arm64' if platform.machine() in ('aarch64', 'arm64') else 'x64'}@22"

# The server scenarios that apply to a real server, and the protocol revisions the suite files them under.
APPLICABLE = {
    "server-initialize": ("2025-06-18", "2025-11-25"),
    "ping": ("2025-06-18", "2025-11-25"),
    "logging-set-level": ("2025-06-18", "2025-11-25"),
    "completion-complete": ("2025-06-18", "2025-11-25"),
    "tools-list": ("2025-06-18", "2025-11-25"),
    "resources-list": ("2025-06-18", "2025-11-25"),
    "prompts-list": ("2025-06-18", "2025-11-25"),
    "dns-rebinding-protection": ("2025-11-25",),
    "server-sse-multiple-streams": ("2025-11-25",),
}
# The rest call the suite's own fixture tools, resources and prompts (`test_simple_text`, `test://static-text`,
# `test_simple_prompt`, ...), which a real server does not have.
NEEDS_FIXTURES = {
    "tools-call-simple-text": "calls the fixture tool test_simple_text",
    "tools-call-image": "calls the fixture tool test_image_content",
    "tools-call-audio": "calls the fixture tool test_audio_content",
    "tools-call-embedded-resource": "calls the fixture tool test_embedded_resource",
    "tools-call-mixed-content": "calls the fixture tool test_multiple_content_types",
    "tools-call-with-logging": "calls the fixture tool test_tool_with_logging",
    "tools-call-error": "calls the fixture tool test_error_handling",
    "tools-call-with-progress": "calls the fixture tool test_tool_with_progress",
    "tools-call-sampling": "calls the fixture tool test_sampling",
    "tools-call-elicitation": "calls the fixture tool test_elicitation",
    "json-schema-2020-12": "looks for the fixture tool json_schema_2020_12_tool",
    "elicitation-sep1034-defaults": "calls the fixture tool test_elicitation_sep1034_defaults",
    "elicitation-sep1330-enums": "calls the fixture tool test_elicitation_sep1330_enums",
    "server-sse-polling": "calls the fixture tool test_reconnection (and needs SSE resumption)",
    "resources-read-text": "reads the fixture resource test://static-text",
    "resources-read-binary": "reads the fixture resource test://static-binary",
    "resources-templates-read": "reads the fixture template test://template/{id}/data",
    "resources-subscribe": "subscribes to a fixture resource (the servers offer no subscriptions)",
    "resources-unsubscribe": "unsubscribes from a fixture resource (the servers offer no subscriptions)",
    "prompts-get-simple": "gets the fixture prompt test_simple_prompt",
    "prompts-get-with-args": "gets the fixture prompt test_prompt_with_arguments",
    "prompts-get-embedded-resource": "gets the fixture prompt test_prompt_with_embedded_resource",
    "prompts-get-with-image": "gets the fixture prompt test_prompt_with_image",
}


def install_command() -> list[str]:
    return ["npm", "install", "--prefix", str(PREFIX), "--no-audit", "--no-fund", NODE, SUITE]


def conformance_cli() -> list[str]:
    """`node22 .../conformance/dist/index.js`, installing into `.node/` if needed; skip only without npm
    (or when the install fails, e.g. offline), saying why."""
    node = PREFIX / "node_modules" / NODE.rsplit("@", 1)[0] / "bin" / "node"
    cli = PREFIX / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    if not (node.exists() and cli.exists()):
        if not shutil.which("npm"):
            pytest.skip("npm is not installed: the MCP conformance suite and its Node 22 come from the npm registry")
        done = subprocess.run(install_command(), capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or not (node.exists() and cli.exists()):
            pytest.skip(f"could not install {SUITE} and {NODE} with npm (offline?): {done.stderr.strip()[-300:]}")
    return [str(node), str(cli)]


def all_server_scenarios(cli: list[str]) -> set[str]:
    """The server scenarios this release of the suite has (`conformance list --server`)."""
    done = subprocess.run([*cli, "list", "--server"], capture_output=True, text=True, timeout=60, check=True)
    return {line.split()[1] for line in done.stdout.splitlines() if line.strip().startswith("- ")}
