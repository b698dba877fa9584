"""The sandbox and codegen as a library: the rlimits-only fallback, output decoding, pytest parsing,
code extraction, and settings."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

from coding.codegen import CodingInputError, extract_code, generate_code
from coding.isolation import others_can_run
from coding.pytest_report import parse_report
from coding.results import Limits, RunResult, SandboxError, classify, decode_output
from coding.sandbox import Sandbox
from coding.settings import CodeSettings
from tests.coding.helpers import host_processes_with, needs_bwrap
from tests.support.scripted_server import ScriptedServer, text


def _fallback_python() -> Path | None:
    """As root, each run drops to its own uid: it needs an interpreter other users can run."""
    if os.geteuid() != 0 or others_can_run(sys.executable):
        return None
    if others_can_run("/usr/bin/python3"):
        return Path("/usr/bin/python3")
    pytest.skip("no interpreter that unprivileged users can run")


@pytest.fixture
def fallback() -> Sandbox:
    settings = CodeSettings(isolation="rlimits-only", wall_time_s=30, cpu_time_s=1, fallback_python=_fallback_python())
    return Sandbox(settings)


@pytest.mark.skipif(os.geteuid() != 0 or others_can_run(sys.executable), reason="needs root and a private Python")
def test_fallback_refuses_an_interpreter_the_run_user_cannot_run() -> None:
    sandbox = Sandbox(CodeSettings(isolation="rlimits-only"))
    with pytest.raises(SandboxError, match="not runnable by the unprivileged user"):
        sandbox.run_python("print(1)")


def test_fallback_runs_ordinary_code_and_says_it_is_weaker(fallback: Sandbox) -> None:
    result = fallback.run_python("import os\nprint('hi ✓', os.getcwd() != '/')\n", stdin="")
    assert result.isolation == "rlimits-only"
    assert result.stdout == "hi ✓ True\n" and result.ok
    assert "no file-system or network isolation" in (result.detail or "")


def test_fallback_still_enforces_the_limits(fallback: Sandbox) -> None:
    marker = f"spark-marker-{uuid.uuid4().hex}"
    child = (
        f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', "
        f"'{marker}'])\ntime.sleep(600)\n"
    )
    if os.geteuid() == 0:  # each run has its own uid: even a daemonised grandchild in its own session dies
        child = child.replace(
            "time.sleep(600)\n",
            f"subprocess.Popen([sys.executable, '-c', 'import os, time\\nif os.fork() == 0:\\n    os.setsid()\\n"
            f"    time.sleep(600)', '{marker}'], start_new_session=True)\ntime.sleep(600)\n",
            1,
        )
    short = fallback.default_limits().model_copy(update={"wall_time_s": 2})
    assert fallback.run_python(child, limits=short).stopped_by == "wall_time"
    assert host_processes_with(marker) == []
    assert fallback.run_python("x = bytearray(10 * 1024**3)").stopped_by == "memory"
    assert fallback.run_python("while True:\n    pass\n").stopped_by == "cpu_time"
    assert fallback.run_python("print('x' * 10_000_000)").stopped_by == "output"
    big = "with open('big', 'wb') as f:\n    for _ in range(64):\n        f.write(b'x' * (1 << 20))\n"
    assert fallback.run_python(big).stopped_by == "file_size"
    assert fallback.run_python("import os\nwhile True:\n    os.fork()\n").stopped_by == "processes"


def test_fallback_keeps_the_code_off_the_servers_process(fallback: Sandbox) -> None:
    result = fallback.run_python("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint('x')\n")
    # as root, the code runs under its own uid and cannot signal the launcher; otherwise it kills only the launcher
    assert result.stdout == ""
    assert fallback.run_python("print('alive')").stdout == "alive\n"


@needs_bwrap
def test_run_tests_counts_collection_errors_and_empty_suites() -> None:
    sandbox = Sandbox(CodeSettings(cpu_time_s=5))
    broken = sandbox.run_tests("def add(:\n", "from solution import add\n\ndef test_a():\n    assert add\n")
    assert broken.errors == 1 and not broken.ok and "1 error" in broken.summary
    empty = sandbox.run_tests("x = 1\n", "y = 2\n")
    assert empty.passed == 0 and not empty.ok and "no tests ran" in empty.summary


def test_input_checks() -> None:
    sandbox = Sandbox(CodeSettings(isolation="rlimits-only", max_input_bytes=2048))
    with pytest.raises(SandboxError, match="over the 2048-byte limit"):
        sandbox.run_python("x = 1\n" * 1000)
    for name in ("../x.py", "/abs.py", "a/../../b.py", ""):
        with pytest.raises(SandboxError, match="not allowed"):
            sandbox.run_python("print(1)", files={name: "x"})
    with pytest.raises(SandboxError, match="bubblewrap is required"):
        Sandbox(CodeSettings(isolation="bubblewrap", bwrap_path="/nonexistent/bwrap"))


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_CODE_WALL_TIME_S", "3.5")
    monkeypatch.setenv("SPARK_AGENTS_CODE_MEMORY_MB", "256")
    limits = Limits.from_settings(CodeSettings())
    assert limits.wall_time_s == 3.5 and limits.memory_mb == 256
    assert limits.max_output_bytes == 65536 and limits.cpu_time_s == 10  # defaults


def test_decode_keeps_text_and_escapes_bytes() -> None:
    assert decode_output("héllo".encode(), truncated=False) == ("héllo", False)
    assert decode_output(b"a\xffb", truncated=False) == ("a\\xffb", True)
    cut = "ab€".encode()[:-1]  # a multi-byte character cut by the output limit is not "non-UTF-8"
    assert decode_output(cut, truncated=True) == ("ab", False)


@pytest.mark.parametrize(
    "error, limit",
    [
        ("MemoryError", "memory"),
        ("OSError: [Errno 27] File too large", "file_size"),
        ("BlockingIOError: [Errno 11] Resource temporarily unavailable", "processes"),
        ("OSError: [Errno 101] Network is unreachable", "network"),
        ("FileNotFoundError: [Errno 2] No such file or directory: '/etc/shadow'", "filesystem"),
        ("FileNotFoundError: [Errno 2] No such file or directory: '/work/missing.txt'", None),
        ("ValueError: bad", None),
    ],
)
def test_classify(error: str, limit: str | None) -> None:
    assert classify(error, "bubblewrap", ("/work", "/tmp"))[0] == limit


@pytest.mark.parametrize(
    "answer, code",
    [
        ("```python\nprint(1)\n```", "print(1)\n"),
        ("Sure!\n```py\nprint(2)\n```\nDone.", "print(2)\n"),
        ("```bash\nls\n```\n```python\nprint(3)\n```", "print(3)\n"),
        ("```\nprint(4)\n```", "print(4)\n"),
        ("```python\nprint(5)\n", "print(5)\n"),  # unclosed fence (answer cut by max_tokens)
        ("print(6)", "print(6)"),
    ],
)
def test_extract_code(answer: str, code: str) -> None:
    assert extract_code(answer, "python")[0] == code


def test_generate_code_library_call(scripted_roles: ScriptedServer) -> None:
    scripted_roles.script(text("```javascript\nconsole.log(1)\n```"))
    result = generate_code("javascript", "log one", settings=CodeSettings())
    assert result.code == "console.log(1)\n" and result.language == "javascript"
    with pytest.raises(CodingInputError, match="task is empty"):
        generate_code("python", "", settings=CodeSettings())
    with pytest.raises(CodingInputError, match="Unknown language"):
        generate_code("py; rm -rf /", "x", settings=CodeSettings())


def test_pytest_report_is_read_from_the_junit_xml() -> None:
    limits = Sandbox(CodeSettings(isolation="rlimits-only")).default_limits()
    ran = RunResult(ok=True, exit_code=1, stdout="", stderr="", duration_s=0.1, isolation="bubblewrap", limits=limits)
    case = '<testcase classname="test_s{}" name="{}" file="test_s.py">{}</testcase>'
    xml = "".join(
        [
            '<testsuites><testsuite time="0.5">',
            case.format("", "test_ok", ""),
            case.format(".TestA", "test_bad[1]", '<failure message="assert 1 == 2&#10;more"/>'),
            case.format("", "test_td", "<error message='failed on teardown with \"OSError: x\"'/>"),
            case.format("", "test_sk", '<skipped type="pytest.skip" message="later"/>'),
            "</testsuite></testsuites>",
        ]
    ).encode()
    result = parse_report(xml, ran)
    assert (result.passed, result.failed, result.errors, result.skipped) == (2, 1, 1, 1)
    assert result.summary == "1 failed, 2 passed, 1 skipped, 1 error in 0.50s" and not result.ok
    assert [(c.name, c.outcome, c.message) for c in result.cases] == [
        ("test_s.py::test_ok", "passed", None),
        ("test_s.py::TestA::test_bad[1]", "failed", "assert 1 == 2"),
        ("test_s.py::test_td", "passed", None),
        ("test_s.py::test_td", "error", "OSError: x"),
        ("test_s.py::test_sk", "skipped", "later"),
    ]
    for broken in (None, b"", b"<testsuites><testsuite", b"not xml"):
        assert parse_report(broken, ran).summary == "pytest ended without a summary (exit code 1)"
