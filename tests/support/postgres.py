"""A real PostgreSQL server for the tests: Debian's `postgresql` binaries, a throwaway cluster on a free port."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.daemon import free_port


def postgres_bin() -> Path | None:
    """The newest installed server's bin folder (`/usr/lib/postgresql/<major>/bin`), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


@contextmanager
def postgres_server() -> Iterator[str]:
    """initdb + postgres on 127.0.0.1 (trust auth, loopback only) in a throwaway folder; yields a connection
    URL. As root the cluster runs as the `postgres` user, since the server refuses to run as root (so the
    folder is not under pytest's root-only temporary directory)."""
    with tempfile.TemporaryDirectory(prefix="spark-agents-pg-") as tmp:
        yield from _serve(Path(tmp))


def _serve(root: Path) -> Iterator[str]:
    bin_dir = postgres_bin()
    assert bin_dir is not None, "PostgreSQL is not installed"
    data, port = root / "pgdata", free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        root.chmod(0o755)
        as_user = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "spark"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    server = subprocess.Popen(
        [*as_user, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root)]
        + ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL,
        stderr=(root / "postgres.log").open("wb"),
    )
    try:
        deadline = time.monotonic() + 60
        ready = [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
        while subprocess.run(ready).returncode != 0:
            assert server.poll() is None, (root / "postgres.log").read_text()
            assert time.monotonic() < deadline, "PostgreSQL did not become ready"
            time.sleep(0.3)
        createdb = [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "spark", "spark_agents"]
        subprocess.run(createdb, check=True, capture_output=True, timeout=60)
        yield f"postgresql://spark@127.0.0.1:{port}/spark_agents"
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
