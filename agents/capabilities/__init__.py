"""The one registry of capabilities: each specialist agent, the MCP server it acts through, its prompt,
its routing examples, how front ends show it, and its behaviour as hooks the specialist loop calls.

The graph, the router, the tool policy, the API's model names, the UI and the client configurations all
read this table (simonw/llm's `DEFAULT_PLUGINS` idea): adding a capability is one module here (its
entry and hooks, agents/capabilities/base.py) plus its line in `CAPABILITIES`, and its MCP server.
"""

from __future__ import annotations

from agents.capabilities import coding, kg, rag, vision
from agents.capabilities.base import Capability, Probe, ToolContext, citations_from

CAPABILITIES: dict[str, Capability] = {
    c.name: c for c in (coding.CAPABILITY, rag.CAPABILITY, vision.CAPABILITY, kg.CAPABILITY)
}
# the built-in agents and servers, as front ends list them; the graph reads CAPABILITIES as it is built
SPECIALISTS: tuple[str, ...] = tuple(CAPABILITIES)
SERVERS: tuple[str, ...] = tuple(c.server for c in CAPABILITIES.values())
GENERAL_EXAMPLES: tuple[str, ...] = (
    "what is the boiling point of water",
    "recommend a good science fiction book",
    "how many days are in a leap year",
    "what does the word ephemeral mean",
    "convert 10 miles to kilometers",
    "who painted the Mona Lisa",
    "write a short poem about autumn",
    "what is the derivative of x squared",
    "good morning!",
    "why is the sky blue",
    "hello, how are you",
    "what is 2+2",
    "what is the capital of France",
    "tell me a joke",
    "what is the difference between weather and climate",
    "thank you",
    "who wrote Pride and Prejudice",
    "explain photosynthesis simply",
    "what day comes after Monday",
    "give me a synonym for happy",
    "how far is the moon",
)


def capability(name: str) -> Capability:
    return CAPABILITIES[name]


def server_of(agent: str) -> str:
    return CAPABILITIES[agent].server


def server_modules() -> dict[str, str]:
    """Each server's module, for the MCP pool to run over stdio."""
    return {c.server: c.server_module for c in CAPABILITIES.values()}


def routes() -> dict[str, list[str]]:
    """The router's examples: every capability's, plus the general questions the supervisor answers."""
    table = {c.name: list(c.routing_examples) for c in CAPABILITIES.values()}
    table["general"] = list(GENERAL_EXAMPLES)
    return table


__all__ = [
    "CAPABILITIES",
    "GENERAL_EXAMPLES",
    "SERVERS",
    "SPECIALISTS",
    "Capability",
    "Probe",
    "ToolContext",
    "capability",
    "citations_from",
    "routes",
    "server_modules",
    "server_of",
]
