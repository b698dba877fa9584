"""The LangGraph assistant: the capability registry, the supervisor and its specialists, the typed event
stream and its one collector, the MCP client pool, the runtime and threads; plus the CLI.

Names load on first use, so importing one module does not pull in LangGraph. The types that travel to and from
the front ends (events, approvals, the turn request) are in `core.wire`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from agents.capabilities import CAPABILITIES, SPECIALISTS, Capability
    from agents.runtime import BlockingRuntime, Runtime
    from agents.settings import AgentSettings
    from agents.threads import ThreadStore

_WHERE = {
    **dict.fromkeys(["CAPABILITIES", "SPECIALISTS", "Capability"], "agents.capabilities"),
    **dict.fromkeys(["BlockingRuntime", "Runtime"], "agents.runtime"),
    "AgentSettings": "agents.settings",
    "ThreadStore": "agents.threads",
}
__all__ = [
    "AgentSettings",
    "BlockingRuntime",
    "CAPABILITIES",
    "Capability",
    "Runtime",
    "SPECIALISTS",
    "ThreadStore",
]
__getattr__ = lazy_exports(__name__, _WHERE)
