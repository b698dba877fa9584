"""The official MCP conformance suite (npm `@modelcontextprotocol/conformance`) and the Node 22 it needs
(Debian's Node 20 lacks `fs.globSync`): the npm registry's `node-linux-<arch>` package holds a Node 22
binary. Both live in the checkout's git-ignored `.node/` (`scripts/install.sh --system` fills it; a test
fills it on first use when npm is there, and again when the versions here change).

Two lines of the suite side by side: 0.1.16 (the 2025 revisions, CI's gate until now) and the 0.2 line under
the npm alias `conformance-next`, which runs a revision's frozen requirement set, 2026-07-28 included."""

from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PREFIX = ROOT / ".node"
PACKAGE = "@modelcontextprotocol/conformance"
NEXT = "conformance-next"  # the 0.2 line's folder under node_modules (an npm alias of PACKAGE)
VERSIONS = {PACKAGE: "0.1.16", NEXT: "0.2.0-alpha.12"}
SUITE = f"{PACKAGE}@{VERSIONS[PACKAGE]}"
NEXT_SUITE = f"{NEXT}@npm:{PACKAGE}@{VERSIONS[NEXT]}"
NODE = f"node-linux-{'arm64' if platform.machine() in ('aarch64', 'arm64') else 'x64'}@22"
REVISIONS = ("2025-11-25", "2026-07-28")  # the 0.2 line's requirement sets

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
    options = ["--prefix", str(PREFIX), "--no-audit", "--no-fund", "--save-exact"]
    return ["npm", "install", *options, NODE, SUITE, NEXT_SUITE]


def _installed(folder: str) -> bool:
    manifest = PREFIX / "node_modules" / folder / "package.json"
    return manifest.exists() and json.loads(manifest.read_text()).get("version") == VERSIONS[folder]


def conformance_cli(line: str = PACKAGE) -> list[str]:
    """`node22 .../dist/index.js` of one line of the suite (PACKAGE or NEXT), installing both into `.node/`
    unless they are there at these versions; skip only without npm (or when the install fails, e.g.
    offline), saying why."""
    node = PREFIX / "node_modules" / NODE.rsplit("@", 1)[0] / "bin" / "node"
    if not (node.exists() and all(_installed(folder) for folder in VERSIONS)):
        if not shutil.which("npm"):
            pytest.skip("npm is not installed: the MCP conformance suite and its Node 22 come from the npm registry")
        done = subprocess.run(install_command(), capture_output=True, text=True, timeout=600)
        if done.returncode != 0 or not (node.exists() and all(_installed(folder) for folder in VERSIONS)):
            wanted = f"{SUITE}, {NEXT_SUITE} and {NODE}"
            pytest.skip(f"could not install {wanted} with npm (offline?): {done.stderr.strip()[-300:]}")
    return [str(node), str(PREFIX / "node_modules" / line / "dist" / "index.js")]


def all_server_scenarios(cli: list[str]) -> set[str]:
    """The server scenarios this release of the suite has (`conformance list --server`)."""
    done = subprocess.run([*cli, "list", "--server"], capture_output=True, text=True, timeout=60, check=True)
    return {line.split()[1] for line in done.stdout.splitlines() if line.strip().startswith("- ")}


# --- the 0.2 line: a revision's requirement set, run in one go ------------------------------------------------
# The scenarios of each set that apply to a real server; the others need fixtures (NEXT_NEEDS_FIXTURES) or are
# run but never scored (NOT_SCORED).
NEXT_APPLICABLE = {
    "2025-11-25": (
        "server-initialize",
        "logging-set-level",
        "ping",
        "completion-complete",
        "tools-list",
        "server-sse-multiple-streams",
        "resources-list",
        "prompts-list",
        "dns-rebinding-protection",
        "server-session-lifecycle",
    ),
    "2026-07-28": (
        "server-stateless",
        "completion-complete",
        "tools-list",
        "server-sse-multiple-streams",
        "resources-list",
        "sep-2164-resource-not-found",
        "prompts-list",
        "dns-rebinding-protection",
        "caching",
    ),
}
INPUT_REQUIRED = (
    "basic-elicitation",
    "basic-sampling",
    "basic-list-roots",
    "request-state",
    "multiple-input-requests",
    "multi-round",
    "missing-input-response",
    "non-tool-request",
    "result-type",
    "unsupported-methods",
    "tampered-state",
    "capability-check",
    "ignore-extra-params",
    "validate-input",
)
NEXT_NEEDS_FIXTURES = NEEDS_FIXTURES | {
    f"input-required-result-{name}": "calls the fixture tools and prompt test_input_required_result_*"
    for name in INPUT_REQUIRED
}
TASKS = ("lifecycle", "capability-negotiation", "wire-fields", "request-state-removal", "mrtr-input")
TASKS += ("request-headers", "dispatch-and-envelope", "status-notifications", "required-task-error", "mrtr-composition")
NOT_SCORED = {f"tasks-{name}": "the tasks extension (run, never scored; the servers run no tasks)" for name in TASKS}
NOT_SCORED |= {
    "http-header-validation": "pending in the suite (run, never scored): SEP-2243 Mcp-Name headers",
    "http-custom-header-server-validation": "pending in the suite (run, never scored): SEP-2243 Mcp-Param headers",
}


def _fails(check: dict[str, str]) -> bool:
    return check["status"] == "FAILURE" or (check["status"] == "WARNING" and check["id"] not in TOLERATED_WARNINGS)


def required_server_scenarios(cli: list[str], revision: str) -> set[str]:
    """The server scenarios `--requirements <revision>` runs: those it requires and those it runs unscored."""
    done = subprocess.run(
        [*cli, "list", "--server", "--requirements", revision], capture_output=True, text=True, timeout=60, check=True
    )
    names, servers = set(), False
    for line in done.stdout.splitlines():
        if line.endswith("(test against a server):") or line.endswith("(test against a client):"):
            servers = "server" in line
        item = re.match(r"\s+- (\S+)(?: \[(\w+)\])?$", line)
        if item and (servers if item[2] is None else item[2] == "server"):
            names.add(item[1])
    return names


# Warnings (a SHOULD unmet) count as failures here, but these, which only the suite's own diagnostic tools can
# set off: the servers' tool and prompt lists never change while they run.
TOLERATED_WARNINGS = {
    "sep-2575-server-sends-tools-list-changed-on-subscription": "needs the suite's tool that changes the tool list",
    "sep-2575-server-sends-prompts-list-changed-on-subscription": "needs the suite's tool that changes the prompts",
}


def run_requirements(cli: list[str], url: str, revision: str, out: Path) -> dict[str, list[str]]:
    """Scenario -> its failed checks (none: it passed), from one `server --requirements <revision>` run
    (one scenario's results per folder of `out`); a warning fails a scenario too, unless tolerated."""
    done = subprocess.run(
        [*cli, "server", "--url", url, "--requirements", revision, "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    results: dict[str, list[str]] = {}
    for folder in out.iterdir() if out.exists() else ():
        name = re.match(r"server-(.+)-\d{4}-\d\d-\d\dT", folder.name)
        checks = json.loads((folder / "checks.json").read_text()) if (folder / "checks.json").exists() else []
        failed = [f"{c['id']}: {c.get('errorMessage', '')}" for c in checks if _fails(c)]
        if name:
            results[name[1]] = failed if checks else ["the suite recorded no checks"]
    if not results:
        raise RuntimeError(f"the conformance suite ran nothing (exit {done.returncode}): {done.stderr[-1500:]}")
    return results
