"""pid_alive: a zombie is dead, whoever's child it is (a killed service another client started)."""

from __future__ import annotations

import subprocess
import sys

from core.daemon import pid_alive

PARENT = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "pass"])
while open(f"/proc/{child.pid}/stat").read().rpartition(")")[2].split()[0] != "Z":
    time.sleep(0.01)
print(child.pid, flush=True)  # exited, not reaped: a zombie of this process
sys.stdin.read()
"""


def test_a_zombie_of_another_process_is_not_alive() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        zombie = int(parent.stdout.readline())
        assert not pid_alive(zombie)
        assert pid_alive(parent.pid)
    finally:
        parent.communicate("", timeout=30)
    assert not pid_alive(parent.pid)  # our own exited child: reaped and dead
