"""schemathesis against the API's own OpenAPI schema: generated requests for every operation, and no
answer is a server error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from agents.settings import AgentSettings  # noqa: E402
from api import ApiSettings, create_app  # noqa: E402
from kg.settings import KGSettings  # noqa: E402
from serving.settings import ServingSettings  # noqa: E402
from tests.support.scripted_server import ScriptedServer, text  # noqa: E402


def service_app() -> Any:
    """The service's app, with the settings of the environment as it is now (the service reads them as it starts)."""
    return create_app(ApiSettings(), ServingSettings(), AgentSettings(), KGSettings())


class TheTestsApp:
    """The schema is read at import; each test's calls go to an app built after its fixtures set the environment."""

    def __init__(self) -> None:
        self.app = service_app()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


APP = TheTestsApp()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, headers={"Host": "127.0.0.1"})


@pytest.fixture
def model(scripted_roles: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    monkeypatch.setenv("SPARK_AGENTS_AGENT_ROUTING", "llm")
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "false")
    scripted_roles.default = text("A generated answer.")
    APP.app = service_app()
    yield scripted_roles


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_operations_never_fail_on_the_server(case: schemathesis.Case, model: ScriptedServer) -> None:
    response = case.call(headers={"Host": "127.0.0.1"})
    assert response.status_code != 421  # the request really reached the operation
    case.validate_response(response, checks=[not_a_server_error])
