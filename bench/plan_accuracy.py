"""The memory planner against llama.cpp's own buffer sizes for the local model, at three context sizes.

Loads the local GGUF the way the local server does (llama-cpp-python's server settings) in a subprocess and
reads llama.cpp's "model / KV / compute buffer size" log lines. Then prints the spark plans' totals.
"""

from __future__ import annotations

import os

from serving.catalog import GiB, MiB
from serving.plan import SPARK_PLAN_PROFILES, make_plan
from serving.settings import ServingSettings


def main() -> None:
    from tests.serving.test_plan_vs_llamacpp import llama_cpp_reports

    print("| context | part | planner (MiB) | llama.cpp (MiB) | difference |")
    print("|---:|---|---:|---:|---:|")
    saved = os.environ.get("SPARK_AGENTS_LOCAL_CTX")
    try:
        for ctx in (ServingSettings().local_ctx, 1024, 8192):
            os.environ["SPARK_AGENTS_LOCAL_CTX"] = str(ctx)
            settings = ServingSettings()
            (server,) = make_plan("local", budget_gb=24, settings=settings).servers
            reported = llama_cpp_reports(str(settings.model_path), ctx)
            predicted = {
                "model": (server.weights + server.cpu_repack) / MiB,
                "kv": server.kv / MiB,
                "compute": server.compute / MiB,
            }
            predicted["total"], reported["total"] = sum(predicted.values()), sum(reported.values())
            for part, value in predicted.items():
                diff = 100 * (value - reported[part]) / reported[part]
                print(f"| {ctx} | {part} | {value:.2f} | {reported[part]:.2f} | {diff:+.1f}% |")
    finally:
        if saved is None:
            os.environ.pop("SPARK_AGENTS_LOCAL_CTX", None)
        else:
            os.environ["SPARK_AGENTS_LOCAL_CTX"] = saved
    print()
    print("| profile | total (GiB) | budget (GiB) | fits |")
    print("|---|---:|---:|---|")
    for profile in SPARK_PLAN_PROFILES:
        plan = make_plan(profile)
        print(f"| {profile} | {plan.total / GiB:.2f} | {plan.budget / GiB:.2f} | {plan.fits} |")
