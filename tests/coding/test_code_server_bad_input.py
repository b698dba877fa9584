"""Every bad input from the issue, sent to the code MCP server through a real MCP client over HTTP.

One server process serves the whole module: each test also shows it is still serving, and the last test
makes an ordinary call. Limits are small (3 s CPU; wall-time tests lower the wall limit per call) so the
suite stays quick.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.coding.helpers import call_tool, host_processes_with, run

pytestmark = pytest.mark.usefixtures("code_server")


def test_ordinary_run_returns_its_output_unchanged(code_server: str) -> None:
    code = "import sys\nprint('héllo, wörld ✓')\nprint('  spaced\\ttabs  ')\nsys.stderr.write('warn: x\\n')\n"
    result = run(code_server, code, stdin="")
    assert result["stdout"] == "héllo, wörld ✓\n  spaced\ttabs  \n"
    assert result["stderr"] == "warn: x\n"
    assert result["ok"] is True and result["exit_code"] == 0 and result["stopped_by"] is None
    assert result["stdout_truncated"] is False and result["non_utf8"] is False
    assert result["isolation"] == "bubblewrap"
    assert result["duration_s"] > 0


def test_infinite_loop_is_stopped_by_the_cpu_limit(code_server: str) -> None:
    result = run(code_server, "while True:\n    pass\n")
    assert result["stopped_by"] == "cpu_time", result
    assert result["signal"] == "SIGXCPU"
    assert "CPU-time limit" in result["detail"]
    assert result["ok"] is False


def test_sleeping_past_the_wall_limit_kills_the_run_and_its_children(code_server: str) -> None:
    marker = f"spark-marker-{uuid.uuid4().hex}"
    code = (
        "import subprocess, sys, time, os\n"
        # a plain child, and a daemonised grandchild in its own session (double fork + setsid)
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', '{marker}'])\n"
        f"subprocess.Popen([sys.executable, '-c', 'import os, time\\nif os.fork() == 0:\\n    os.setsid()\\n"
        f"    time.sleep(600)', '{marker}'], start_new_session=True)\n"
        "time.sleep(1)\n"
        "print('children started', flush=True)\n"
        "time.sleep(600)\n"
    )
    result = run(code_server, code, timeout_s=3)
    assert result["stopped_by"] == "wall_time", result
    assert result["exit_code"] is None
    assert "wall-time limit" in result["detail"]
    assert result["stdout"] == "children started\n"  # partial output is kept
    assert host_processes_with(marker) == []


def test_tool_timeout_can_only_lower_the_wall_limit(code_server: str) -> None:
    result = run(code_server, "import time\ntime.sleep(30)\n", timeout_s=1)
    assert result["stopped_by"] == "wall_time"
    assert result["limits"]["wall_time_s"] == 1
    result = run(code_server, "print(1)", timeout_s=10_000)
    assert result["limits"]["wall_time_s"] == 30  # the server's limit, not the caller's


def test_fork_bomb_is_stopped_by_the_process_limit(code_server: str) -> None:
    result = run(code_server, "import os\nwhile True:\n    os.fork()\n")
    assert result["stopped_by"] == "processes", result
    assert "process limit" in result["detail"]
    assert "BlockingIOError" in result["error"]


def test_shell_fork_bomb_is_contained(code_server: str) -> None:
    marker = f"bomb{uuid.uuid4().hex[:8]}"
    bomb = f"{marker}() {{ {marker} | {marker} & }}; {marker}"
    code = f"import subprocess, time\nsubprocess.run(['/bin/sh', '-c', '{bomb}'])\ntime.sleep(600)\n"
    result = run(code_server, code, timeout_s=2)
    # sh's forks fail ("Resource temporarily unavailable") at the process limit until the wall limit ends it all
    assert result["stopped_by"] == "wall_time", result
    assert host_processes_with(marker) == []
    assert run(code_server, "print('still here')")["stdout"] == "still here\n"


@pytest.mark.parametrize(
    "code",
    ["x = bytearray(10 * 1024**3)\n", "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024**2))\n"],
    ids=["10GB-at-once", "50MB-at-a-time"],
)
def test_allocating_10_gb_is_stopped_by_the_memory_limit(code_server: str, code: str) -> None:
    result = run(code_server, code)
    assert result["stopped_by"] == "memory", result
    assert result["error"] == "MemoryError"
    assert "512 MB" in result["detail"]


def test_writing_a_1_gb_file_is_stopped_by_the_file_size_limit(code_server: str) -> None:
    code = "with open('big.bin', 'wb') as f:\n    for _ in range(1024):\n        f.write(b'x' * (1 << 20))\n"
    result = run(code_server, code)
    assert result["stopped_by"] == "file_size", result
    assert "File too large" in result["error"]


def test_many_files_fill_only_the_runs_own_disk(code_server: str) -> None:
    code = (
        "for i in range(100):\n    with open(f'/tmp/f{i}', 'wb') as f:\n"
        "        for _ in range(15):\n            f.write(b'x' * (1 << 20))\n"
    )
    result = run(code_server, code)
    assert result["stopped_by"] == "disk", result


def test_reading_etc_shadow_is_blocked(code_server: str) -> None:
    result = run(code_server, "print(open('/etc/shadow').read())\n")
    assert result["stopped_by"] == "filesystem", result
    assert "/etc/shadow" in result["detail"]
    assert result["stdout"] == ""


def test_reading_ssh_keys_is_blocked(code_server: str) -> None:
    host_ssh = str(Path.home() / ".ssh")
    code = (
        "import os\n"
        "print(os.path.expanduser('~'), os.path.exists(os.path.expanduser('~/.ssh')))\n"
        f"print(os.listdir({host_ssh!r}))\n"
    )
    result = run(code_server, code)
    assert result["stdout"] == "/work False\n"  # $HOME is the run's own work directory
    assert result["stopped_by"] == "filesystem", result
    assert host_ssh in result["detail"]


def test_reading_the_data_directory_is_blocked(code_server: str, server_home: Path) -> None:
    secret = server_home / "secret.txt"
    code = f"import os\nprint(os.listdir({str(server_home)!r}))\nprint(open({str(secret)!r}).read())\n"
    result = run(code_server, code)
    assert result["stopped_by"] == "filesystem", result
    assert "the user's private data" not in result["stdout"] + result["stderr"]
    assert secret.read_text() == "the user's private data\n"  # stored data intact


def test_socket_to_a_host_service_on_loopback_is_unreachable(code_server: str) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                accepted.append(listener.accept())
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        # the listener is real and reachable from the host
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        deadline = time.monotonic() + 5
        while not accepted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(accepted) == 1
        code = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=3)\nprint('connected')\n"
        result = run(code_server, code)
    finally:
        stop.set()
        thread.join(2)
        listener.close()
    assert result["stopped_by"] == "network", result
    assert "connected" not in result["stdout"]
    assert len(accepted) == 1  # the host's own probe; nothing from the sandbox arrived


@pytest.mark.parametrize("target", ["('1.1.1.1', 53)", "('example.com', 80)"])
def test_socket_to_an_outside_address_fails(code_server: str, target: str) -> None:
    result = run(code_server, f"import socket\nsocket.create_connection({target}, timeout=3)\nprint('connected')\n")
    assert result["stopped_by"] == "network", result
    assert result["stdout"] == ""


def test_killing_the_parent_fails_and_the_server_keeps_serving(code_server: str) -> None:
    result = run(code_server, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint('killed it')\n")
    assert result["stopped_by"] == "privileges", result
    assert result["stdout"] == ""
    assert run(code_server, "print('still here')")["stdout"] == "still here\n"


def test_killing_everything_it_can_only_kills_the_run(code_server: str) -> None:
    # kill(-1) signals every process the caller may signal: inside the sandbox, that is nothing but the run
    result = run(code_server, "import os, signal\nos.kill(-1, signal.SIGKILL)\nprint('alive')\n")
    assert result["stdout"] == "alive\n", result
    assert run(code_server, "print('still here')")["stdout"] == "still here\n"


def test_printing_100_mb_is_stopped_by_the_output_limit(code_server: str) -> None:
    result = run(code_server, "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * (1 << 20))\n")
    assert result["stopped_by"] == "output", result
    assert result["stdout_truncated"] is True
    assert result["stdout"] == "x" * 65536
    assert 65536 < result["stdout_bytes"] < 100 * (1 << 20)


def test_non_utf8_output_is_escaped_and_flagged(code_server: str) -> None:
    code = "import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe\\n')\nsys.stderr.buffer.write(b'\\x80 bad\\n')\n"
    result = run(code_server, code)
    assert result["ok"] is True
    assert result["stdout"] == "ok \\xff\\xfe\n"
    assert result["stderr"] == "\\x80 bad\n"
    assert result["non_utf8"] is True


def test_syntax_error_is_reported_as_the_codes_own_error(code_server: str) -> None:
    result = run(code_server, "def broken(:\n    pass\n")
    assert result["ok"] is False and result["exit_code"] == 1
    assert result["stopped_by"] is None
    assert result["error"].startswith("SyntaxError")
    assert result["detail"] == "the code raised SyntaxError"


def test_bad_file_names_are_refused_with_a_clear_error(code_server: str) -> None:
    is_error, message = call_tool(code_server, "run_python", {"code": "print(1)", "files": {"../escape.py": "x"}})
    assert is_error
    assert "not allowed" in message and "relative path" in message


def test_a_final_ordinary_call_still_works(code_server: str) -> None:
    result = run(code_server, "import sys\nprint(sys.stdin.read().upper())\n", stdin="after all that\n")
    assert result["ok"] is True
    assert result["stdout"] == "AFTER ALL THAT\n\n"
    assert os.path.isdir("/proc")  # (sanity: the host-side process checks above were meaningful)
