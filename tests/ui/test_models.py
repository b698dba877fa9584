"""The Models page under AppTest: live health checks and the memory plan chart and table."""

from __future__ import annotations

import json
import re

import pytest

from core.daemon import free_port
from tests.support.one_service import OneService
from tests.support.scripted_server import ScriptedServer


def health(at) -> dict[str, dict]:
    df = at.dataframe[0].value
    return {row["role"]: row for row in df.to_dict("records")}


def test_a_down_server_is_marked_down_with_a_warning(app, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    monkeypatch.setenv("SPARK_AGENTS_SUPERVISOR_URL", url)
    at = app("models")
    rows = health(at)
    assert rows["supervisor"]["health"] == "🔴 down" and rows["supervisor"]["endpoint"] == url
    assert "supervisor" in at.warning[0].value


class TestModelsPage(OneService):
    """The page reads health and plans from the service; one service for these (a plan does not depend on
    where the roles are served)."""

    def test_each_role_shows_its_endpoint_health_and_model(self, app, scripted_roles: ScriptedServer) -> None:
        at = app("models")
        rows = health(at)
        assert set(rows) == {"supervisor", "coder", "vision", "embeddings"}
        assert rows["supervisor"]["health"] == "🟢 up"
        assert rows["supervisor"]["endpoint"] == scripted_roles.url
        assert rows["supervisor"]["model"] == "scripted-model"
        assert rows["vision"]["health"].endswith("not configured")
        assert rows["embeddings"]["health"] == "🟢 up"
        assert not at.warning

    def test_the_memory_plan_is_drawn_against_the_budget(self, app) -> None:
        at = app("models")
        at.selectbox(key="plan_profile").select("spark-120b").run()
        assert not at.exception
        assert at.success[0].value.startswith("**spark-120b** fits")
        charts = at.get("vega_lite_chart")
        assert len(charts) == 2
        per_server, whole = (json.loads(c.proto.spec) for c in charts)
        assert per_server["title"] == "Per server" and per_server["encoding"]["x"]["stack"] == "zero"
        assert per_server["encoding"]["y"]["sort"] == ["supervisor", "coder", "vision", "embeddings", "reserve"]
        budget = re.search(r"of the ([\d.]+) GiB budget", at.success[0].value)[1]  # type: ignore[index]
        assert whole["title"] == f"Whole stack vs the budget (red line: {budget} GiB)"  # the same figure, not 120
        assert [layer["mark"]["type"] for layer in whole["layer"]] == ["bar", "tick"]  # the tick: the budget
        table = at.dataframe[1].value.to_dict("records")
        servers = [r["server"] for r in table]
        assert servers == ["supervisor", "coder", "vision", "embeddings", "reserve", "TOTAL"]
        total = table[-1]["total GiB"]
        assert total == pytest.approx(sum(r["total GiB"] for r in table[:-1]), abs=0.05)
        assert total <= 120

    def test_a_budget_too_small_says_what_to_cut(self, app) -> None:
        at = app("models")
        at.selectbox(key="plan_profile").select("spark-120b").run()
        at.number_input(key="plan_budget").set_value(90.0).run()
        assert not at.exception
        message = at.error[0].value
        assert "over the 90.00" in message and "budget" in message and "Cut:" in message
        cuts = at.dataframe[2].value.to_dict("records")
        assert cuts and all(c["total GiB"] <= 90 for c in cuts)

    def test_a_budget_below_the_reserve_is_a_clear_error(self, app) -> None:
        at = app("models")
        at.selectbox(key="plan_profile").select("spark-20b").run()
        at.number_input(key="plan_budget").set_value(2.0).run()
        assert not at.exception
        assert at.error and at.error[0].value.startswith("Planning:")
