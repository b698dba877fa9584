"""What a sandboxed run reports: its limits, its result, and which limit or isolation rule stopped it.

Kept apart from the process handling so that callers (the MCP server, tests) can use the result types
and the classification without starting anything.
"""

from __future__ import annotations

import codecs
import os
import re
import signal
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from coding.settings import CodeSettings
from core.errors import SparkAgentsError

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


def decode_output(data: bytes, truncated: bool) -> tuple[str, bool]:
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


@dataclass
class Outcome:
    """What the sandbox observed of one run, before it is interpreted."""

    returncode: int
    stopped: LimitName | None  # a limit the sandbox itself enforced (wall time, output)
    stdout: bytes
    stderr: bytes
    stdout_total: int
    stderr_total: int
    duration_s: float
    cpu_s: float | None  # from the launcher's report on the code's process
    rss_kb: int | None


def interpret(outcome: Outcome, limits: Limits, isolation: IsolationKind, workdirs: tuple[str, ...]) -> RunResult:
    """The run's result: decoded output, and which limit (if any) the exit status or stderr points at."""
    stdout, bad_out = decode_output(outcome.stdout, outcome.stdout_total > len(outcome.stdout))
    stderr, bad_err = decode_output(outcome.stderr, outcome.stderr_total > len(outcome.stderr))
    returncode, stopped, cpu = outcome.returncode, outcome.stopped, outcome.cpu_s
    rss = outcome.rss_kb / 1024 if outcome.rss_kb is not None else None
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
        stopped, detail = classify(error or last_line, isolation, workdirs)
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
    if isolation == "rlimits-only":
        detail = (detail + "; " if detail else "") + "isolation: rlimits only (no file-system or network isolation)"
    return RunResult(
        ok=returncode == 0 and stopped is None,
        exit_code=exit_code,
        signal=sig_name,
        stdout=stdout,
        stderr=stderr,
        stdout_truncated=outcome.stdout_total > len(outcome.stdout),
        stderr_truncated=outcome.stderr_total > len(outcome.stderr),
        stdout_bytes=outcome.stdout_total,
        stderr_bytes=outcome.stderr_total,
        non_utf8=bad_out or bad_err,
        stopped_by=stopped,
        detail=detail or None,
        error=error,
        duration_s=round(outcome.duration_s, 4),
        cpu_time_s=round(cpu, 4) if cpu is not None else None,
        max_rss_mb=round(rss, 1) if rss is not None else None,
        isolation=isolation,
        limits=limits,
    )
