"""How a run is kept from the host: bubblewrap's namespaces when they work here, else rlimits only.

- `bubblewrap`: new mount, PID, network, IPC and UTS namespaces. Only `/usr` (read-only), the Python
  installation and the virtual environment (read-only), the launcher, a private `/proc`, a minimal `/dev`,
  and size-capped tmpfs `/tmp` and `/work` are visible; the user's home, `/etc` (bar a two-line
  passwd/group), the data directory and everything else do not exist in there. No network at all (not even
  loopback to the host). As root (no user namespace), only the capabilities the launcher needs are kept.
- `rlimits-only`: the same rlimits, a scrubbed environment, a separate process group, and a fresh
  unprivileged uid when we are root. The file system and the network are NOT isolated then.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

from coding.results import IsolationKind, Limits, SandboxError
from coding.settings import CodeSettings

log = logging.getLogger(__name__)

WORK = "/work"  # the run's working directory inside the bubblewrap sandbox
VENV = "/venv"  # where the virtual environment is mounted (read-only) inside the sandbox
LAUNCHER = Path(__file__).with_name("launcher.py")  # run by path: the sandbox has no site-packages
LAUNCHER_INSIDE = "/launcher.py"

# As root (no user namespace), the launcher keeps only what it needs to hand /work over and drop to the run's uid.
ROOT_CAPS = ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_CHOWN"]


@functools.cache
def bubblewrap_works(bwrap: str = "bwrap") -> bool:
    """True when `bwrap` is installed and can create the namespaces we use here (probed once a process)."""
    path = shutil.which(bwrap)
    if path is None:
        return False
    try:
        probe = subprocess.run(
            [path, *namespace_args(), *system_binds(), "--proc", "/proc", "--dev", "/dev", "true"],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    if probe.returncode != 0:
        log.warning("bubblewrap does not work here (%s)", probe.stderr.decode(errors="replace").strip()[:200])
    return probe.returncode == 0


def choose_isolation(settings: CodeSettings) -> IsolationKind:
    """bubblewrap when it works (required if `isolation="bubblewrap"`), else the rlimits-only fallback."""
    if settings.isolation == "rlimits-only":
        return "rlimits-only"
    if bubblewrap_works(settings.bwrap_path):
        return "bubblewrap"
    if settings.isolation == "bubblewrap":
        raise SandboxError(
            "bubblewrap is required (SPARK_AGENTS_CODE_ISOLATION=bubblewrap) but does not work here: "
            "install it with `apt-get install -y bubblewrap`."
        )
    log.warning("bubblewrap is not available: code runs with rlimits only (no file or network isolation)")
    return "rlimits-only"


def namespace_args() -> list[str]:
    args = [
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--hostname",
        "sandbox",
    ]
    if os.geteuid() != 0:  # unprivileged: a user namespace, and its own uid inside
        args += ["--unshare-user", "--uid", "65534", "--gid", "65534"]
    return args


def system_binds() -> list[str]:
    """`/usr` read-only, and `/bin`, `/lib*`, `/sbin` as the host has them (symlinks into /usr, or binds)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    return args


def python_binds() -> tuple[list[str], str]:
    """Bind the interpreter and the venv read-only; return (args, interpreter path inside the sandbox)."""
    args: list[str] = []
    base = Path(sys.base_prefix).resolve()
    if not str(base).startswith("/usr/"):
        for parent in reversed(base.parents[:-1]):  # bwrap would create these 0700: make them traversable
            args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", str(base), str(base)]
    exe = Path(sys.executable)
    if sys.prefix != sys.base_prefix:  # a virtual environment: mount it at /venv
        args += ["--ro-bind", sys.prefix, VENV]
        return args, f"{VENV}/bin/{exe.name}"
    return args, str(exe.resolve())


def sandbox_path() -> str:
    """$PATH inside the bubblewrap sandbox."""
    return f"{VENV}/bin:/usr/local/bin:/usr/bin:/bin" if sys.prefix != sys.base_prefix else "/usr/bin:/bin"


def bwrap_command(
    bwrap: str, *, python_args: list[str], input_dir: Path, etc_dir: Path, uid: int | None, disk_mb: int
) -> list[str]:
    """The bwrap command line up to the program it runs; writes the two-line passwd and group into `etc_dir`."""
    (etc_dir / "passwd").write_text(
        f"root:x:0:0::/:/bin/false\nsandbox:x:{uid or 65534}:{uid or 65534}::{WORK}:/bin/sh\n"
    )
    (etc_dir / "group").write_text(f"root:x:0:\nsandbox:x:{uid or 65534}:\n")
    disk = str(disk_mb << 20)
    return [
        shutil.which(bwrap) or bwrap,
        *namespace_args(),
        *(ROOT_CAPS if os.geteuid() == 0 else []),
        *system_binds(),
        *python_args,
        "--proc", "/proc",
        "--dev", "/dev",
        "--perms", "1777", "--size", disk, "--tmpfs", "/dev/shm",
        "--perms", "1777", "--size", disk, "--tmpfs", "/tmp",
        "--perms", "0700", "--size", disk, "--tmpfs", WORK,
        "--ro-bind", str(input_dir), "/input",
        "--perms", "0755", "--dir", "/etc",
        "--ro-bind", str(etc_dir / "passwd"), "/etc/passwd",
        "--ro-bind", str(etc_dir / "group"), "/etc/group",
        "--ro-bind", str(LAUNCHER), LAUNCHER_INSIDE,
        "--clearenv",
        "--chdir", "/",
    ]  # fmt: skip


def rlimits(limits: Limits) -> dict[str, tuple[int, int]]:
    """The launcher's `setrlimit` calls for one run."""
    limit = {
        "RLIMIT_CPU": (limits.cpu_time_s, limits.cpu_time_s + 1),
        "RLIMIT_AS": (limits.memory_mb << 20,) * 2,
        "RLIMIT_FSIZE": (limits.max_file_mb << 20,) * 2,
        "RLIMIT_NOFILE": (limits.max_open_files,) * 2,
        "RLIMIT_CORE": (0, 0),
        "RLIMIT_MEMLOCK": (0, 0),
        "RLIMIT_NPROC": (limits.max_processes,) * 2,
    }
    if os.geteuid() != 0:  # RLIMIT_NPROC counts every process of our uid: leave room for the ones already there
        limit["RLIMIT_NPROC"] = (processes_of(os.getuid()) + limits.max_processes,) * 2
    return limit


def environment(path: str, work: str, tmp: str) -> dict[str, str]:
    """The run's whole environment: nothing of the server's leaks in."""
    return {
        "PATH": path,
        "HOME": work,
        "TMPDIR": tmp,
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        # one thread per math library: thread pools sized to the host's CPUs hit the process and memory limits
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def fallback_python(configured: Path | None) -> str:
    """The rlimits-only interpreter; as root it must be runnable by the fresh uid each run drops to."""
    python = str(configured or sys.executable)
    if os.geteuid() == 0 and not others_can_run(python):
        raise SandboxError(
            f"Cannot sandbox code: bubblewrap is unavailable and the interpreter {python} is not runnable by "
            "the unprivileged user each run switches to. Install bubblewrap (apt-get install -y bubblewrap) or "
            "set SPARK_AGENTS_CODE_FALLBACK_PYTHON to an interpreter other users can run (e.g. /usr/bin/python3)."
        )
    return python


def others_can_run(path: str) -> bool:
    """Whether a user with no relation to the file's owner could execute `path` (every hop of its symlinks)."""
    seen: set[str] = set()
    current = os.path.abspath(path)
    while current not in seen:
        seen.add(current)
        parts = Path(current).parents
        if any(not os.stat(p).st_mode & stat.S_IXOTH for p in parts):
            return False
        if not os.path.islink(current):
            mode = os.stat(current).st_mode
            return bool(mode & stat.S_IXOTH and mode & stat.S_IROTH)
        current = os.path.join(os.path.dirname(current), os.readlink(current))
        current = os.path.abspath(current)
    return False


def kill_uid(python: str, uid: int) -> None:
    """SIGKILL every process of the run's own uid: `kill(-1)` from a helper that becomes that uid."""
    helper = f"import os, signal\nos.setgroups([]); os.setgid({uid}); os.setuid({uid}); os.kill(-1, signal.SIGKILL)"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run([python, "-I", "-S", "-c", helper], env={}, capture_output=True, timeout=10)


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def processes_of(uid: int) -> int:
    """Processes and threads `uid` has now (RLIMIT_NPROC counts threads too)."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(list((entry / "task").iterdir()))
            except OSError:
                continue
    return count
