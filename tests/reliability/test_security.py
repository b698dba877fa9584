"""Entry points: loopback by default, Host/Origin checks on MCP HTTP, upload names never used as paths,
no secrets in logs or inside the code sandbox."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from core.daemon import free_port
from serving.settings import ServingSettings
from tests.support.mcp_client import http_server, http_session, post_initialize, stdio_session
from tests.support.scripted_server import ScriptedServer, text, tool

CLI = [sys.executable, "-m", "cli"]
LOOPBACK = {"127.0.0.1", "::1"}
SUPERVISOR_KEY = "sk-supervisor-SECRET-4f1c9e"
CODER_KEY = "sk-coder-SECRET-77ab20"
API_TOKEN = "api-token-SECRET-0d93b1"
SECRETS = (SUPERVISOR_KEY, CODER_KEY, API_TOKEN)


def listening_ips(port: int) -> set[str]:
    return {
        c.laddr.ip
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
    }


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 90) -> set[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode}")
        if ips := listening_ips(port):
            return ips
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}")


def test_mcp_http_binds_loopback_and_refuses_foreign_host_and_origin() -> None:
    with http_server("mcp_servers.kg") as url:
        port = int(url.split(":")[2].split("/")[0])
        assert listening_ips(port) <= LOOPBACK and listening_ips(port)
        foreign_host = post_initialize(url, Host=f"evil.example:{port}")
        assert foreign_host.status_code == 421
        foreign_origin = post_initialize(url, Origin="http://evil.example")
        assert foreign_origin.status_code == 403

        async def ok() -> int:
            async with http_session(url) as session:
                return len((await session.list_tools()).tools)

        assert asyncio.run(ok()) >= 3  # a well-behaved local client still gets in


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def test_ui_binds_loopback_by_default(tmp_path: Path) -> None:
    port = free_port()
    proc = _start([*CLI, "ui", "--port", str(port)], dict(os.environ), tmp_path / "ui.log")
    try:
        assert wait_listening(port, proc) <= LOOPBACK
    finally:
        _stop(proc)


def test_api_binds_loopback_and_logs_no_secrets(scripted: ScriptedServer, spark_home: Path, tmp_path: Path) -> None:
    """`spark-agents serve` with role API keys and an API token set: it listens on loopback only, and after
    good turns, a tool turn, a failed model call and a wrong token, no secret appears in any log."""
    port = free_port()
    env = {
        **os.environ,
        "SPARK_AGENTS_SUPERVISOR_URL": scripted.url,
        "SPARK_AGENTS_SUPERVISOR_MODEL": "scripted-model",
        "SPARK_AGENTS_SUPERVISOR_API_KEY": SUPERVISOR_KEY,
        "SPARK_AGENTS_CODER_URL": scripted.url,
        "SPARK_AGENTS_CODER_MODEL": "scripted-model",
        "SPARK_AGENTS_CODER_API_KEY": CODER_KEY,
        "SPARK_AGENTS_API_TOKEN": API_TOKEN,
        "SPARK_AGENTS_AGENT_ROUTING": "llm",
        "SPARK_AGENTS_AGENT_SMALL_MODEL": "false",
    }
    log = tmp_path / "serve.log"
    proc = _start([*CLI, "serve", "--port", str(port)], env, log)
    try:
        assert wait_listening(port, proc) <= LOOPBACK
        base = f"http://127.0.0.1:{port}/v1"
        auth = {"Authorization": f"Bearer {API_TOKEN}"}

        def ask(model: str, content: str, headers: dict[str, str] = auth) -> httpx.Response:
            body = {"model": model, "messages": [{"role": "user", "content": content}]}
            return httpx.post(f"{base}/chat/completions", json=body, headers=headers, timeout=120)

        scripted.script(text("Hello there."))
        assert ask("spark-agents", "hi").status_code == 200
        scripted.script(
            tool("generate_code", {"task": "add two numbers", "language": "python"}),
            text("```python\ndef add(a, b):\n    return a + b\n```"),
            text("Here is add()."),
        )
        r = ask("spark-agents-coding", "write a python function that adds two numbers")
        assert r.status_code == 200 and "add" in r.text
        from tests.support.scripted_server import Reply

        scripted.script(Reply(fault="http_500"))
        r = ask("spark-agents", "this one fails")
        assert r.status_code >= 500 or "error" in r.text
        assert ask("spark-agents", "hi", {"Authorization": "Bearer wrong"}).status_code == 401
        assert ask("spark-agents", "hi", {}).status_code == 401
        # The keys did reach the model server, so they were really in use.
        assert scripted.chat_requests
    finally:
        _stop(proc)
    logs = [log, *sorted((spark_home / "logs").glob("**/*"))]
    assert len(logs) > 1, "the run wrote server logs"
    for path in logs:
        if path.is_file():
            content = path.read_text(errors="replace")
            for secret in SECRETS:
                assert secret not in content, f"{secret} leaked into {path}"


def test_code_sandbox_sees_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"SPARK_AGENTS_SUPERVISOR_API_KEY": SUPERVISOR_KEY, "SPARK_AGENTS_API_TOKEN": API_TOKEN}

    async def run() -> str:
        async with stdio_session("mcp_servers.code", env=env) as session:
            code = "import os\nprint(sorted(os.environ.items()))\nprint(open('/proc/1/environ','rb').read()[:0])"
            result = await session.call_tool("run_python", {"code": code})
            return "\n".join(getattr(c, "text", "") for c in result.content)

    out = asyncio.run(run())
    assert "PATH" in out
    for secret in (SUPERVISOR_KEY, API_TOKEN):
        assert secret not in out


@pytest.mark.parametrize("name", ["../../../../etc/passwd.png", "/etc/cron.d/x.png", "..\\..\\win.png", "a\x00b.png"])
def test_ui_image_upload_names_are_never_paths(name: str, spark_home: Path) -> None:
    from core.uploads import save_image

    path = save_image(name, b"\x89PNG fake", ServingSettings().home)
    assert path.resolve().is_relative_to((spark_home / "uploads").resolve())
    assert path.name != Path(name).name or path.name.endswith(".png")
    assert not Path("/etc/passwd.png").exists() and not Path("/etc/cron.d/x.png").exists()


@pytest.mark.parametrize("name", ["../../../../etc/evil.md", "/etc/evil.md", "..", "a/../../b.md", "\x00.md"])
def test_ui_document_upload_names_are_never_paths(name: str, spark_home: Path) -> None:
    from core.uploads import save_document

    path = save_document(name, b"# hello\n", ServingSettings().home)
    uploads = (spark_home / "uploads").resolve()
    assert path.resolve().is_relative_to(uploads) and path.read_bytes() == b"# hello\n"
    assert ".." not in path.relative_to(uploads).parts
    assert not Path("/etc/evil.md").exists()


def test_ui_image_upload_without_an_extension_is_refused(spark_home: Path) -> None:
    from core.uploads import UploadRejected, save_image

    with pytest.raises(UploadRejected, match="is not an image"):
        save_image(".png", b"\x89PNG fake", ServingSettings().home)
    assert not (spark_home / "uploads").exists() or not list((spark_home / "uploads").rglob("*.png"))


def test_mcp_http_off_loopback_needs_a_token() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SPARK_AGENTS_MCP_TOKEN"}
    r = subprocess.run(
        [sys.executable, "-m", "mcp_servers.kg", "--http", "--host", "0.0.0.0", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "refusing to serve the kg MCP server on 0.0.0.0 without a token" in r.stderr
    assert "Traceback" not in r.stderr


def test_mcp_http_with_a_token_refuses_requests_without_it() -> None:
    from mcp import ClientSession

    from mcp_servers.sdk import http_streams

    token = "mcp-token-SECRET-5e2d"
    with http_server("mcp_servers.kg", env={"SPARK_AGENTS_MCP_TOKEN": token}) as url:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
            r = httpx.post(url, json={}, headers={"Accept": "application/json, text/event-stream", **headers})
            assert r.status_code == 401 and "bearer token" in r.text

        async def tools() -> int:
            async with (
                http_streams(url, headers={"Authorization": f"Bearer {token}"}) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                return len((await session.list_tools()).tools)

        assert asyncio.run(tools()) >= 3
