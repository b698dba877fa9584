"""A tool call that does not finish in time is one clear error, and the pool's next call gets a new session:
a real stdio MCP server whose tool hangs (tests/agents/slow_server.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agents.mcp_pool import MCPPool, MCPServerUnavailable
from agents.settings import AgentSettings


def test_a_hung_tool_times_out_and_the_next_call_restarts_its_server(tmp_path: Path) -> None:
    async def scenario() -> None:
        pool = MCPPool(AgentSettings(), tmp_path, call_timeout=2, modules={"slow": "tests.agents.slow_server"})
        try:
            assert (await pool.call("slow", "wait", {"seconds": 0})).text == "waited 0.0 s"
            with pytest.raises(MCPServerUnavailable, match="wait did not finish within 2 s.*next request restarts"):
                await pool.call("slow", "wait", {"seconds": 600})
            again = await pool.call("slow", "wait", {"seconds": 0.1})
            assert again.text == "waited 0.1 s" and not again.is_error
            assert pool.starts == {"slow": 2}
        finally:
            await pool.aclose()

    asyncio.run(scenario())
