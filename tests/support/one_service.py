"""One data directory and its resident service for a class of tests whose subject is not a start."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from core.daemon import free_port
from tests.support.processes import stop_services_under
from tests.support.scripted_server import ScriptedServer


@dataclass
class SharedHome:
    home: Path
    env: dict[str, str]  # what each test's environment is set to (the service starts with the first test's)
    scripted: ScriptedServer


class OneService:
    """Base of a test class whose tests share one data directory and its resident service (the service's
    runtime and MCP servers, the rag server's embedding model, loaded once), the model roles on one scripted
    server emptied for each test: starting them is most of such a test's cost.

    For tests of a command or a page, not of a start: a thread of their own is isolation enough, or `empty`
    gives each test what a fresh home shows. A test that restarts the service, changes its environment or
    needs a fresh home keeps a home of its own, outside the class. `ENV` is the class's settings besides the
    scripted roles. Under pytest-xdist the class's home is made once per worker that runs some of its tests."""

    ENV: ClassVar[dict[str, str]] = {}

    def empty(self, home: Path) -> None:
        """What each test starts without; nothing by default."""

    @pytest.fixture(scope="class")
    def shared(self, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedHome]:
        root = tmp_path_factory.mktemp(type(self).__name__)
        with ScriptedServer() as scripted:
            env = {
                "SPARK_AGENTS_HOME": str(root / "spark-home"),
                "SPARK_AGENTS_SERVICE_PORT": str(free_port()),
                **scripted.roles_env(),
                **self.ENV,
            }
            try:
                yield SharedHome(root / "spark-home", env, scripted)
            finally:
                stop_services_under(root)

    @pytest.fixture
    def spark_home(self, spark_home: Path, shared: SharedHome, monkeypatch: pytest.MonkeyPatch) -> Path:
        """Overrides the autouse fixture of this name (after it isolated the test): the class's home."""
        for var, value in shared.env.items():
            monkeypatch.setenv(var, value)
        shared.scripted.reset()
        self.empty(shared.home)
        return shared.home

    @pytest.fixture
    def scripted_roles(self, shared: SharedHome) -> ScriptedServer:
        return shared.scripted
