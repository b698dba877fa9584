"""A fifth capability, for the tests: one module (this entry and its hooks) and one registry entry, with its
own MCP server (toy_glossary_server.py) — and no change to the graph."""

from __future__ import annotations

from typing import Any

from agents.capabilities import Capability


def _entries(data: dict[str, Any]) -> str:
    return "\n".join(f"- {e['term']}: {e['text']} [{i + 1}]" for i, e in enumerate(data.get("results") or []))


CAPABILITY = Capability(
    name="glossary",
    server="glossary",
    module="tests.agents.toy_glossary_server",
    primary_tool="define",
    label="Glossary",
    icon="📖",
    prompt="You are the glossary agent. Look terms up with define and answer from the entry, citing it as [n].",
    model_description="the glossary agent alone",
    server_description="look terms up in the team glossary",
    routing_examples=(
        "look up backpressure in the team glossary",
        "what does our glossary say a sidecar is",
        "define idempotency as the team glossary does",
        "find the glossary entry for circuit breaker",
        "check the team glossary for the term canary release",
    ),
    sample_prompts=("Look up backpressure in the team glossary.",),
    summary="the team's glossary of terms",
    route_hint="a term in the team glossary",
    failure_hint="The glossary has entries for: ephemeral port, backpressure.",
    renderers={"define": _entries},
)
