"""The planner's prediction for the local llama.cpp server against what llama.cpp itself reports.

The model is loaded exactly as the local server loads it (llama-cpp-python's server settings), in a
subprocess with verbose logging; llama.cpp writes its buffer sizes to fd 2:

    load_tensors:   CPU_Mapped model buffer size =    92.10 MiB
    llama_kv_cache:        CPU KV buffer size =    90.00 MiB
    sched_reserve:        CPU compute buffer size =    99.38 MiB
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from serving.catalog import MiB
from serving.plan import make_plan
from serving.settings import ServingSettings

LOAD = """
import sys
from llama_cpp.server.model import LlamaProxy
from llama_cpp.server.settings import ModelSettings
LlamaProxy.load_llama_from_model_settings(ModelSettings(model=sys.argv[1], n_ctx=int(sys.argv[2]), verbose=True))
"""
MODEL_BUF = re.compile(r"^load_tensors:\s+(\S+) model buffer size =\s+([\d.]+) MiB", re.M)
KV_BUF = re.compile(r"^llama_kv_cache:\s+(\S+) KV buffer size =\s+([\d.]+) MiB", re.M)
COMPUTE_BUF = re.compile(r"^sched_reserve:\s+(\S+) compute buffer size =\s+([\d.]+) MiB", re.M)


def llama_cpp_reports(model: str, ctx: int) -> dict[str, float]:
    r = subprocess.run([sys.executable, "-c", LOAD, model, str(ctx)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    found = {
        "model": [float(m[1]) for m in MODEL_BUF.findall(r.stderr)],
        "kv": [float(m[1]) for m in KV_BUF.findall(r.stderr)],
        "compute": [float(m[1]) for m in COMPUTE_BUF.findall(r.stderr)],
    }
    assert all(found.values()), f"llama.cpp did not log its buffer sizes:\n{r.stderr[-2000:]}"
    return {k: sum(v) for k, v in found.items()}


@pytest.mark.real_model
@pytest.mark.parametrize("ctx", [None, 1024, 8192])
def test_local_prediction_within_10_percent_of_llama_cpp(ctx: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    if ctx is not None:
        monkeypatch.setenv("SPARK_AGENTS_LOCAL_CTX", str(ctx))
    settings = ServingSettings()
    (server,) = make_plan("local", budget_gb=24, settings=settings).servers
    reported = llama_cpp_reports(str(settings.model_path), settings.local_ctx)
    predicted = {
        "model": (server.weights + server.cpu_repack) / MiB,
        "kv": server.kv / MiB,
        "compute": server.compute / MiB,
    }
    for part in ("model", "kv", "compute"):
        assert predicted[part] == pytest.approx(reported[part], rel=0.10), (part, predicted, reported)
    total_pred, total_rep = sum(predicted.values()), sum(reported.values())
    assert total_pred == pytest.approx(total_rep, rel=0.10)
