"""A client on one data directory pointed at a service on another (`SPARK_AGENTS_SERVICE_URL`, as on a team
box): the Models page, the graph page and `spark-agents graph query` describe the service's machine — its
model servers, its profile, its graphs — and never read or write the client's own home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.daemon import free_port
from kg.build import build_graph, text_chunks
from kg.settings import KGSettings
from tests.api.conftest import serve_process
from tests.kg.conftest import CORPUS
from tests.support.scripted_server import ScriptedServer
from tests.ui.conftest import open_app


def test_a_client_elsewhere_sees_the_services_machine(
    tmp_path: Path, spark_home: Path, scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    service_home = tmp_path / "service-box"
    settings = KGSettings(home=service_home)
    built = build_graph(text_chunks(CORPUS, source_id="doc:corpus", settings=settings), settings=settings)
    service_env = {
        "SPARK_AGENTS_HOME": str(service_home),
        "SPARK_AGENTS_PROFILE": "local",
        "SPARK_AGENTS_API_TOKEN": "team-token",
        "SPARK_AGENTS_SUPERVISOR_URL": scripted.url,
        "SPARK_AGENTS_SUPERVISOR_MODEL": "scripted-model",
    }
    with serve_process(env=service_env) as url:
        # this machine: another home and profile, and a supervisor URL where nothing listens
        client_env = {
            "SPARK_AGENTS_HOME": str(spark_home),
            "SPARK_AGENTS_PROFILE": "spark-20b",
            "SPARK_AGENTS_SERVICE_URL": url,
            "SPARK_AGENTS_SERVICE_TOKEN": "team-token",
            "SPARK_AGENTS_SUPERVISOR_URL": f"http://127.0.0.1:{free_port()}/v1",
        }
        for name, value in client_env.items():
            monkeypatch.setenv(name, value)

        r = subprocess.run(
            [sys.executable, "-m", "cli", "graph", "query", "Warsaw", "--to", "France"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **client_env},
        )
        assert r.returncode == 0, r.stderr
        assert "Paris —capital of→ France" in r.stdout and "doc:corpus" in r.stdout

        models = open_app("models")
        assert not models.exception
        assert models.caption[0].value.startswith("Profile: **local**")
        rows = {row["role"]: row for row in models.dataframe[0].value.to_dict("records")}
        assert rows["supervisor"]["health"] == "🟢 up" and rows["supervisor"]["endpoint"] == scripted.url
        assert models.selectbox(key="plan_profile").value == "local"
        assert [r["server"] for r in models.dataframe[1].value.to_dict("records")][-1] == "TOTAL"

        graph = open_app("graph")
        assert not graph.exception
        metrics = {m.label: m.value for m in graph.metric}
        assert metrics["Entities"] == str(built.nodes) and metrics["Facts"] == str(built.edges)

    assert not (spark_home / "graphs").exists(), "the client's own home holds no graph"
