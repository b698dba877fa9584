"""Sandbox overhead: the time to run trivial code directly vs. under rlimits-only vs. under bubblewrap,
and a small pytest run. `python -m bench code_sandbox`"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from coding.isolation import bubblewrap_works, others_can_run
from coding.sandbox import Sandbox
from coding.settings import CodeSettings

RUNS = int(os.environ.get("BENCH_CODE_RUNS", "15"))
TESTS = "from solution import add\n\ndef test_add():\n    assert add(1, 2) == 3\n"


def _time(fn: Callable[[], object], runs: int = RUNS) -> list[float]:
    fn()  # warm the page cache
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _row(name: str, samples: list[float]) -> str:
    samples = sorted(samples)
    p90 = samples[min(len(samples) - 1, int(len(samples) * 0.9))]
    return f"| {name} | {len(samples)} | {statistics.median(samples):.1f} | {p90:.1f} |"


def main() -> None:
    load = os.getloadavg()[0]
    rows = []
    direct = [sys.executable, "-c", "print('hi')"]
    rows.append(
        _row(
            "plain subprocess (`python -c`), no limits",
            _time(lambda: subprocess.run(direct, check=True, capture_output=True)),
        )
    )
    fallback_python = None
    if os.geteuid() == 0 and not others_can_run(sys.executable) and others_can_run("/usr/bin/python3"):
        fallback_python = Path("/usr/bin/python3")
    fallback = Sandbox(CodeSettings(isolation="rlimits-only", fallback_python=fallback_python))
    rows.append(_row("run_python, rlimits-only", _time(lambda: fallback.run_python("print('hi')"))))
    if bubblewrap_works():
        bwrap = Sandbox(CodeSettings(isolation="bubblewrap"))
        rows.append(_row("run_python, bubblewrap", _time(lambda: bwrap.run_python("print('hi')"))))
        code = "def add(a, b):\n    return a + b\n"
        rows.append(_row("run_tests (1 test), bubblewrap", _time(lambda: bwrap.run_tests(code, TESTS), runs=5)))
    else:
        rows.append("| run_python, bubblewrap | - | (bubblewrap unavailable) | - |")
    print(f"load average at start: {load:.1f} on {os.cpu_count()} CPUs\n")
    print("| what | runs | median ms | p90 ms |")
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
