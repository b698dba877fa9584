"""Shared fixtures: an isolated data directory per test and the scripted OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from serving.llama_server import LocalModelServer
from serving.settings import ServingSettings
from tests.support.home import isolate
from tests.support.processes import stop_services_under
from tests.support.scripted_server import ScriptedServer


@pytest.fixture(autouse=True)
def spark_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own SPARK_AGENTS_HOME and the default profile, whatever the caller's shell says;
    a resident service or local model server started under it (both outlive their starter by design) is
    stopped afterwards."""
    home = tmp_path / "spark-home"
    isolate(monkeypatch, home)
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
    for var, value in scripted.roles_env().items():
        monkeypatch.setenv(var, value)
    return scripted
