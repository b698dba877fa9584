"""Test results from pytest's JUnit XML report (`--junitxml`), the format pytest keeps stable for tools.

pytest's terminal output changes between versions and mixes in whatever the tests print; the XML report
names every test, its outcome and the failure message. The report is written by the code's own pytest
run, so it is parsed as untrusted input: anything malformed means "no report".
"""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET

from coding.results import RunResult, TestCase, TestsResult

# `file` (xunit1) gives each test's path, so the name is pytest's node id (`test_x.py::TestA::test_b`).
PYTEST_OPTIONS = ["-o", "junit_family=xunit1"]
MAX_REPORT_BYTES = 4 << 20
_WRAPPED = re.compile(r'^failed on (setup|teardown) with "(.*)"$', re.DOTALL)


def _node_id(case: ET.Element) -> str:
    """`file::Class::name` back from junit's dotted `classname` and `name` (a module alone for a collection
    error)."""
    classname, name, file = case.get("classname", ""), case.get("name", ""), case.get("file")
    if not file:
        return "::".join(part for part in (classname, name) if part)
    module = file.removesuffix(".py").replace("/", ".")
    if not classname and name == module.rsplit(".", 1)[-1]:
        return file
    classes = classname[len(module) + 1 :].split(".") if classname.startswith(module + ".") else []
    return "::".join([file, *classes, name])


def _first_line(message: str | None) -> str | None:
    """The message's first line, as pytest's short summary shows it."""
    lines = (message or "").strip().splitlines()
    return lines[0] if lines else None


def _error_message(error: ET.Element) -> tuple[str | None, bool]:
    """(message, whether it is a teardown error) of an `<error>`: junit wraps the exception line in `failed on
    setup with "..."`, and a collection error's only message is "collection failure" (the text has the line)."""
    message = error.get("message") or ""
    match = _WRAPPED.match(message)
    if match:
        return _first_line(match.group(2)), match.group(1) == "teardown"
    if message == "collection failure":
        lines = [line.lstrip("E").strip() for line in (error.text or "").strip().splitlines()]
        return next((line for line in reversed(lines) if line), message), False
    return _first_line(message), False


def _outcomes(case: ET.Element) -> list[tuple[str, str | None]]:
    """(outcome, message) per result of one test: a test that fails and then errors in teardown has two."""
    results: list[tuple[str, str | None]] = []
    teardown_only = True
    for child in case:
        message = child.get("message")
        if child.tag == "failure":
            results.append(("failed", _first_line(message)))
            teardown_only = False
        elif child.tag == "error":
            text, teardown = _error_message(child)
            results.append(("error", text))
            teardown_only = teardown_only and teardown
        elif child.tag == "skipped":
            results.append(("xfailed" if child.get("type") == "pytest.xfail" else "skipped", message or None))
            teardown_only = False
    if not results or teardown_only:  # the call passed (an error after it is a teardown error)
        results.insert(0, ("passed", None))
    return results


def _duration(seconds: float) -> str:
    """As pytest writes it: `0.12s`, or `61.23s (0:01:01)` from a minute on."""
    if seconds < 60:
        return f"{seconds:.2f}s"
    return f"{seconds:.2f}s ({datetime.timedelta(seconds=int(seconds))})"


def _summary(counts: dict[str, int], seconds: float) -> str:
    """pytest's final line, e.g. `1 failed, 2 passed in 0.03s` (pytest's order: failed, passed, skipped,
    xfailed, xpassed, errors)."""
    parts = [f"{counts[k]} {k}" for k in ("failed", "passed", "skipped", "xfailed", "xpassed") if counts[k]]
    if counts["error"]:
        parts.append(f"{counts['error']} error" + ("s" if counts["error"] > 1 else ""))
    return f"{', '.join(parts) if parts else 'no tests ran'} in {_duration(seconds)}"


def parse_report(report: bytes | None, run: RunResult) -> TestsResult:
    """Counts and per-test outcomes from the XML report of `run`; without a readable report, why not."""
    cases: list[TestCase] = []
    counts = dict.fromkeys(("passed", "failed", "error", "skipped", "xfailed", "xpassed"), 0)
    summary = ""
    suite = None
    if report:
        try:
            root = ET.fromstring(report)
            suite = root if root.tag == "testsuite" else root.find("testsuite")
        except ET.ParseError:
            suite = None
    if suite is not None:
        for case in suite.iter("testcase"):
            name = _node_id(case)
            for outcome, message in _outcomes(case):
                counts[outcome] += 1
                cases.append(TestCase(name=name, outcome=outcome, message=message))  # type: ignore[arg-type]
        try:
            seconds = float(suite.get("time", "0"))
        except ValueError:
            seconds = 0.0
        summary = _summary(counts, seconds)
    else:
        summary = run.detail or run.error or f"pytest ended without a summary (exit code {run.exit_code})"
    passed, failed, errors, skipped = counts["passed"], counts["failed"], counts["error"], counts["skipped"]
    ok = run.stopped_by is None and run.exit_code == 0 and passed > 0 and failed == 0 and errors == 0
    return TestsResult(
        ok=ok, passed=passed, failed=failed, errors=errors, skipped=skipped, summary=summary, cases=cases, run=run
    )
