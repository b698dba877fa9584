"""The LangGraph assistant: the capability registry, the supervisor and its specialists, the typed event
stream and its one collector, the MCP client pool, the runtime and threads; plus the CLI.

Names load on first use, so `import agents.events` does not pull in LangGraph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from agents.capabilities import CAPABILITIES, SPECIALISTS, Capability
    from agents.collector import TurnCollector, collect
    from agents.events import Event
    from agents.runtime import Runtime, get_runtime
    from agents.settings import AgentSettings
    from agents.threads import ThreadInfo, ThreadStore
    from agents.turn import delete_thread, run_turn, thread_messages

_WHERE = {
    **dict.fromkeys(["CAPABILITIES", "SPECIALISTS", "Capability"], "agents.capabilities"),
    **dict.fromkeys(["TurnCollector", "collect"], "agents.collector"),
    "Event": "agents.events",
    **dict.fromkeys(["Runtime", "get_runtime"], "agents.runtime"),
    "AgentSettings": "agents.settings",
    **dict.fromkeys(["ThreadInfo", "ThreadStore"], "agents.threads"),
    **dict.fromkeys(["delete_thread", "run_turn", "thread_messages"], "agents.turn"),
}
__all__ = [
    "AgentSettings",
    "CAPABILITIES",
    "Capability",
    "Event",
    "Runtime",
    "SPECIALISTS",
    "ThreadInfo",
    "ThreadStore",
    "TurnCollector",
    "collect",
    "delete_thread",
    "get_runtime",
    "run_turn",
    "thread_messages",
]
__getattr__ = lazy_exports(__name__, _WHERE)
