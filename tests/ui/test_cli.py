"""`spark-agents ui` as a real subprocess: its options and its errors (the browser tests start the app with it)."""

from __future__ import annotations

import subprocess
import sys

CLI = [sys.executable, "-m", "cli"]


def test_ui_is_listed_with_its_options() -> None:
    out = subprocess.run([*CLI, "ui", "--help"], capture_output=True, text=True, timeout=60).stdout
    for option in ("--port", "--host", "--theme", "127.0.0.1"):
        assert option in out


def test_a_bad_theme_is_one_clear_line() -> None:
    r = subprocess.run([*CLI, "ui", "--theme", "purple"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.strip() == "error: --theme must be light or dark, not 'purple'"


def test_the_streamlit_command_binds_loopback_without_telemetry() -> None:
    from cli.ui import streamlit_command

    cmd = streamlit_command("127.0.0.1", 8600, "dark")
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("ui/app.py")
    pairs = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert pairs["--server.address"] == "127.0.0.1" and pairs["--server.port"] == "8600"
    assert pairs["--browser.gatherUsageStats"] == "false" and pairs["--server.headless"] == "true"
    assert pairs["--theme.base"] == "dark"
