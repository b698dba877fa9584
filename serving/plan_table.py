"""The plan as text: one row per server against the budget, each server's arithmetic, and what to cut.

What `spark-agents plan` prints; `--json` prints `Plan.to_json()` instead.
"""

from __future__ import annotations

from serving.catalog import GiB, MiB
from serving.plan_model import Plan, gib


def render_table(plan: Plan, explain: bool = True) -> str:
    """The table (MiB when every server is under a GiB), the verdict and, with `explain`, the arithmetic."""
    small = all(s.total < GiB for s in plan.servers)
    unit, div = ("MiB", MiB) if small else ("GiB", GiB)

    def fmt(n: float) -> str:
        return f"{n / div:.2f}"

    head = (
        "server",
        "model",
        "engine",
        "quant",
        "ctx x slots",
        "KV type",
        "weights",
        "KV cache",
        "prompt cache",
        "compute",
        "overhead",
        "total",
    )
    rows: list[tuple[str, ...]] = []
    for s in plan.servers:
        c = s.config
        weights = s.weights + s.cpu_repack
        rows.append(
            (
                c.name,
                c.model,
                s.engine,
                c.quant,
                f"{c.ctx} x {c.slots}",
                c.kv_type,
                fmt(weights),
                fmt(s.kv),
                fmt(s.prompt_cache),
                fmt(s.compute),
                fmt(s.overhead),
                fmt(s.total),
            )
        )
    reserve = ", ".join(f"{k} {fmt(v)}" for k, v in plan.reserve.items())
    rows.append(("reserve", "OS and app services", "", "", "", "", "", "", "", "", "", fmt(plan.reserve_total)))
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    right = {6, 7, 8, 9, 10, 11}

    def line(r: tuple) -> str:
        return "  ".join(
            str(v).rjust(w) if i in right else str(v).ljust(w) for i, (v, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()

    out = [f"Memory plan: {plan.profile} (sizes in {unit})", line(head), line(tuple("-" * w for w in widths))]
    out += [line(r) for r in rows]
    verdict = (
        f"fits, {fmt(plan.budget - plan.total)} {unit} to spare"
        if plan.fits
        else f"OVER BUDGET by {fmt(plan.total - plan.budget)} {unit}"
    )
    out.append(f"reserve: {reserve} {unit}")
    out.append(f"total {fmt(plan.total)} {unit} of {fmt(plan.budget)} {unit} budget: {verdict}")
    if explain:
        out.append("")
        for s in plan.servers:
            out.append(f"{s.config.name}:")
            out += [f"  {w}" for w in s.why]
            if s.trtllm:
                t = s.trtllm
                out.append(
                    f"  TensorRT-LLM KV set explicitly (not its default of 0.9 of free memory): "
                    f"kv_cache_config.max_tokens={t.max_tokens}, free_gpu_memory_fraction={t.free_gpu_memory_fraction}"
                )
    if not plan.fits:
        out.append("")
        if plan.suggestions:
            out.append("Cheapest changes that fit (each on its own):")
            for sg in plan.suggestions:
                out.append(f"  - {sg.change}: {' '.join(sg.flags)}  -> {gib(sg.total)} GiB (saves {gib(sg.saves)} GiB)")
        else:
            out.append("No combination of cuts fits: raise --budget-gb or choose smaller models.")
    return "\n".join(out)
