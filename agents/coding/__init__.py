"""Coding tools: code generation with the coder model and a sandbox that runs code under hard limits.

Plain library code (no LangGraph): `mcp_servers.code` wraps it as MCP tools.
"""

from agents.coding.settings import CodeSettings

__all__ = ["CodeSettings"]
