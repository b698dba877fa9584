"""The memory planner: will the stack fit, how much each server takes and why, and what to cut.

`make_plan` is the entry point; the parts live one job per module: the data (serving/plan_model.py), the
arithmetic (serving/sizing.py), what to cut (serving/suggest.py), the table (serving/plan_table.py) and
compose.yaml (serving/compose.py, which imports this module, never the other way round).
`spark-agents plan` (cli/models.py) prints the plan.
"""

from __future__ import annotations

from serving.catalog import Catalog, load_catalog
from serving.plan_model import KVBreakdown, OverBudget, Plan, ServerConfig, ServerPlan, Suggestion, TrtKV, gib
from serving.settings import ServingSettings
from serving.sizing import (
    SPARK_PLAN_PROFILES,
    SPARK_SERVERS,
    apply_overrides,
    assemble,
    budget_bytes,
    default_budget_gib,
    default_configs,
    kv_cache,
    llama_compute_buffer,
    plan_server,
)
from serving.suggest import suggestions

__all__ = [
    "SPARK_PLAN_PROFILES",
    "SPARK_SERVERS",
    "KVBreakdown",
    "OverBudget",
    "Plan",
    "ServerConfig",
    "ServerPlan",
    "Suggestion",
    "TrtKV",
    "apply_overrides",
    "budget_bytes",
    "default_budget_gib",
    "default_configs",
    "gib",
    "kv_cache",
    "llama_compute_buffer",
    "make_plan",
    "plan_server",
    "suggestions",
]


def make_plan(
    profile: str,
    budget_gb: float | None = None,
    overrides: dict[str, dict[str, object]] | None = None,
    settings: ServingSettings | None = None,
    catalog: Catalog | None = None,
    suggest: bool = True,
) -> Plan:
    """The plan for a profile with optional per-server overrides; suggestions are filled when it does not fit."""
    catalog = catalog or load_catalog()
    configs = apply_overrides(default_configs(profile, settings), overrides or {})
    budget = budget_bytes(budget_gb, profile, catalog)
    plan = assemble(profile, configs, budget, catalog)
    if suggest and not plan.fits:
        plan.suggestions = suggestions(plan, catalog)
    return plan
