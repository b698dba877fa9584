"""The OpenAI-compatible API's cost and concurrency, against the scripted model server.

The model answers after `MODEL_DELAY` seconds with 20 tokens `TOKEN_DELAY` apart, so the figures show what
`spark-agents serve` adds on top of `run_turn` (time to first token, total) and that concurrent requests
overlap: N concurrent streams should take about as long as one, not N times as long.
Run: `python -m bench api`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from typing import Any

MODEL_DELAY = 0.5
TOKEN_DELAY = 0.01
ANSWER = " ".join(f"word{i}" for i in range(20))
ROUNDS = 5


def _direct(runtime: Any) -> tuple[float, float]:
    """One turn on a runtime in this process (a BlockingRuntime), without the API in between."""
    from core.wire import TurnRequest

    start = time.perf_counter()
    first = None
    for event in runtime.stream(TurnRequest(message="benchmark question about vectors")):
        if event.type == "token" and first is None:
            first = time.perf_counter() - start
        if event.type == "error":
            raise RuntimeError(event.message)
    return first or float("nan"), time.perf_counter() - start


def _via_api(client, stream: bool = True) -> tuple[float, float]:  # noqa: ANN001
    start = time.perf_counter()
    first = None
    messages = [{"role": "user", "content": "benchmark question about vectors"}]
    if not stream:
        client.chat.completions.create(model="spark-agents", messages=messages)
        total = time.perf_counter() - start
        return total, total
    for chunk in client.chat.completions.create(model="spark-agents", messages=messages, stream=True):
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - start
    return first or float("nan"), time.perf_counter() - start


def main() -> None:
    import openai

    os.environ["SPARK_AGENTS_HOME"] = tempfile.mkdtemp(prefix="bench-api-")
    os.environ["SPARK_AGENTS_PROFILE"] = "local"
    from tests.api.conftest import running_api
    from tests.support.scripted_server import Reply, ScriptedServer

    reply = Reply(content=ANSWER, delay=MODEL_DELAY, token_delay=TOKEN_DELAY)
    with ScriptedServer(handler=lambda _req: reply) as scripted, running_api() as url:
        for role in ("SUPERVISOR", "CODER"):
            os.environ[f"SPARK_AGENTS_{role}_URL"] = scripted.url
            os.environ[f"SPARK_AGENTS_{role}_MODEL"] = "scripted-model"
        from agents.runtime import BlockingRuntime
        from agents.settings import AgentSettings
        from serving.settings import ServingSettings

        client = openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0, timeout=120)
        runtime = BlockingRuntime(ServingSettings(), AgentSettings())
        _direct(runtime), _via_api(client)  # warm up: imports, runtime, router
        rows = []
        for name, fn in [
            ("runtime in-process", lambda: _direct(runtime)),
            ("API, stream", lambda: _via_api(client)),
            ("API, no stream", lambda: _via_api(client, stream=False)),
        ]:
            runs = [fn() for _ in range(ROUNDS)]
            ttft = statistics.median(r[0] for r in runs)
            total = statistics.median(r[1] for r in runs)
            rows.append(f"| {name} | {ttft * 1000:.0f} | {total * 1000:.0f} |")
        print(
            f"Scripted model: {MODEL_DELAY * 1000:.0f} ms to first byte, 20 tokens {TOKEN_DELAY * 1000:.0f} ms apart;"
        )
        print(f"median of {ROUNDS} turns each.\n")
        print("| path | first token ms | total ms |")
        print("|---|---:|---:|")
        print("\n".join(rows))

        runtime.close()
        print("\n| concurrent streams | wall s | s per turn (wall / N) | all answered |")
        print("|---:|---:|---:|---|")
        for n in (1, 4, 8):
            results: list[tuple[float, float] | Exception] = []

            def one(results: list = results) -> None:
                try:
                    results.append(_via_api(client))
                except Exception as e:  # noqa: BLE001 - counted below
                    results.append(e)

            threads = [threading.Thread(target=one) for _ in range(n)]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - start
            ok = sum(1 for r in results if not isinstance(r, Exception))
            print(f"| {n} | {wall:.2f} | {wall / n:.2f} | {ok}/{n} |")


if __name__ == "__main__":
    main()
