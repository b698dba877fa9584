"""The tools a specialist is offered, and the arguments the user's choices fix.

Every tool is offered; those that change or run things wait for the user's approval (agents/approval.py),
so text inside a retrieved document or a tool result cannot make them happen (prompt injection).
"""

from __future__ import annotations

from typing import Any

from mcp.types import Tool

from agents.capabilities import Capability
from mcp_servers.sdk import input_schema
from serving.registry import endpoint
from serving.settings import ServingSettings

IMAGE_PARAMS = ("path", "image_path", "image", "paths", "image_paths", "images")


EARLIER, CURRENT = "[Earlier conversation]\n", "\n[Current message]\n"  # how the API composes history


def own_request(user_text: str) -> str:
    """The user's current request. A transcript of earlier turns sent along with it (the API does that for
    clients without a thread) can quote documents and answers, so it never counts as the user's words
    (the thread's title, an approval typed as a message)."""
    if user_text.startswith(EARLIER) and CURRENT in user_text:
        return user_text.rsplit(CURRENT, 1)[1]
    return user_text


def primary_tool(capability: Capability, tools: list[Tool], serving: ServingSettings) -> str | None:
    """The tool a small model's first step is forced to: the capability's primary tool, or its fallback
    when the model that the primary tool needs is not configured (OCR without a vision model)."""
    names = {t.name for t in tools}
    missing = capability.needs is not None and not endpoint(capability.needs, serving).configured
    name = capability.fallback_tool if (capability.fallback_tool and missing) else capability.primary_tool
    return name if name in names else None


def openai_tool(tool: Tool) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": (tool.description or "")[:1024],
            "parameters": input_schema(tool),
        },
    }


def fixed_arguments(tool: Tool, sources: list[str] | None, attachments: list[str]) -> dict[str, Any]:
    """The arguments the user's own choices set: selected sources, attached images."""
    props = input_schema(tool).get("properties", {})
    fixed: dict[str, Any] = {}
    if sources and "source_ids" in props:
        fixed["source_ids"] = list(sources)
    if attachments:
        for name in IMAGE_PARAMS:
            if name in props:
                many = props[name].get("type") == "array"
                fixed[name] = list(attachments) if many else attachments[0]
                break
    return fixed
