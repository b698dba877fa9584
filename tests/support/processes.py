"""Start a server as a subprocess, wait until it answers HTTP, stop it afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


@contextmanager
def serving_process(
    argv: list[str],
    ready_url: str,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    ready: Callable[[httpx.Response], bool] = lambda r: True,
    log: Path | None = None,
    inherit_env: bool = True,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` in its own process group until the `with` block ends; yield once `ready_url` answers.

    Output goes to a file (`log`, or a temporary one), never a pipe that a chatty server could fill and
    block on; its tail is quoted when the server exits or never comes up. `env` is added to this process's
    environment, or is the whole environment with `inherit_env=False`.
    """
    with open(log, "wb") if log else tempfile.TemporaryFile() as out:  # noqa: SIM115
        proc = subprocess.Popen(
            argv,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

        def tail() -> str:
            out.flush()
            out.seek(0)
            return out.read().decode(errors="replace")[-3000:]

        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{' '.join(argv[:4])} exited with {proc.returncode}:\n{tail()}")
                try:
                    if ready(httpx.get(ready_url, timeout=2)):
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{' '.join(argv[:4])} did not answer {ready_url}:\n{tail()}")
                time.sleep(0.2)
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def stop_services_under(root: Path) -> None:
    """Stop every resident service recorded in a data directory below `root`: a client starts one
    detached, by design, so a test that ran a client under its own home must stop it."""
    from api.service import ServiceSettings, stop_service

    for record in root.glob("**/run/service.json"):
        stop_service(ServiceSettings(home=record.parent.parent, profile="local"))
