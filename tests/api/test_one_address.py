"""One address for every front end: the CLI, an editor's OpenAI client (configured by `mcp list`) and
`spark-agents serve` all use the one service of a home, at one port, behind the home's token."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest
import yaml

import api.service
from api.service import (
    ServiceSettings,
    ServiceStartError,
    choose_port,
    ensure_service,
    home_port,
    read_record,
    service_token,
    stop_service,
)
from core.daemon import free_port
from tests.support.scripted_server import ScriptedServer, text

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "cli"]
QUESTION = "What memory bandwidth does the DGX Spark have?"


@pytest.fixture
def supervisor(monkeypatch: pytest.MonkeyPatch, scripted_roles: ScriptedServer) -> ScriptedServer:
    monkeypatch.setenv("SPARK_AGENTS_AGENT_ROUTING", "llm")
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "false")
    scripted_roles.default = text("Memory bandwidth: 273 GB/s.")
    return scripted_roles


def cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env=os.environ)


def editor_client() -> openai.OpenAI:
    """An OpenAI client configured exactly as `spark-agents mcp list --json` tells Continue to be."""
    done = cli("mcp", "list", "--json")
    assert done.returncode == 0, done.stderr
    model = yaml.safe_load(json.loads(done.stdout)["continue_config_yaml"])["models"][0]
    return openai.OpenAI(base_url=model["apiBase"], api_key=model["apiKey"], max_retries=0, timeout=120)


def streamed(client: openai.OpenAI) -> str:
    stream = client.chat.completions.create(
        model="spark-agents", messages=[{"role": "user", "content": "Hello from the editor"}], stream=True
    )
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def refuses_strangers(url: str, other_home: Path) -> None:
    """No token, a wrong one or another home's: 401 on the OpenAI API and on the native API alike."""
    stranger = service_token(ServiceSettings(home=other_home), create=True)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {stranger}"}):
        assert httpx.get(f"{url}/v1/models", headers=headers, timeout=10).status_code == 401
        assert httpx.get(f"{url}/api/threads", headers=headers, timeout=10).status_code == 401


def test_the_readme_order_cli_then_editor_then_serve(
    supervisor: ScriptedServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # the home's own port, as a first start chooses it (the suite's homes get a set one: parallel runs)
    monkeypatch.delenv("SPARK_AGENTS_SERVICE_PORT")
    (Path(os.environ["SPARK_AGENTS_HOME"]) / "service.port").parent.mkdir(parents=True, exist_ok=True)
    (Path(os.environ["SPARK_AGENTS_HOME"]) / "service.port").write_text(f"{free_port()}\n")
    assert cli("ingest", str(ROOT / "examples/documents/dgx-spark.md")).returncode == 0
    first = cli("ask", QUESTION)
    assert first.returncode == 0, first.stderr
    record = read_record(ServiceSettings())
    assert record is not None and home_port(ServiceSettings()) == record.port  # the home's port, recorded
    assert "Memory bandwidth: 273 GB/s." in streamed(editor_client())
    served = cli("serve", timeout=60)  # never a second kind of service: it says where the running one is
    assert served.returncode == 0, served.stderr
    assert f"already runs for {os.environ['SPARK_AGENTS_HOME']}: {record.url}" in served.stdout
    assert f"{record.url}/v1" in served.stdout and "apiKey" in served.stdout
    again = cli("ask", QUESTION)
    assert again.returncode == 0 and "273 GB/s" in again.stdout
    after = read_record(ServiceSettings())
    assert after is not None and after.pid == record.pid
    refuses_strangers(record.url, tmp_path / "other-home")


def test_the_reverse_order_serve_then_cli_and_editor(
    supervisor: ScriptedServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([*CLI, "serve"], stdout=log, stderr=subprocess.STDOUT, env=os.environ)
    try:
        deadline = time.monotonic() + 90
        while (record := read_record(ServiceSettings())) is None and time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(0.2)
        assert record is not None and record.pid == proc.pid
        done = cli("ask", QUESTION)
        assert done.returncode == 0 and "273 GB/s" in done.stdout, done.stderr
        assert "Memory bandwidth: 273 GB/s." in streamed(editor_client())
        assert proc.poll() is None and read_record(ServiceSettings()).pid == proc.pid  # type: ignore[union-attr]
        refuses_strangers(record.url, tmp_path / "other-home")
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
    assert "Spark Agents service for" in (tmp_path / "serve.log").read_text()


def test_a_home_keeps_its_port_and_a_taken_one_is_a_clear_error(
    spark_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SPARK_AGENTS_SERVICE_PORT")  # the home chooses and records its port
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        monkeypatch.setattr(api.service, "DEFAULT_PORT", busy)  # the well-known port is someone else's here
        port = choose_port(ServiceSettings())
        assert port != busy and (spark_home / "service.port").read_text().strip() == str(port)
        first = ensure_service(ServiceSettings())
        assert first.url.endswith(f":{port}") and stop_service(ServiceSettings())
        again = ensure_service(ServiceSettings())  # a restart keeps the address an editor was configured for
        assert again.url == first.url and again.pid != first.pid and stop_service(ServiceSettings())
        (spark_home / "service.port").write_text(f"{busy}\n")  # the recorded port is now taken by this test
        with pytest.raises(ServiceStartError) as err:
            ensure_service(ServiceSettings())
    message = str(err.value)
    assert f"cannot listen on 127.0.0.1:{busy}" in message and f"(pid {os.getpid()})" in message
    assert "SPARK_AGENTS_SERVICE_PORT=N" in message
