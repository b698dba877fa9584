"""`spark-agents serve` as a real subprocess, driven by the official `openai` client; `spark-agents mcp list`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openai
import pytest
import yaml

from api import MODELS
from api.client_configs import EXAMPLE_FILES, example_configs
from api.service import ServiceSettings, home_port
from tests.api.conftest import serve_process
from tests.support.scripted_server import ScriptedServer, text

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "cli"]


def test_openai_client_streams_from_spark_agents_serve(scripted_roles: ScriptedServer) -> None:
    scripted_roles.default = text("Streaming from a real spark-agents serve process.")
    with serve_process(env={"SPARK_AGENTS_API_TOKEN": "tok"}) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="tok", max_retries=0, timeout=60)
        assert [m.id for m in client.models.list()] == list(MODELS)
        stream = client.chat.completions.create(
            model="spark-agents", messages=[{"role": "user", "content": "Say something"}], stream=True
        )
        pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
        assert len(pieces) > 1
        assert "".join(pieces) == "Streaming from a real spark-agents serve process."
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=f"{url}/v1", api_key="nope", max_retries=0).models.list()


def test_serve_refuses_public_bind_without_token() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SPARK_AGENTS_API_TOKEN"}
    done = subprocess.run([*CLI, "serve", "--host", "0.0.0.0"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 1
    assert "refusing to serve on 0.0.0.0 without a token" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_reports_busy_port() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        done = subprocess.run([*CLI, "serve", "--port", str(port)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "address already in use" in done.stderr.lower()
    # says by what (this test's own process holds it) and how to pick another port
    assert f"(pid {os.getpid()})" in done.stderr and "SPARK_AGENTS_SERVICE_PORT=N" in done.stderr
    assert "Traceback" not in done.stderr


def test_mcp_list_json_and_files(tmp_path: Path, spark_home: Path) -> None:
    done = subprocess.run(
        [*CLI, "mcp", "list", "--json", "--write", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["servers"][0] == "gateway"
    cont = yaml.safe_load(data["continue_config_yaml"])
    # the home's one address (8800 unless set or taken: then a port chosen once and recorded) and its token
    port = home_port(ServiceSettings())
    token = (spark_home / "service.token").read_text().strip()
    assert cont["models"][0] == {
        "name": "Spark Agents",
        "provider": "openai",
        "model": "spark-agents",
        "apiBase": f"http://127.0.0.1:{port}/v1",
        "apiKey": token,
        "roles": ["chat", "edit", "apply"],
    }
    assert f"API key: the token in {spark_home / 'service.token'}" in done.stderr
    placeholder = subprocess.run([*CLI, "mcp", "list", "--json", "--no-token"], capture_output=True, text=True)
    model = yaml.safe_load(json.loads(placeholder.stdout)["continue_config_yaml"])["models"][0]
    assert model["apiKey"] == f"<the token in {spark_home / 'service.token'}>" and model["apiBase"].endswith(
        f":{port}/v1"
    )
    gateway = cont["mcpServers"][0]
    assert gateway["command"] == sys.executable and gateway["args"] == ["-m", "mcp_servers.gateway"]
    assert gateway["env"]["SPARK_AGENTS_HOME"] == os.environ["SPARK_AGENTS_HOME"]
    assert set(data["vscode_mcp_json"]["servers"]) == {f"spark-agents-{s}" for s in data["servers"]}
    assert data["vscode_mcp_json"]["servers"]["spark-agents-gateway"]["type"] == "stdio"
    assert set(data["claude_desktop_config_json"]["mcpServers"]) == {f"spark-agents-{s}" for s in data["servers"]}
    for rel in EXAMPLE_FILES.values():
        assert (tmp_path / rel).is_file()
    text_out = subprocess.run([*CLI, "mcp", "list"], capture_output=True, text=True, timeout=60).stdout
    assert "provider: openai" in text_out and '"mcpServers"' in text_out


def test_examples_are_generated_from_the_code() -> None:
    """examples/ holds exactly what `python -m api.client_configs` writes (run it after changing either)."""
    for rel, expected in example_configs().files().items():
        assert (ROOT / "examples" / rel).read_text() == expected, f"examples/{rel} is stale"
