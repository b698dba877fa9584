"""schemathesis against the API's own OpenAPI schema: generated requests for every operation, and no
answer is a server error."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from agents.settings import AgentSettings  # noqa: E402
from api import ApiSettings, create_app  # noqa: E402
from kg.settings import KGSettings  # noqa: E402
from serving.settings import ServingSettings  # noqa: E402
from tests.support.scripted_server import ScriptedServer, text  # noqa: E402

schema = schemathesis.openapi.from_asgi(
    "/openapi.json",
    create_app(ApiSettings(), ServingSettings(), AgentSettings(), KGSettings()),
    headers={"Host": "127.0.0.1"},
)


@pytest.fixture
def model(scripted_roles: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    monkeypatch.setenv("SPARK_AGENTS_AGENT_ROUTING", "llm")
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "false")
    scripted_roles.default = text("A generated answer.")
    return scripted_roles


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_operations_never_fail_on_the_server(case: schemathesis.Case, model: ScriptedServer) -> None:
    response = case.call(headers={"Host": "127.0.0.1"})
    assert response.status_code != 421  # the request really reached the operation
    case.validate_response(response, checks=[not_a_server_error])
