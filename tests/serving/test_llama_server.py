"""Lifecycle of the local llama.cpp server: real processes, real ports."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from core.errors import ConfigError
from serving.errors import ServerStartError
from serving.health import status
from serving.lifecycle import start
from serving.llama_server import LocalModelServer
from serving.registry import Role, endpoint
from serving.settings import ServingSettings


def test_missing_model_file_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_LOCAL_MODEL_PATH", str(tmp_path / "nope.gguf"))
    with pytest.raises(ConfigError, match=r"nope\.gguf.*SPARK_AGENTS_LOCAL_MODEL_PATH"):
        LocalModelServer(ServingSettings()).start()


def test_port_in_use_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        monkeypatch.setenv("SPARK_AGENTS_LOCAL_PORT", str(busy.getsockname()[1]))
        with pytest.raises(ServerStartError, match="already in use"):
            LocalModelServer(ServingSettings()).start()
    assert LocalModelServer(ServingSettings()).state() is None


def test_a_file_that_is_not_a_model_fails_start_with_its_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "broken.gguf"
    fake.write_bytes(b"this is not a gguf file" * 100)
    monkeypatch.setenv("SPARK_AGENTS_LOCAL_MODEL_PATH", str(fake))
    # live admission plans the file before anything starts, so the error comes first and plainly
    with pytest.raises(ConfigError, match=r"broken\.gguf is not a GGUF model file"):
        start(LocalModelServer(ServingSettings()))
    assert LocalModelServer(ServingSettings()).state() is None
    monkeypatch.setenv("SPARK_AGENTS_ADMISSION", "false")  # without admission the server itself refuses it
    with pytest.raises(ServerStartError, match="exited during start-up"):
        start(LocalModelServer(ServingSettings()))
    assert LocalModelServer(ServingSettings()).state() is None


@pytest.mark.real_model
def test_start_health_status_stop_with_the_real_model() -> None:
    server = LocalModelServer(ServingSettings())
    state = server.start()
    try:
        assert server.healthy()
        assert server.start().pid == state.pid  # idempotent: the running server is reused
        assert endpoint(Role.SUPERVISOR, ServingSettings()).base_url == state.base_url
        rows = {r.role: r for r in status(ServingSettings())}
        assert rows[Role.SUPERVISOR].up and rows[Role.CODER].up and rows[Role.EMBEDDINGS].up
        assert rows[Role.VISION].status == "not configured"
        models = httpx.get(f"{state.base_url}/models").json()
        assert models["data"][0]["id"] == ServingSettings().local_model_name
    finally:
        assert server.stop()
    assert server.state() is None
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{state.base_url}/models", timeout=2)
    assert server.stop() is False


@pytest.mark.parametrize(
    ("help_text", "mmap", "expected"),
    [
        # a current build (b10875+): --no-mmap is gone, --load-mode and the prompt cache's --cache-ram are there
        ("  -lm, --load-mode MODE   how to load the model\n  --cache-ram N   prompt cache (MiB)\n", False,
         ["--load-mode", "none", "--cache-ram", "0"]),
        ("  -lm, --load-mode MODE\n  --cache-ram N\n", True, ["--cache-ram", "0"]),
        # an older build knows neither
        ("  --no-mmap   do not memory-map the model\n", False, ["--no-mmap"]),
    ],
)  # fmt: skip
def test_a_llama_server_on_path_gets_the_flags_its_build_knows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, help_text: str, mmap: bool, expected: list[str]
) -> None:
    from serving.llama_server import llama_server_help, server_command

    binary = tmp_path / "llama-server"
    (tmp_path / "help.txt").write_text(help_text)
    binary.write_text(f"#!/bin/sh\ncat {tmp_path / 'help.txt'}\n")
    binary.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    llama_server_help.cache_clear()
    cmd = server_command(Path("/m.gguf"), "local", "127.0.0.1", 8080, 4096, None, mmap=mmap)
    assert cmd[0] == str(binary)
    assert cmd[cmd.index("--alias") + 2 :] == expected
    llama_server_help.cache_clear()
