"""Run untrusted Python in a sandbox with hard limits.

Each run gets a fresh staging directory on the host and, inside the sandbox, a fresh `/work` (a size-capped
tmpfs) holding the code and the caller's files. Isolation, strongest first:

- `bubblewrap`: new mount, PID, network, IPC and UTS namespaces. Only `/usr` (read-only), the Python
  installation and the virtual environment (read-only), a private `/proc`, a minimal `/dev`, and size-capped
  tmpfs `/tmp` and `/work` are visible; the user's home, `/etc` (bar a two-line passwd/group), the data
  directory and everything else do not exist in there. No network at all (not even loopback to the host).
  When we are root (a container), a small launcher inside drops to a fresh unprivileged uid for each run,
  sets `no_new_privs` (bwrap) and the rlimits, then execs the interpreter.
- `rlimits-only` (bubblewrap missing or not working): the same rlimits, a scrubbed environment, a separate
  process group, and a fresh unprivileged uid when we are root. The file system and the network are NOT
  isolated then; the result says so.

Limits: wall time (the whole process tree is killed: with bubblewrap, killing the namespace's init kills
every process in it), CPU seconds (RLIMIT_CPU), address space (RLIMIT_AS), largest file (RLIMIT_FSIZE),
processes (RLIMIT_NPROC, counted for the run's own uid), open files, and captured output (read in chunks,
at most `max_output_bytes` kept per stream; more output stops the run). Every result names the limit or
isolation rule that stopped the run, if any.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import logging
import os
import random
import re
import selectors
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, Field

from agents.coding.settings import CodeSettings
from serving.errors import SparkAgentsError

log = logging.getLogger(__name__)

IsolationKind = Literal["bubblewrap", "rlimits-only"]
LimitName = Literal[
    "wall_time",
    "cpu_time",
    "memory",
    "file_size",
    "disk",
    "processes",
    "output",
    "network",
    "filesystem",
    "privileges",
]

WORK = "/work"  # the run's working directory inside the bubblewrap sandbox
VENV = "/venv"  # where the virtual environment is mounted (read-only) inside the sandbox


class SandboxError(SparkAgentsError):
    """The run could not be started (bad input, or the sandbox itself failed)."""


class Limits(BaseModel):
    """The limits one run gets (defaults come from `CodeSettings`)."""

    wall_time_s: float = Field(gt=0)
    cpu_time_s: int = Field(gt=0)
    memory_mb: int = Field(gt=0)
    max_output_bytes: int = Field(gt=0)
    max_file_mb: int = Field(gt=0)
    disk_mb: int = Field(gt=0)
    max_processes: int = Field(gt=0)
    max_open_files: int = Field(gt=0)

    @classmethod
    def from_settings(cls, settings: CodeSettings) -> Limits:
        return cls(**{name: getattr(settings, name) for name in cls.model_fields})


class RunResult(BaseModel):
    """What one sandboxed run did."""

    ok: bool = Field(description="exit code 0 and no limit hit")
    exit_code: int | None = Field(description="the process's exit code (128+N for signal N); None if we killed it")
    signal: str | None = Field(None, description="the signal that ended the process, e.g. SIGXCPU")
    stdout: str
    stderr: str
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    stdout_bytes: int = Field(0, description="bytes the run wrote to stdout (kept or not)")
    stderr_bytes: int = 0
    non_utf8: bool = Field(False, description="output held bytes that are not UTF-8 (shown as \\xNN escapes)")
    stopped_by: LimitName | None = Field(None, description="the limit or isolation rule that stopped the run")
    detail: str | None = Field(None, description="one line on why the run ended the way it did")
    error: str | None = Field(None, description="the last exception line in stderr, if any")
    duration_s: float
    cpu_time_s: float | None = None
    max_rss_mb: float | None = None
    isolation: IsolationKind
    limits: Limits


class TestCase(BaseModel):
    """One test's outcome, from pytest's short summary."""

    name: str
    outcome: Literal["passed", "failed", "error", "skipped", "xfailed", "xpassed"]
    message: str | None = None


class TestsResult(BaseModel):
    """A pytest run over the code: counts, each test's outcome, and the underlying run."""

    ok: bool = Field(description="at least one test ran and none failed or errored")
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    summary: str = Field(description="pytest's final line, or why there is none")
    cases: list[TestCase] = Field(default_factory=list)
    run: RunResult


_SUMMARY_LINE = re.compile(r"^=*\s*(?:\d+ \w+(?:, )?)+.* in [\d.]+s")
_COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")
_CASE = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S+)(?: - (.*))?$")
_SKIP = re.compile(r"^SKIPPED \[\d+\] (\S+?): (.*)$")
_OUTCOME = {"PASSED": "passed", "FAILED": "failed", "ERROR": "error", "SKIPPED": "skipped", "XFAIL": "xfailed"}


def parse_pytest(run: RunResult) -> TestsResult:
    """Counts and per-test outcomes from `pytest -q -rA`-style output."""
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    summary = ""
    cases: list[TestCase] = []
    for line in run.stdout.splitlines():
        stripped = line.strip()
        case = _CASE.match(stripped)
        skip = _SKIP.match(stripped)
        if skip:
            cases.append(TestCase(name=skip.group(1), outcome="skipped", message=skip.group(2)))
        elif case:
            outcome = _OUTCOME.get(case.group(1), "xpassed")
            cases.append(TestCase(name=case.group(2), outcome=outcome, message=case.group(3)))  # type: ignore[arg-type]
        elif _SUMMARY_LINE.match(stripped) or (stripped.startswith("no tests ran") and " in " in stripped):
            summary = stripped.strip("= ")
    for number, kind in _COUNT.findall(summary):
        key = "errors" if kind.startswith("error") else kind
        if key in counts:
            counts[key] = int(number)
    if not summary:
        summary = run.detail or run.error or f"pytest ended without a summary (exit code {run.exit_code})"
    ok = run.stopped_by is None and run.exit_code == 0 and counts["passed"] > 0
    ok = ok and counts["failed"] == 0 and counts["errors"] == 0
    return TestsResult(ok=ok, summary=summary, cases=cases, run=run, **counts)


# ---------------------------------------------------------------------------------------------------------
# The launcher: runs first inside the sandbox (as root when we are root), prepares /work, sets the rlimits,
# drops to the run's uid and execs the command: `python -I -S -c LAUNCHER CONFIG ARGV...` (CONFIG: a Python literal).
LAUNCHER = r"""
import os, resource, sys
cfg = eval(sys.argv[1], {"__builtins__": {}})  # a literal written by the server (json/re would cost ~50 ms)
cmd = sys.argv[2:]
work, uid, gid, status_fd = cfg["work"], cfg["uid"], cfg["gid"], cfg["status_fd"]
src = cfg["input"]
for root, dirs, files in os.walk(src):
    dest = work + root[len(src):]
    os.makedirs(dest, exist_ok=True)
    for name in files:
        with open(os.path.join(root, name), "rb") as f, open(os.path.join(dest, name), "wb") as g:
            g.write(f.read())
if uid is not None:  # bottom-up: once a directory is the run's (mode 0700), root here cannot enter it
    for root, dirs, files in os.walk(work, topdown=False):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)
    os.chown(work, uid, gid)
try:  # orphans of the code re-parent to this launcher, so their CPU time is counted
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
except Exception:
    pass
pid = os.fork()
if pid == 0:
    try:
        os.close(status_fd)
        for name, (soft, hard) in cfg["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (soft, hard))
        if uid is not None:
            os.setgroups([]); os.setgid(gid); os.setuid(uid)
        os.chdir(work)
        os.execve(cmd[0], cmd, cfg["env"])
    except BaseException as e:
        os.write(2, ("sandbox: cannot start %s: %s\n" % (cmd[0], e)).encode())
    finally:
        os._exit(127)
# The launcher stays as the code's parent (so os.getppid() is not the server) and reports its usage.
_, status, ru = os.wait4(pid, 0)
os.write(status_fd, ("%d %r %d" % (status, ru.ru_utime + ru.ru_stime, ru.ru_maxrss)).encode())
code = os.waitstatus_to_exitcode(status)
os._exit(code if code >= 0 else 128 - code)
"""


@functools.cache
def bubblewrap_works(bwrap: str = "bwrap") -> bool:
    """True when `bwrap` is installed and can create the namespaces we use here."""
    path = shutil.which(bwrap)
    if path is None:
        return False
    try:
        probe = subprocess.run(
            [path, *_namespace_args(), *_system_binds(), "--proc", "/proc", "--dev", "/dev", "true"],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    if probe.returncode != 0:
        log.warning("bubblewrap does not work here (%s)", probe.stderr.decode(errors="replace").strip()[:200])
    return probe.returncode == 0


def _namespace_args() -> list[str]:
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


# As root (no user namespace), the launcher keeps only what it needs to hand /work over and drop to the run's uid.
_ROOT_CAPS = ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_CHOWN"]


def _system_binds() -> list[str]:
    """`/usr` read-only, and `/bin`, `/lib*`, `/sbin` as the host has them (symlinks into /usr, or binds)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    return args


def _python_binds() -> tuple[list[str], str]:
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


def _decode(data: bytes, truncated: bool) -> tuple[str, bool]:
    """UTF-8 text; undecodable bytes become \\xNN escapes. A multi-byte character cut by truncation is dropped."""
    if truncated:
        decoder = codecs.getincrementaldecoder("utf-8")(errors="backslashreplace")
        text = decoder.decode(data, final=False)
    else:
        text = data.decode("utf-8", errors="backslashreplace")
    try:
        data.decode("utf-8")
        bad = False
    except UnicodeDecodeError as e:
        bad = not (truncated and e.start >= len(data) - 3 and e.reason == "unexpected end of data")
    return text, bad


_EXC_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?([A-Za-z_]\w*(?:Error|error|Exception|Exit|Interrupt))\b(.*)$")
_QUOTED_PATH = re.compile(r"'(/[^']*)'")


def last_exception(stderr: str) -> str | None:
    """The last `SomethingError: message` line of a traceback in stderr."""
    for line in reversed(stderr.splitlines()[-200:]):
        if _EXC_LINE.match(line.strip()):
            return line.strip()[:500]
    return None


def classify(error: str | None, isolation: IsolationKind, workdirs: tuple[str, ...]) -> tuple[LimitName | None, str]:
    """Which limit or isolation rule an exception line points at (None: the code's own failure)."""
    if error is None:
        return None, ""
    memory = ("MemoryError", "[Errno 12]", "bad_alloc", "emory allocation", "out of memory", "Cannot allocate memory")
    if any(s in error for s in memory):
        return "memory", "the memory limit (address space) was reached"
    if "[Errno 27]" in error:
        return "file_size", "the file size limit was reached"
    if "[Errno 28]" in error or "[Errno 122]" in error:
        return "disk", "the run's disk space (/work, /tmp) is full"
    if "[Errno 11]" in error or "can't start new thread" in error:
        return "processes", "the process limit was reached"
    network = ("[Errno 101]", "[Errno 111]", "[Errno 99]", "[Errno 113]", "gaierror", "[Errno -2]", "[Errno -3]")
    if isolation == "bubblewrap" and any(s in error for s in network):
        return "network", "the sandbox has no network"
    if "[Errno 1]" in error:
        return "privileges", "the run's unprivileged user may not do that"
    if any(s in error for s in ("[Errno 2]", "[Errno 13]", "[Errno 20]", "[Errno 30]")):
        match = _QUOTED_PATH.search(error)
        if match:
            path = match.group(1)
            inside = any(path == w or path.startswith(w + "/") for w in workdirs)
            # a host path the sandbox cannot see (it may share a prefix with the run's own /tmp)
            hidden = isolation == "bubblewrap" and inside and os.path.lexists(path)
            if not inside or hidden:
                return "filesystem", f"{path} is outside what the sandbox can see"
    return None, f"the code raised {error.split(':', 1)[0]}"


class _Staging:
    """A host directory for one run: input/ (copied into /work), etc/, stdin; removed afterwards."""

    def __init__(self, scratch: Path | None) -> None:
        if scratch:
            scratch.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="spark-code-", dir=scratch))
        self.input = self.root / "input"
        self.input.mkdir()
        self.etc = self.root / "etc"
        self.etc.mkdir()

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _safe_relpath(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\0" in name or str(path) in (".", ""):
        raise SandboxError(f"File name {name!r} is not allowed: use a relative path inside the work directory.")
    return path


class Sandbox:
    """Runs code under `Limits`; `isolation` says which mechanism this machine gets."""

    def __init__(self, settings: CodeSettings | None = None) -> None:
        self.settings = settings or CodeSettings()
        wanted = self.settings.isolation
        if wanted == "rlimits-only":
            self.isolation: IsolationKind = "rlimits-only"
        elif bubblewrap_works(self.settings.bwrap_path):
            self.isolation = "bubblewrap"
        elif wanted == "bubblewrap":
            raise SandboxError(
                "bubblewrap is required (SPARK_AGENTS_CODE_ISOLATION=bubblewrap) but does not work here: "
                "install it with `apt-get install -y bubblewrap`."
            )
        else:
            log.warning("bubblewrap is not available: code runs with rlimits only (no file or network isolation)")
            self.isolation = "rlimits-only"

    def _fallback_python(self) -> str:
        python = str(self.settings.fallback_python or sys.executable)
        if os.geteuid() == 0 and not _others_can_run(python):
            raise SandboxError(
                f"Cannot sandbox code: bubblewrap is unavailable and the interpreter {python} is not runnable by "
                "the unprivileged user each run switches to. Install bubblewrap (apt-get install -y bubblewrap) or "
                "set SPARK_AGENTS_CODE_FALLBACK_PYTHON to an interpreter other users can run (e.g. /usr/bin/python3)."
            )
        return python

    def default_limits(self) -> Limits:
        return Limits.from_settings(self.settings)

    # --- public API --------------------------------------------------------------------------------------
    def run_python(
        self,
        code: str,
        *,
        stdin: str | bytes | None = None,
        files: dict[str, str] | None = None,
        args: list[str] | None = None,
        limits: Limits | None = None,
    ) -> RunResult:
        """Run `code` as `main.py` with `files` beside it and `stdin` on standard input."""
        all_files = {**(files or {}), "main.py": code}
        return self.run(["python", "main.py", *(args or [])], files=all_files, stdin=stdin, limits=limits)

    def run_tests(
        self,
        code: str,
        tests: str,
        *,
        module: str = "solution",
        files: dict[str, str] | None = None,
        limits: Limits | None = None,
    ) -> TestsResult:
        """Save `code` as `<module>.py` and `tests` as `test_<module>.py`, and run pytest on them."""
        if not re.fullmatch(r"[A-Za-z_]\w{0,63}", module):
            raise SandboxError(f"Module name {module!r} is not a Python identifier: use e.g. 'solution'.")
        all_files = {**(files or {}), f"{module}.py": code, f"test_{module}.py": tests}
        argv = ["python", "-m", "pytest", "-q", "-rA", "--tb=short", "--no-header", "-p", "no:cacheprovider"]
        run = self.run([*argv, f"test_{module}.py"], files=all_files, limits=limits)
        return parse_pytest(run)

    def run(
        self,
        argv: list[str],
        *,
        files: dict[str, str] | None = None,
        stdin: str | bytes | None = None,
        limits: Limits | None = None,
    ) -> RunResult:
        """Run `argv` in the work directory (`python` as argv[0] means this interpreter)."""
        limits = limits or self.default_limits()
        files = files or {}
        stdin_bytes = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
        size = len(stdin_bytes) + sum(len(k) + len(v.encode()) for k, v in files.items())
        if size > self.settings.max_input_bytes:
            raise SandboxError(
                f"The input is {size} bytes, over the {self.settings.max_input_bytes}-byte limit "
                "(SPARK_AGENTS_CODE_MAX_INPUT_BYTES): send less code, stdin or files."
            )
        staging = _Staging(self.settings.scratch_dir)
        try:
            for name, content in files.items():
                target = staging.input / _safe_relpath(name)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content, encoding="utf-8")
            stdin_path = staging.root / "stdin"
            stdin_path.write_bytes(stdin_bytes)
            return self._execute(argv, staging, stdin_path, limits)
        finally:
            staging.cleanup()

    # --- internals ---------------------------------------------------------------------------------------
    def _execute(self, argv: list[str], staging: _Staging, stdin_path: Path, limits: Limits) -> RunResult:
        as_root = os.geteuid() == 0
        uid = random.randrange(self.settings.uid_base, self.settings.uid_base + 60000) if as_root else None
        rlimits = {
            "RLIMIT_CPU": (limits.cpu_time_s, limits.cpu_time_s + 1),
            "RLIMIT_AS": (limits.memory_mb << 20,) * 2,
            "RLIMIT_FSIZE": (limits.max_file_mb << 20,) * 2,
            "RLIMIT_NOFILE": (limits.max_open_files,) * 2,
            "RLIMIT_CORE": (0, 0),
            "RLIMIT_MEMLOCK": (0, 0),
            "RLIMIT_NPROC": (limits.max_processes,) * 2,
        }
        if not as_root:  # RLIMIT_NPROC counts every process of our uid: leave room for the ones already there
            rlimits["RLIMIT_NPROC"] = (_processes_of(os.getuid()) + limits.max_processes,) * 2
        if self.isolation == "bubblewrap":
            python_args, python = _python_binds()
            work, tmp = WORK, "/tmp"
            path = f"{VENV}/bin:/usr/local/bin:/usr/bin:/bin" if sys.prefix != sys.base_prefix else "/usr/bin:/bin"
        else:
            python = self._fallback_python()
            work = str(staging.root / "work")
            tmp = work + "/.tmp"
            os.makedirs(tmp)
            staging.root.chmod(0o711)
            path = f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"
        env = {
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
        command = [python if argv[0] == "python" else argv[0], *argv[1:]]
        config = {
            "input": "/input" if self.isolation == "bubblewrap" else str(staging.input),
            "work": work,
            "uid": uid,
            "gid": uid,
            "rlimits": rlimits,
            "env": env,
            "status_fd": -1,  # set in _spawn
        }
        launcher = [python, "-I", "-S", "-c", LAUNCHER, "{config}", *command]
        if self.isolation == "bubblewrap":
            (staging.etc / "passwd").write_text(
                f"root:x:0:0::/:/bin/false\nsandbox:x:{uid or 65534}:{uid or 65534}::{WORK}:/bin/sh\n"
            )
            (staging.etc / "group").write_text(f"root:x:0:\nsandbox:x:{uid or 65534}:\n")
            disk = str(limits.disk_mb << 20)
            full = [
                shutil.which(self.settings.bwrap_path) or self.settings.bwrap_path,
                *_namespace_args(),
                *(_ROOT_CAPS if as_root else []),
                *_system_binds(),
                *python_args,
                "--proc", "/proc",
                "--dev", "/dev",
                "--perms", "1777", "--size", disk, "--tmpfs", "/dev/shm",
                "--perms", "1777", "--size", disk, "--tmpfs", "/tmp",
                "--perms", "0700", "--size", disk, "--tmpfs", WORK,
                "--ro-bind", str(staging.input), "/input",
                "--perms", "0755", "--dir", "/etc",
                "--ro-bind", str(staging.etc / "passwd"), "/etc/passwd",
                "--ro-bind", str(staging.etc / "group"), "/etc/group",
                "--clearenv",
                "--chdir", "/",
                *launcher,
            ]  # fmt: skip
        else:
            full = launcher
        try:
            return self._spawn(full, config, stdin_path, limits, workdirs=(work, tmp))
        finally:
            if self.isolation == "rlimits-only" and uid is not None:
                _kill_uid(python, uid)  # descendants that left the process group (setsid) die too

    def _spawn(
        self, argv: list[str], config: dict, stdin_path: Path, limits: Limits, workdirs: tuple[str, ...]
    ) -> RunResult:
        start = time.monotonic()
        deadline = start + limits.wall_time_s
        cap = limits.max_output_bytes
        status_r, status_w = os.pipe()
        config["status_fd"] = status_w
        argv = [repr(config) if a == "{config}" else a for a in argv]
        try:
            with open(stdin_path, "rb") as stdin:
                proc = subprocess.Popen(
                    argv,
                    stdin=stdin,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env={} if self.isolation == "rlimits-only" else None,
                    start_new_session=True,
                    close_fds=True,
                    pass_fds=(status_w,),
                )
        except OSError as e:
            os.close(status_r)
            raise SandboxError(f"The sandbox could not start ({e}); check SPARK_AGENTS_CODE_BWRAP_PATH.") from e
        finally:
            os.close(status_w)
        assert proc.stdout is not None and proc.stderr is not None
        bufs = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
        totals = dict.fromkeys(bufs, 0)
        stopped: LimitName | None = None
        exited_at: float | None = None
        status: int | None = None
        sel = selectors.DefaultSelector()
        for f in (proc.stdout, proc.stderr):
            sel.register(f, selectors.EVENT_READ)
        try:
            while sel.get_map():
                now = time.monotonic()
                if now >= deadline:
                    stopped = "wall_time"
                    break
                if status is None:
                    pid, st = os.waitpid(proc.pid, os.WNOHANG)
                    if pid:
                        status, exited_at = st, now
                if exited_at is not None and now - exited_at > 0.5:
                    _kill_group(proc.pid)  # orphans still holding the pipes (rlimits-only)
                    exited_at = now + 3600
                for key, _ in sel.select(timeout=min(deadline - now, 0.05 if status is None else 0.2)):
                    data = os.read(key.fd, 65536)
                    if not data:
                        sel.unregister(key.fileobj)
                        continue
                    totals[key.fd] += len(data)
                    buf = bufs[key.fd]
                    if len(buf) < cap:
                        buf += data[: cap - len(buf)]
                    if totals[key.fd] > cap:
                        stopped = "output"
                if stopped:
                    break
        finally:
            sel.close()
            _kill_group(proc.pid)
            if status is None:
                _, status = os.waitpid(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            proc.stdout.close()
            proc.stderr.close()
            usage = _read_usage(status_r)
        duration = time.monotonic() - start
        out_raw, err_raw = list(bufs.values())
        out_total, err_total = list(totals.values())
        stdout, bad_out = _decode(bytes(out_raw), out_total > len(out_raw))
        stderr, bad_err = _decode(bytes(err_raw), err_total > len(err_raw))
        return self._result(
            proc.returncode, stopped, stdout, stderr, out_total, err_total, len(out_raw), len(err_raw),
            bad_out or bad_err, duration, usage, limits, workdirs,
        )  # fmt: skip

    def _result(
        self,
        returncode: int,
        stopped: LimitName | None,
        stdout: str,
        stderr: str,
        out_total: int,
        err_total: int,
        out_kept: int,
        err_kept: int,
        non_utf8: bool,
        duration: float,
        usage: dict | None,
        limits: Limits,
        workdirs: tuple[str, ...],
    ) -> RunResult:
        cpu = float(usage["cpu"]) if usage else None
        rss = float(usage["rss_kb"]) / 1024 if usage else None
        exit_code: int | None = returncode
        sig: int | None = None
        if returncode < 0:
            sig, exit_code = -returncode, 128 - returncode
        elif returncode > 128 and (returncode - 128) in {s.value for s in signal.Signals}:
            sig = returncode - 128
        sig_name = signal.Signals(sig).name if sig else None
        error = last_exception(stderr)
        last_line = next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), None)
        detail = ""
        if stopped == "wall_time":
            exit_code, sig_name = None, None
            detail = f"stopped after the {limits.wall_time_s:g} s wall-time limit (every process of the run killed)"
        elif stopped == "output":
            exit_code, sig_name = None, None
            detail = f"stopped: output exceeded the {limits.max_output_bytes}-byte limit"
        elif sig_name == "SIGXCPU" or (sig_name == "SIGKILL" and cpu is not None and cpu >= limits.cpu_time_s - 0.5):
            stopped, detail = "cpu_time", f"killed by the {limits.cpu_time_s} s CPU-time limit"
        elif sig_name == "SIGXFSZ":
            stopped, detail = "file_size", f"killed by the {limits.max_file_mb} MB file-size limit"
        elif sig_name == "SIGKILL":
            detail = "the process was killed by SIGKILL"
        elif returncode != 0:
            stopped, detail = classify(error or last_line, self.isolation, workdirs)
            if not error and not stopped:
                detail = f"the program exited with code {exit_code}"
            if sig_name and not stopped:
                detail = f"the process was killed by {sig_name}"
            if stopped == "memory":
                detail += f" ({limits.memory_mb} MB)"
            elif stopped == "processes":
                detail += f" ({limits.max_processes})"
            elif stopped == "file_size":
                detail += f" ({limits.max_file_mb} MB)"
        if self.isolation == "rlimits-only":
            detail = (detail + "; " if detail else "") + "isolation: rlimits only (no file-system or network isolation)"
        return RunResult(
            ok=returncode == 0 and stopped is None,
            exit_code=exit_code,
            signal=sig_name,
            stdout=stdout,
            stderr=stderr,
            stdout_truncated=out_total > out_kept,
            stderr_truncated=err_total > err_kept,
            stdout_bytes=out_total,
            stderr_bytes=err_total,
            non_utf8=non_utf8,
            stopped_by=stopped,
            detail=detail or None,
            error=error,
            duration_s=round(duration, 4),
            cpu_time_s=round(cpu, 4) if cpu is not None else None,
            max_rss_mb=round(rss, 1) if rss is not None else None,
            isolation=self.isolation,
            limits=limits,
        )


def _read_usage(fd: int) -> dict | None:
    """The launcher's report on the code's process (exit status, CPU seconds, peak RSS); None if it had none."""
    try:
        os.set_blocking(fd, False)
        status, cpu, rss_kb = os.read(fd, 4096).split()
        return {"status": int(status), "cpu": float(cpu), "rss_kb": int(rss_kb)}
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


def _others_can_run(path: str) -> bool:
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


def _kill_uid(python: str, uid: int) -> None:
    """SIGKILL every process of the run's own uid: `kill(-1)` from a helper that becomes that uid."""
    helper = f"import os, signal\nos.setgroups([]); os.setgid({uid}); os.setuid({uid}); os.kill(-1, signal.SIGKILL)"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run([python, "-I", "-S", "-c", helper], env={}, capture_output=True, timeout=10)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _processes_of(uid: int) -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(list((entry / "task").iterdir()))
            except OSError:
                continue
    return count
