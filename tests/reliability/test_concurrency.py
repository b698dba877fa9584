"""More concurrent turns than a default worker pool has threads are all in flight at once (no queueing
behind the 40 threads of anyio's default pool), and each gets its own answer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.api.conftest import running_api
from tests.support.scripted_server import Reply, ScriptedServer

CONCURRENT = 48


def test_more_turns_than_worker_threads_run_at_once(
    scripted_roles: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARK_AGENTS_AGENT_ROUTING", "llm")
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "false")
    # Every model call waits until all CONCURRENT turns have reached the model: if the API could only run
    # 40 at a time, the barrier would break and every turn would fail.
    barrier = threading.Barrier(CONCURRENT, timeout=90)

    def handler(request: dict[str, Any]) -> Reply:
        user = next(m["content"] for m in reversed(request["messages"]) if m["role"] == "user")
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return Reply(fault="http_500")
        return Reply(content=f"answer to {user.split()[-1]}")

    scripted_roles.handler = handler
    with running_api() as url:

        def ask(i: int) -> tuple[int, str]:
            body = {"model": "spark-agents", "messages": [{"role": "user", "content": f"question number q{i}"}]}
            r = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=180)
            return r.status_code, r.json()["choices"][0]["message"]["content"] if r.status_code == 200 else r.text

        with ThreadPoolExecutor(CONCURRENT) as pool:
            results = list(pool.map(ask, range(CONCURRENT)))
    assert [status for status, _ in results] == [200] * CONCURRENT, results[:3]
    assert [answer for _, answer in results] == [f"answer to q{i}" for i in range(CONCURRENT)]
