"""The resident service: one process per data directory that owns the runtime and every store.

Every front end (the CLI, the Streamlit app, the MCP gateway an IDE launches, scripts) is a thin client:
`ensure_service()` finds the running service through `<home>/run/service.json`, or starts
`python -m api.service` detached and waits for it. Two clients starting it at once get one service (an
exclusive lock around the start). It listens on the home's one address: 8800 by default
(`SPARK_AGENTS_SERVICE_PORT` sets another); a home whose first start found 8800 taken gets a free port,
recorded in `<home>/service.port` and kept across restarts, so an editor configured for it keeps working.
`spark-agents serve` runs the same service in the foreground. Every client authenticates with the token in
`<home>/service.token` (mode 0600, created on first start) on `/v1` and `/api` alike, so another user of a
shared machine cannot drive the assistant through loopback. `SPARK_AGENTS_SERVICE_URL`
(+ `SPARK_AGENTS_SERVICE_TOKEN`) points clients at a service elsewhere instead.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
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
DEFAULT_PORT = 8800


class ServiceSettings(HomeSettings):
    """Where the service is (prefix `SPARK_AGENTS_SERVICE_`, besides the home and profile)."""

    model_config = SettingsConfigDict(env_prefix="SPARK_AGENTS_", extra="ignore")

    service_url: str | None = None  # a service elsewhere (a team box); nothing is started then
    service_token: str | None = None  # the token for service_url (local services use the token file)
    service_host: str = "127.0.0.1"
    service_port: int | None = None  # None: the home's port (8800, or the one recorded in <home>/service.port)
    service_start_timeout: float = 120.0

    @property
    def record_file(self) -> Path:
        return self.run_dir / "service.json"

    @property
    def token_file(self) -> Path:
        return self.home / "service.token"

    @property
    def port_file(self) -> Path:
        return self.home / "service.port"

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


def home_port(settings: ServiceSettings) -> int | None:
    """The port this home's service must listen on: SPARK_AGENTS_SERVICE_PORT, else the one recorded in the
    home by its first start; None before that (the service then takes 8800, or a free port when 8800 is taken)."""
    if settings.service_port is not None:
        return settings.service_port
    try:
        return int(settings.port_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def choose_port(settings: ServiceSettings) -> int:
    """`home_port`, choosing and recording it now when the home has none yet (for configs written before the
    service first starts): 8800 when it is free, else a free port."""
    port = home_port(settings)
    if port is None:
        sock = _listen_default(settings.service_host)
        port = int(sock.getsockname()[1])
        sock.close()
        atomic_write(settings.port_file, f"{port}\n")
    return port


def _listen_default(host: str) -> socket.socket:
    """A socket on 8800, or on a free port when 8800 is taken (a home without a port of its own yet)."""
    try:
        return _bind(host, DEFAULT_PORT)
    except ServiceStartError:
        return _bind(host, 0)


def port_user(host: str, port: int) -> str:
    """Who listens on host:port, as far as this machine tells: a Spark Agents service (its home), another
    process (its name and pid, from /proc), or "another program"."""
    shown = f"[{host}]" if ":" in host else host
    try:
        health = httpx.get(f"http://{shown}:{port}/health", timeout=2).json()
        if isinstance(health, dict) and health.get("service") == "spark-agents":
            return f"the Spark Agents service of another home ({health.get('home')}, pid {health.get('pid')})"
    except (httpx.HTTPError, ValueError):
        pass
    pid = _listening_pid(port)
    if pid is not None:
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            name = "a process"
        return f"{name} (pid {pid})"
    return "another program"


def _listening_pid(port: int) -> int | None:
    """The pid whose socket listens on `port` (Linux /proc; None when it cannot be seen, e.g. another user's)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return int(proc.name)
    return None


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


def ensure_service(settings: ServiceSettings) -> ServiceHandle:
    """The running service for this data directory, started (detached) when there is none."""
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
    cmd = [sys.executable, "-m", "api.service", "--host", settings.service_host]
    if (port := home_port(settings)) is not None:
        cmd += ["--port", str(port)]
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


def stop_service(settings: ServiceSettings, timeout: float = 15.0) -> bool:
    """Stop the local service; True if one was running."""
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
        if e.errno == errno.EADDRINUSE and port:
            raise ServiceStartError(
                f"cannot listen on {host}:{port} ({e.strerror}): it is taken by {port_user(host, port)}. Stop that, "
                f"or give this home another port: SPARK_AGENTS_SERVICE_PORT=N (or `spark-agents serve --port N`)"
            ) from e
        raise ServiceStartError(f"cannot listen on {host}:{port} ({e.strerror or e}); pick another port") from e
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run_service(
    host: str, port: int | None, settings: ServiceSettings | None = None, *, token: str | None = None
) -> None:
    """Serve the app on host:port as this home's service until stopped (detached or `spark-agents serve`).
    Without a port: 8800, or a free port when 8800 is taken, recorded in the home for every later start.

    The record is written once the socket is bound, so a client that reads it can connect at once; it is
    removed on a clean exit (a killed service leaves a record whose pid is dead, which clients discard).
    `/v1` and `/api` take the home's token, and `token` (SPARK_AGENTS_API_TOKEN, for a non-loopback bind)
    besides.
    """
    import uvicorn

    from agents.settings import AgentSettings
    from api.app import create_app
    from api.settings import ApiSettings
    from kg.settings import KGSettings
    from serving.settings import ServingSettings

    settings = settings or ServiceSettings()
    local_token = service_token(settings, create=True)
    api_settings = ApiSettings(host=host, token=token) if token else ApiSettings(host=host)
    check_bind(host, api_settings.token)
    sock = _bind(host, port) if port is not None else _listen_default(host)
    bound = sock.getsockname()[1]
    if port is None or settings.service_port is None:
        atomic_write(settings.port_file, f"{bound}\n")  # the home's address from now on
    api_settings = api_settings.model_copy(update={"port": bound})
    app = create_app(
        api_settings,
        ServingSettings(),
        AgentSettings(),
        KGSettings(),
        service_token=local_token,
        openai_needs_token=True,
    )
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
    parser.add_argument("--port", type=int, default=None, help="default: the home's port (8800)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = ServiceSettings()
        run_service(args.host, home_port(settings) if args.port is None else args.port, settings)
    except (ServiceStartError, ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from e


if __name__ == "__main__":
    main()
