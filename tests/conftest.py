"""Shared fixtures: an isolated data directory per test and the scripted OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.daemon import free_port
from serving.llama_server import LocalModelServer
from serving.settings import ServingSettings
from tests.support.processes import stop_services_under
from tests.support.scripted_server import ScriptedServer

ROLE_VARS = [
    f"SPARK_AGENTS_{r}_{k}"
    for r in ("SUPERVISOR", "CODER", "VISION", "EMBEDDINGS")
    for k in ("URL", "MODEL", "API_KEY")
]


@pytest.fixture(autouse=True)
def spark_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own SPARK_AGENTS_HOME and the default profile, whatever the caller's shell says;
    a resident service or local model server started under it (both outlive their starter by design) is
    stopped afterwards."""
    home = tmp_path / "spark-home"
    monkeypatch.setenv("SPARK_AGENTS_HOME", str(home))
    monkeypatch.setenv("SPARK_AGENTS_PROFILE", "local")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for var in ROLE_VARS + [
        "SPARK_AGENTS_LOCAL_PORT",
        "SPARK_AGENTS_LOCAL_MODEL_PATH",
        "SPARK_AGENTS_SERVICE_URL",
        "SPARK_AGENTS_SERVICE_TOKEN",
    ]:
        monkeypatch.delenv(var, raising=False)
    # the home's service on a port of its own: tests running side by side never race for the well-known 8800
    # (tests/api/test_one_address.py unsets it to test how a home gets its port)
    monkeypatch.setenv("SPARK_AGENTS_SERVICE_PORT", str(free_port()))
    yield home
    stop_services_under(tmp_path)  # the test's home, or any other home a test made under its folder
    if (home / "run" / "llama-server.json").exists():
        LocalModelServer(ServingSettings(home=home, profile="local")).stop()  # whatever profile the test set


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def scripted_roles(scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    """Point the supervisor and coder roles at the scripted server."""
    for role in ("SUPERVISOR", "CODER"):
        monkeypatch.setenv(f"SPARK_AGENTS_{role}_URL", scripted.url)
        monkeypatch.setenv(f"SPARK_AGENTS_{role}_MODEL", "scripted-model")
    return scripted
