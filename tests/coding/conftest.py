"""Fixtures for the coding tools: a code MCP server over HTTP that lives for the whole module."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from coding.isolation import bubblewrap_works
from core.daemon import free_port
from tests.support.processes import serving_process

# A short CPU limit keeps the suite fast; wall-time tests lower the wall limit per call (timeout_s). A
# generous wall limit keeps the CPU-limit test deterministic on a loaded machine.
SERVER_LIMITS = {
    "SPARK_AGENTS_CODE_WALL_TIME_S": "30",
    "SPARK_AGENTS_CODE_CPU_TIME_S": "3",  # 1 s flaked: filling 512 MB on a loaded machine took more CPU
    "SPARK_AGENTS_CODE_ISOLATION": "bubblewrap",
}


@pytest.fixture(scope="module")
def server_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("code-server-home")
    (home / "secret.txt").write_text("the user's private data\n")
    return home


@pytest.fixture(scope="module")
def code_server(server_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m mcp_servers.code --http` with bubblewrap isolation, shared by the module's tests.

    Its log goes to a file: a stderr pipe nobody drains fills up after ~64 kB of request logs and then
    blocks the server.
    """
    if not bubblewrap_works():
        pytest.skip("bubblewrap is not available")
    port = free_port()
    log = tmp_path_factory.mktemp("code-server-log") / "server.log"
    env = {**SERVER_LIMITS, "SPARK_AGENTS_HOME": str(server_home)}
    url = f"http://127.0.0.1:{port}/mcp"
    argv = [sys.executable, "-m", "mcp_servers.code", "--http", "--port", str(port)]
    with serving_process(argv, url, env=env, log=log) as proc:
        yield url
        assert proc.poll() is None, "the code server died during the tests"
