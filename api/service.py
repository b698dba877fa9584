"""The resident service: one process per data directory that owns the runtime and every store.

Every front end (the CLI, the Streamlit app, the MCP gateway an IDE launches, scripts) is a thin client:
`ensure_service()` finds the running service through `<home>/run/service.json`, or starts
`python -m api.service` detached and waits for it. Two clients starting it at once get one service (an
exclusive lock around the start). Local clients authenticate with the token in `<home>/service.token`
(mode 0600, created on first start), so another user of a shared machine cannot drive the assistant
through loopback. `SPARK_AGENTS_SERVICE_URL` (+ `SPARK_AGENTS_SERVICE_TOKEN`) points clients at a
service elsewhere instead.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import secrets
import socket
import sys
import time
from pathlib import Path

import httpx
from pydantic import BaseModel
from pydantic_settings import SettingsConfigDict

from core.daemon import exclusive, log_tail, pid_alive, spawn_detached, stop_group
from core.errors import ConfigError, SparkAgentsError
from core.files import atomic_write
from core.home import HomeSettings
from core.net import check_bind

log = logging.getLogger(__name__)


class ServiceSettings(HomeSettings):
    """Where the service is (prefix `SPARK_AGENTS_SERVICE_`, besides the home and profile)."""

    model_config = SettingsConfigDict(env_prefix="SPARK_AGENTS_", extra="ignore")

    service_url: str | None = None  # a service elsewhere (a team box); nothing is started then
    service_token: str | None = None  # the token for service_url (local services use the token file)
    service_host: str = "127.0.0.1"
    service_port: int = 0  # 0: a free port, recorded in <home>/run/service.json
    service_start_timeout: float = 120.0

    @property
    def record_file(self) -> Path:
        return self.run_dir / "service.json"

    @property
    def token_file(self) -> Path:
        return self.home / "service.token"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "service.log"


class ServiceRecord(BaseModel):
    pid: int
    host: str
    port: int
    started: float

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


class ServiceHandle(BaseModel):
    """How a client reaches the service."""

    url: str
    token: str | None
    started: bool = False  # this call started it
    restarted: bool = False  # ... because the one recorded had died
    pid: int | None = None


class ServiceStartError(SparkAgentsError):
    """The service could not be started (port in use, bad settings); the message quotes its log."""


def service_token(settings: ServiceSettings, create: bool = False) -> str | None:
    """The local service's token, created (0600) on first use when `create`."""
    path = settings.token_file
    try:
        token = path.read_text().strip()
        if token:
            return token
    except FileNotFoundError:
        pass
    if not create:
        return None
    token = secrets.token_urlsafe(32)
    atomic_write(path, token + "\n", mode=0o600)
    return token


def read_record(settings: ServiceSettings) -> ServiceRecord | None:
    """The recorded service if its process is alive; a stale record is removed."""
    try:
        record = ServiceRecord.model_validate_json(settings.record_file.read_text())
    except (FileNotFoundError, ValueError):
        return None
    if not pid_alive(record.pid):
        settings.record_file.unlink(missing_ok=True)
        return None
    return record


def tls_verify(url: str) -> bool:
    """Certificates are checked for https; for plain http none are loaded (that costs ~0.15 s a client,
    a third of a CLI command's start)."""
    return url.startswith("https:")


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        return httpx.get(f"{url.rstrip('/')}/health", timeout=timeout, verify=tls_verify(url)).status_code == 200
    except httpx.HTTPError:
        return False


def ensure_service(settings: ServiceSettings | None = None) -> ServiceHandle:
    """The running service for this data directory, started (detached) when there is none."""
    settings = settings or ServiceSettings()
    if settings.service_url:
        return ServiceHandle(url=settings.service_url.rstrip("/"), token=settings.service_token)
    record = read_record(settings)
    if record and healthy(record.url):
        return ServiceHandle(url=record.url, token=service_token(settings), pid=record.pid)
    with exclusive(settings.run_dir / "service.lock"):
        had_record = settings.record_file.exists()
        record = read_record(settings)
        started = record is None
        if record is None:
            record = _start(settings)
        if not _wait_healthy(settings, record, expect_exit=not started):
            # the recorded service was dying (killed an instant ago, not yet reaped): start a new one
            settings.record_file.unlink(missing_ok=True)
            record, started = _start(settings), True
            _wait_healthy(settings, record)
        return ServiceHandle(
            url=record.url,
            token=service_token(settings),
            started=started,
            restarted=started and had_record,
            pid=record.pid,
        )


def _start(settings: ServiceSettings) -> ServiceRecord:
    service_token(settings, create=True)
    cmd = [sys.executable, "-m", "api.service", "--host", settings.service_host, "--port", str(settings.service_port)]
    proc = spawn_detached(cmd, settings.log_file)
    deadline = time.monotonic() + settings.service_start_timeout
    while time.monotonic() < deadline:
        record = read_record(settings)
        if record is not None and record.pid == proc.pid:
            return record
        if proc.poll() is not None:
            raise ServiceStartError(f"The Spark Agents service could not start:\n{log_tail(settings.log_file)}")
        time.sleep(0.1)
    stop_group(proc.pid)
    raise ServiceStartError(f"The Spark Agents service did not start in time (log: {settings.log_file}).")


def _wait_healthy(settings: ServiceSettings, record: ServiceRecord, expect_exit: bool = False) -> bool:
    """True once the service answers; False if it exits while `expect_exit` (an already recorded one that
    may be on its way out); else a clear error."""
    deadline = time.monotonic() + settings.service_start_timeout
    while time.monotonic() < deadline:
        if healthy(record.url):
            return True
        if not pid_alive(record.pid):
            if expect_exit:
                return False
            raise ServiceStartError(f"The Spark Agents service exited:\n{log_tail(settings.log_file)}")
        time.sleep(0.1)
    raise ServiceStartError(f"The Spark Agents service at {record.url} does not answer (log: {settings.log_file}).")


def stop_service(settings: ServiceSettings | None = None, timeout: float = 15.0) -> bool:
    """Stop the local service; True if one was running."""
    settings = settings or ServiceSettings()
    record = read_record(settings)
    if record is None:
        return False
    stop_group(record.pid, timeout)
    settings.record_file.unlink(missing_ok=True)
    return True


# --- the service process ---------------------------------------------------------------------------


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ServiceStartError(f"cannot listen on {host}:{port} ({e.strerror or e}); pick another port") from e
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_service(
    host: str,
    port: int,
    settings: ServiceSettings | None = None,
    *,
    token: str | None = None,
    open_openai_api: bool = False,
) -> None:
    """Serve the app on host:port (0 = a free port) as this home's service until stopped.

    The record is written once the socket is bound, so a client that reads it can connect at once; it is
    removed on a clean exit (a killed service leaves a record whose pid is dead, which clients discard).
    `/v1` needs the home's token too, unless `open_openai_api` (`spark-agents serve`: the OpenAI API an
    editor is configured for, open on loopback as documented unless SPARK_AGENTS_API_TOKEN is set).
    """
    import uvicorn

    from api.app import create_app
    from api.settings import ApiSettings

    settings = settings or ServiceSettings()
    local_token = service_token(settings, create=True)
    api_settings = ApiSettings(host=host, port=port, token=token) if token else ApiSettings(host=host, port=port)
    check_bind(host, api_settings.token)
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    api_settings = api_settings.model_copy(update={"port": bound})
    app = create_app(api_settings, service_token=local_token, openai_needs_token=not open_openai_api)
    record = ServiceRecord(pid=os.getpid(), host=host, port=bound, started=time.time())
    current = read_record(settings)
    if current is not None and current.pid != os.getpid():
        sock.close()
        raise ServiceStartError(
            f"a Spark Agents service already runs for {settings.home} at {current.url}: stop it first "
            f"(`spark-agents service down`), or use it (its OpenAI API is {current.url}/v1, with the token in "
            f"{settings.token_file})"
        )
    atomic_write(settings.record_file, record.model_dump_json())
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5, timeout_keep_alive=30)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        with contextlib.suppress(FileNotFoundError, ValueError):
            if ServiceRecord.model_validate_json(settings.record_file.read_text()).pid == os.getpid():
                settings.record_file.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api.service", description="The Spark Agents resident service.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run_service(args.host, args.port)
    except (ServiceStartError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from e


if __name__ == "__main__":
    main()
