"""Run untrusted Python in a sandbox with hard limits.

Each run gets a fresh staging directory on the host and, inside the sandbox, a fresh `/work` (a size-capped
tmpfs) holding the code and the caller's files. `coding.isolation` says what the code can see; the launcher
(`coding.launcher`) runs first inside, drops to a fresh unprivileged uid when we are root, sets the rlimits
and execs the command; this module stages the input, watches the run and turns what it saw into a result.

Limits: wall time (the whole process tree is killed: with bubblewrap, killing the namespace's init kills
every process in it), CPU seconds (RLIMIT_CPU), address space (RLIMIT_AS), largest file (RLIMIT_FSIZE),
processes (RLIMIT_NPROC, counted for the run's own uid), open files, and captured output (read in chunks,
at most `max_output_bytes` kept per stream; more output stops the run). Every result names the limit or
isolation rule that stopped the run, if any.
"""

from __future__ import annotations

import os
import random
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath

from coding import isolation
from coding.pytest_report import MAX_REPORT_BYTES, PYTEST_OPTIONS, parse_report
from coding.results import IsolationKind, LimitName, Limits, Outcome, RunResult, SandboxError, TestsResult, interpret
from coding.settings import CodeSettings

PYTEST_ARGV = ["python", "-m", "pytest", "-q", "-rA", "--tb=short", "--no-header", "-p", "no:cacheprovider"]
REPORT_NAME = "pytest-report.xml"  # in the run's $TMPDIR, which pytest expands in --junitxml itself


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

    def __init__(self, settings: CodeSettings) -> None:
        self.settings = settings
        self.isolation: IsolationKind = isolation.choose_isolation(self.settings)

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
        argv = [*PYTEST_ARGV, f"--junitxml=$TMPDIR/{REPORT_NAME}", *PYTEST_OPTIONS, f"test_{module}.py"]
        run, report = self._run(argv, all_files, b"", limits, report=REPORT_NAME)
        return parse_report(report, run)

    def run(
        self,
        argv: list[str],
        *,
        files: dict[str, str] | None = None,
        stdin: str | bytes | None = None,
        limits: Limits | None = None,
    ) -> RunResult:
        """Run `argv` in the work directory (`python` as argv[0] means this interpreter)."""
        stdin_bytes = stdin.encode() if isinstance(stdin, str) else (stdin or b"")
        return self._run(argv, files or {}, stdin_bytes, limits)[0]

    # --- internals ---------------------------------------------------------------------------------------
    def _run(
        self, argv: list[str], files: dict[str, str], stdin: bytes, limits: Limits | None, report: str | None = None
    ) -> tuple[RunResult, bytes | None]:
        """The run, and the file `report` (a name in the run's $TMPDIR) as the run left it, if asked for."""
        limits = limits or self.default_limits()
        size = len(stdin) + sum(len(k) + len(v.encode()) for k, v in files.items())
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
            stdin_path.write_bytes(stdin)
            return self._execute(argv, staging, stdin_path, limits, report)
        finally:
            staging.cleanup()

    def _execute(
        self, argv: list[str], staging: _Staging, stdin_path: Path, limits: Limits, report: str | None
    ) -> tuple[RunResult, bytes | None]:
        uid = random.randrange(self.settings.uid_base, self.settings.uid_base + 60000) if os.geteuid() == 0 else None
        if self.isolation == "bubblewrap":
            python_args, python = isolation.python_binds()
            work, tmp, path, launcher = isolation.WORK, "/tmp", isolation.sandbox_path(), isolation.LAUNCHER_INSIDE
        else:
            python = isolation.fallback_python(self.settings.fallback_python)
            work = str(staging.root / "work")
            tmp = work + "/.tmp"
            os.makedirs(tmp)
            staging.root.chmod(0o711)
            path = f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin"
            launcher = str(isolation.LAUNCHER)
        command = [python if argv[0] == "python" else argv[0], *argv[1:]]
        config = {
            "input": "/input" if self.isolation == "bubblewrap" else str(staging.input),
            "work": work,
            "uid": uid,
            "gid": uid,
            "rlimits": isolation.rlimits(limits),
            "env": isolation.environment(path, work, tmp),
            "status_fd": -1,  # set in _spawn
            "report": f"{tmp}/{report}" if report else None,
            "report_max": MAX_REPORT_BYTES,
        }
        full = [python, "-I", "-S", launcher, "{config}", *command]
        if self.isolation == "bubblewrap":
            prefix = isolation.bwrap_command(
                self.settings.bwrap_path,
                python_args=python_args,
                input_dir=staging.input,
                etc_dir=staging.etc,
                uid=uid,
                disk_mb=limits.disk_mb,
            )
            full = prefix + full
        try:
            outcome, report_bytes = self._spawn(full, config, stdin_path, limits)
        finally:
            if self.isolation == "rlimits-only" and uid is not None:
                isolation.kill_uid(python, uid)  # descendants that left the process group (setsid) die too
        return interpret(outcome, limits, self.isolation, workdirs=(work, tmp)), report_bytes

    def _spawn(self, argv: list[str], config: dict, stdin_path: Path, limits: Limits) -> tuple[Outcome, bytes | None]:
        """Start the launcher, collect its output and status under the wall-time and output limits."""
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
        status_buf = bytearray()  # the launcher's status line, then the report (read as it comes: it may be large)
        stopped: LimitName | None = None
        exited_at: float | None = None
        status: int | None = None
        sel = selectors.DefaultSelector()
        for f in (proc.stdout, proc.stderr, status_r):
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
                    isolation.kill_group(proc.pid)  # orphans still holding the pipes (rlimits-only)
                    exited_at = now + 3600
                for key, _ in sel.select(timeout=min(deadline - now, 0.05 if status is None else 0.2)):
                    data = os.read(key.fd, 65536)
                    if not data:
                        sel.unregister(key.fileobj)
                    elif key.fd == status_r:
                        status_buf += data[: max(0, MAX_REPORT_BYTES + 256 - len(status_buf))]
                    else:
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
            isolation.kill_group(proc.pid)
            if status is None:
                _, status = os.waitpid(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            proc.stdout.close()
            proc.stderr.close()
            status_buf += _drain(status_r)
        usage, report = _parse_status(bytes(status_buf))
        out_raw, err_raw = (bytes(b) for b in bufs.values())
        out_total, err_total = totals.values()
        outcome = Outcome(
            returncode=proc.returncode,
            stopped=stopped,
            stdout=out_raw,
            stderr=err_raw,
            stdout_total=out_total,
            stderr_total=err_total,
            duration_s=time.monotonic() - start,
            cpu_s=usage[0] if usage else None,
            rss_kb=usage[1] if usage else None,
        )
        return outcome, report


def _drain(fd: int) -> bytes:
    """What is left in the status pipe once every process of the run is gone; closes it."""
    data = bytearray()
    try:
        os.set_blocking(fd, False)
        while len(data) <= MAX_REPORT_BYTES and (chunk := os.read(fd, 65536)):
            data += chunk
    except OSError:
        pass
    finally:
        os.close(fd)
    return bytes(data)


def _parse_status(data: bytes) -> tuple[tuple[float, int] | None, bytes | None]:
    """The launcher's report on the code's process (CPU seconds, peak RSS in kB; None if it had none), and
    the report file it sent after it (None if none)."""
    line, newline, report = data.partition(b"\n")
    try:
        _status, cpu, rss_kb = line.split()
        usage: tuple[float, int] | None = (float(cpu), int(rss_kb))
    except ValueError:
        usage = None
    return usage, (report[:MAX_REPORT_BYTES] if newline and report else None)
