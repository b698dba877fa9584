"""Tool results as an answer a person can read, for when the model is too small to write one itself.

Each capability declares the renderers of its tools (agents/capabilities/); a result with none is shown as
its JSON, pretty-printed.
"""

from __future__ import annotations

import json

from agents.capabilities import CAPABILITIES, Capability
from agents.capabilities.base import Renderer
from agents.mcp_pool import ToolOutcome


def renderer_of(tool: str, capability: Capability | None = None) -> Renderer | None:
    """The renderer a capability declares for `tool` (any capability's, when none is given)."""
    where = [capability] if capability is not None else list(CAPABILITIES.values())
    return next((c.renderers[tool] for c in where if tool in c.renderers), None)


def render(tool: str, outcome: ToolOutcome, capability: Capability | None = None) -> str:
    """A readable answer from one tool result; the raw text when there is no renderer for it."""
    data = outcome.structured or {}
    if isinstance(data.get("result"), dict):
        data = data["result"]
    renderer = renderer_of(tool, capability)
    if renderer and not outcome.is_error and data:
        try:
            text = renderer(data).strip()
        except (TypeError, AttributeError, KeyError):
            text = ""
        if text:
            return text
    try:
        return json.dumps(json.loads(outcome.text), indent=2)[:6000]
    except ValueError:
        return outcome.text[:6000]
