"""Fixtures for tests that drive the agent graph; conftest modules import the ones they use."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest

from agents.runtime import BlockingRuntime
from agents.settings import AgentSettings
from core.daemon import free_port
from rag.settings import RagSettings
from serving.settings import ServingSettings
from tests.support.home import isolate
from tests.support.processes import stop_services_under
from tests.support.scripted_server import ScriptedServer
from tests.support.turns import lent, reset_runtime

WARRANTY = (
    "# Warranty\n\nThe Spark Widget carries a warranty period of three years from the date of purchase.\n\n"
    "# Returns\n\nReturns are accepted within 30 days with the original receipt.\n"
)
SPARK_DOC = Path(__file__).resolve().parents[2] / "examples" / "documents" / "dgx-spark.md"


def warranty_file(folder: Path) -> Path:
    doc = folder / "warranty.md"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(WARRANTY)
    return doc


def ingest(*docs: Path) -> dict[str, str]:
    """Into the environment's data directory, before a runtime's rag server opens (and locks) the store;
    returns title -> source id of what was added."""
    from rag.library import Library

    with Library(RagSettings(), ServingSettings()) as library:
        added = library.ingest(list(docs)).added
    assert added
    return {source.title: source.id for source in added}


@pytest.fixture(autouse=True)
def fresh_runtime() -> Iterator[None]:
    """Each test gets its own runtime (graph, checkpointer, MCP sessions), closed afterwards."""
    reset_runtime()
    yield
    reset_runtime()


@pytest.fixture
def llm_routing(monkeypatch: pytest.MonkeyPatch, scripted_roles: object) -> object:
    """Behave like gpt-oss: the supervisor model routes with handoff tool calls."""
    monkeypatch.setenv("SPARK_AGENTS_AGENT_ROUTING", "llm")
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "false")
    return scripted_roles


@dataclass
class Shared:
    env: dict[str, str]  # what each test's environment is set to (an MCP server started mid-test inherits it)
    scripted: ScriptedServer
    runtime: BlockingRuntime
    docs: dict[str, Path]  # ingested before the runtime started, by file name
    sources: dict[str, str]  # their title -> source id


class OneRuntime:
    """Base of a test class whose tests share one runtime (graph, checkpointer, MCP servers), one data directory
    and one scripted model server, built once for the class: starting them is most of a turn test's cost.

    For tests whose subject is a turn, not a start: a thread of their own is isolation enough. A test that
    inspects the data directory, writes to a store, changes the environment (a runtime is built with its
    settings) or counts server starts keeps a runtime of its own, outside the class. `ENV` is the class's
    settings besides the scripted roles; `documents(folder)` the files ingested before the runtime starts.
    Under pytest-xdist a class's fixture is built once per worker that runs some of its tests."""

    ENV: ClassVar[dict[str, str]] = {}

    def documents(self, folder: Path) -> list[Path]:
        return []

    @pytest.fixture(scope="class")
    def shared(self, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
        root = tmp_path_factory.mktemp(type(self).__name__)
        with ScriptedServer() as scripted, pytest.MonkeyPatch.context() as mp:
            env = {
                "SPARK_AGENTS_HOME": str(root / "spark-home"),
                "SPARK_AGENTS_SERVICE_PORT": str(free_port()),
                **scripted.roles_env(),
                **self.ENV,
            }
            isolate(mp, root / "spark-home")
            for var, value in env.items():
                mp.setenv(var, value)
            docs = self.documents(root / "docs")
            sources = ingest(*docs) if docs else {}
            runtime = BlockingRuntime(ServingSettings(), AgentSettings())
            try:
                yield Shared(env, scripted, runtime, {doc.name: doc for doc in docs}, sources)
            finally:
                runtime.close()
                stop_services_under(root)

    @pytest.fixture(autouse=True)
    def fresh_runtime(self, shared: Shared, spark_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        """Overrides the autouse fixture of this name: the class's runtime and environment, the scripted server
        emptied of the last test's script and requests."""
        for var, value in shared.env.items():
            monkeypatch.setenv(var, value)
        shared.scripted.reset()
        with lent(shared.runtime):
            yield

    @pytest.fixture
    def scripted_roles(self, shared: Shared) -> ScriptedServer:
        return shared.scripted

    @pytest.fixture
    def llm_routing(self, shared: Shared) -> ScriptedServer:
        assert shared.env.get("SPARK_AGENTS_AGENT_ROUTING") == "llm", "the class's ENV routes by the model"
        return shared.scripted
