"""What to cut when a plan does not fit: the cheapest single changes (or one combined change) that fit.

Each candidate is re-planned with the same arithmetic as the plan itself, so a suggestion's total is exact.
"""

from __future__ import annotations

from core.errors import ConfigError
from serving.catalog import Catalog, load_catalog
from serving.plan_model import Plan, Suggestion
from serving.sizing import assemble

_CTX_STEPS = [131072, 98304, 65536, 49152, 32768, 24576, 16384, 12288, 8192, 6144, 4096, 2048]


def candidates(plan: Plan, catalog: Catalog) -> list[tuple[int, str, list[str], dict[str, dict[str, object]]]]:
    """(quality cost rank, description, CLI flags, overrides) for each single cut, cheapest kind first."""
    out: list[tuple[int, str, list[str], dict[str, dict[str, object]]]] = []
    for s in plan.servers:
        c = s.config
        if s.prompt_cache:  # costs only a re-read prompt when a thread comes back to an evicted slot
            flag = f"--cache-ram {c.name}=0"
            out.append((0, f"{c.name}: no prompt cache", [flag], {c.name: {"prompt_cache_mib": 0}}))
        if s.engine == "llama.cpp" and c.kv_type == "f16" and c.flash_attn:
            out.append((1, f"{c.name}: KV cache q8_0", [f"--kv {c.name}=q8_0"], {c.name: {"kv_type": "q8_0"}}))
        if s.engine == "tensorrt-llm" and c.kv_type == "bf16":
            out.append((1, f"{c.name}: KV cache fp8", [f"--kv {c.name}=fp8"], {c.name: {"kv_type": "fp8"}}))
        for slots in range(c.slots - 1, 0, -1):
            out.append(
                (
                    2,
                    f"{c.name}: {slots} slot{'s' if slots > 1 else ''}",
                    [f"--slots {c.name}={slots}"],
                    {c.name: {"slots": slots}},
                )
            )
        for ctx in _CTX_STEPS:
            if ctx < c.ctx:
                out.append((3, f"{c.name}: context {ctx}", [f"--ctx {c.name}={ctx}"], {c.name: {"ctx": ctx}}))
        if c.model == "gpt-oss-120b":
            out.append(
                (
                    4,
                    f"{c.name}: gpt-oss-20b (or --profile spark-20b)",
                    [f"--model {c.name}=gpt-oss-20b"],
                    {c.name: {"model": "gpt-oss-20b", "quant": ""}},
                )
            )
    return out


def suggestions(plan: Plan, catalog: Catalog | None = None, per_kind: int = 4) -> list[Suggestion]:
    """The cheapest single changes that make the plan fit: per server, the mildest cut of each kind."""
    catalog = catalog or load_catalog()
    current = {s.config.name: s.config for s in plan.servers}
    found: list[tuple[int, Suggestion]] = []
    seen: set[tuple[int, str]] = set()
    for rank, change, flags, upd in candidates(plan, catalog):
        name = next(iter(upd))
        if (rank, name) in seen:  # candidates of one kind come mildest first: keep the first that fits
            continue
        configs = [c.model_copy(update=upd.get(c.name, {})) for c in current.values()]
        try:
            trial = assemble(plan.profile, configs, plan.budget, catalog)
        except ConfigError:
            continue
        if trial.fits:
            seen.add((rank, name))
            found.append(
                (rank, Suggestion(change=change, flags=flags, total=trial.total, saves=plan.total - trial.total))
            )
    if not found:
        # No single cut is enough: no prompt caches, every KV cache quantized, one slot each, the 20B supervisor.
        combined: dict[str, dict[str, object]] = {}
        all_flags: list[str] = []
        for rank, _change, fl, upd in candidates(plan, catalog):
            name = next(iter(upd))
            if rank in (0, 1) or (rank == 2 and upd[name].get("slots") == 1) or rank == 4:
                combined.setdefault(name, {}).update(upd[name])
                all_flags += fl
        configs = [c.model_copy(update=combined.get(c.name, {})) for c in current.values()]
        try:
            trial = assemble(plan.profile, configs, plan.budget, catalog)
            found.append(
                (
                    9,
                    Suggestion(
                        change="all of: no prompt caches, quantized KV, one slot each, 20B supervisor",
                        flags=all_flags,
                        total=trial.total,
                        saves=plan.total - trial.total,
                    ),
                )
            )
        except ConfigError:
            pass
    # kinds cheapest first (no prompt cache, KV quantization, fewer slots, shorter context, smaller model); within
    # a kind, the smallest change that is enough
    found.sort(key=lambda t: (t[0], t[1].saves))
    out: list[Suggestion] = []
    per: dict[int, int] = {}
    for rank, sg in found:
        per[rank] = per.get(rank, 0) + 1
        if per[rank] <= per_kind:
            out.append(sg)
    return out
