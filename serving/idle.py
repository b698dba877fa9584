"""The on-demand watchdog: stops a local model server after SPARK_AGENTS_ON_DEMAND_IDLE_MINUTES without use.

One small detached process per on-demand server (`python -m serving.idle NAME`). A server counts as busy when
a client touched its activity file (agents/llm.py does on every call) or when its process used CPU since the
last look, so requests from any client keep it up, not only ours. The next request starts it again
(serving.lifecycle.ready).
"""

from __future__ import annotations

import logging
import os
import sys
import time

from core.daemon import spawn_detached
from serving.llama_server import LocalModelServer
from serving.settings import ServingSettings

log = logging.getLogger(__name__)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spawn_watch(server: LocalModelServer) -> None:
    log_file = server.settings.log_dir / f"idle-{server.name}.log"
    spawn_detached([sys.executable, "-m", "serving.idle", server.name], log_file)


def watch(server: LocalModelServer) -> bool:
    """Block until the server is idle long enough (stop it: True) or gone or replaced (False)."""
    state = server.state()
    if state is None:
        return False
    idle_s = server.settings.on_demand_idle_minutes * 60
    poll = max(0.5, min(10.0, idle_s / 4))
    last_cpu, busy_at = cpu_seconds(state.pid), time.time()
    while True:
        time.sleep(poll)
        now_state = server.state()
        if now_state is None or now_state.pid != state.pid:
            return False
        cpu = cpu_seconds(state.pid)
        if cpu - last_cpu > 0.05 * poll:  # it computed something since the last look
            busy_at = time.time()
        last_cpu = cpu
        try:
            touched = server.activity_file.stat().st_mtime
        except FileNotFoundError:
            touched = 0.0
        if time.time() - max(busy_at, touched) >= idle_s:
            log.info("stopping idle on-demand server %s (pid %s)", server.name, state.pid)
            server.stop()
            return True


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    watch(LocalModelServer(ServingSettings(), sys.argv[1]))


if __name__ == "__main__":
    main()
