from __future__ import annotations

from tests.support.agent_fixtures import fresh_runtime, llm_routing  # noqa: F401 - used by the tests here
