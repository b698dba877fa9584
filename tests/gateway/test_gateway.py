"""The gateway MCP server through real MCP clients (stdio and streamable HTTP), against the scripted model."""

from __future__ import annotations

import asyncio
import importlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from agents.threads import ThreadStore
from mcp_servers.gateway import CAPABILITY_SERVERS, exported_name
from mcp_servers.sdk import field
from serving.settings import ServingSettings
from tests.support.mcp_client import (
    http_server,
    http_session,
    modern_http_client,
    modern_stdio_client,
    post_initialize,
    stdio_session,
)
from tests.support.scripted_server import Reply, ScriptedServer, text, tool

ANSWER = "The gateway answers through the whole assistant."


def expected_capability_tools() -> set[str]:
    """`<server>_<tool>` for every capability server present in this checkout."""
    names = set()
    for server in CAPABILITY_SERVERS:
        try:
            module = importlib.import_module(f"mcp_servers.{server}")
        except ModuleNotFoundError:
            continue
        names |= {exported_name(server, t.name) for t in asyncio.run(module.mcp.list_tools())}
    return names


def test_stdio_lists_and_calls_tools(scripted_roles: ScriptedServer, tmp_path: Path) -> None:
    scripted_roles.default = text(ANSWER)
    png = tmp_path / "red.png"
    Image.new("RGB", (7, 5), "red").save(png)
    expected = expected_capability_tools()

    async def scenario() -> None:
        async with stdio_session("mcp_servers.gateway") as session:
            tools = {t.name: t for t in (await session.list_tools()).tools}
            assert "ask_assistant" in tools
            assert expected <= set(tools)
            assert field(tools["ask_assistant"], "outputSchema")["properties"].keys() >= {
                "answer",
                "thread_id",
                "trace",
            }

            first = await session.call_tool("ask_assistant", {"question": "What is the gateway?"})
            assert not field(first, "isError"), first.content
            assert field(first, "structuredContent")["answer"] == ANSWER
            thread_id = field(first, "structuredContent")["thread_id"]

            again = await session.call_tool("ask_assistant", {"question": "And then?", "thread_id": thread_id})
            assert field(again, "structuredContent")["thread_id"] == thread_id
            # The second turn's model call saw the first turn (the thread holds the history).
            assert any(
                "What is the gateway?" in str(m.get("content")) for m in scripted_roles.chat_requests[-1]["messages"]
            )

            progress: list[str | None] = []

            async def on_progress(done: float, total: float | None, message: str | None) -> None:
                progress.append(message)

            forced = await session.call_tool(
                "ask_assistant", {"question": "hello", "agent": "coding"}, progress_callback=on_progress
            )
            assert "handoff -> coding (requested)" in field(forced, "structuredContent")["trace"]
            assert "handoff -> coding (requested)" in progress  # each step is a progress notification

            bad = await session.call_tool("ask_assistant", {"question": "hi", "agent": "astrology"})
            assert field(bad, "isError")

            scripted_roles.script(Reply(fault="http_500"))  # the model server fails: a clear tool error
            failed = await session.call_tool("ask_assistant", {"question": "anyone there?", "agent": "coding"})
            assert field(failed, "isError") and "model server" in failed.content[0].text

            if "vision_image_info" in tools:  # a re-exported capability tool, run by the vision server
                info = await session.call_tool("vision_image_info", {"path": str(png)})
                assert not field(info, "isError"), info.content
                assert (field(info, "structuredContent")["width"], field(info, "structuredContent")["height"]) == (7, 5)
                missing = await session.call_tool("vision_image_info", {"path": str(tmp_path / "nope.png")})
                assert field(missing, "isError") and missing.content[0].text

            unknown = await session.call_tool("no_such_tool", {})
            assert field(unknown, "isError")

    asyncio.run(scenario())
    threads = {t.id for t in ThreadStore(ServingSettings().home / "threads.db").list()}
    assert len(threads) == 3  # the continued thread, the forced one, the failed one (as run_turn records it)


def test_http_transport_and_dns_rebinding_protection(scripted_roles: ScriptedServer) -> None:
    scripted_roles.default = text(ANSWER)
    with http_server("mcp_servers.gateway") as url:

        async def scenario() -> None:
            async with http_session(url) as session:
                names = {t.name for t in (await session.list_tools()).tools}
                assert "ask_assistant" in names
                result = await session.call_tool("ask_assistant", {"question": "over HTTP?"})
                assert field(result, "structuredContent")["answer"] == ANSWER

        asyncio.run(scenario())
        ok = post_initialize(url)
        assert ok.status_code == 200
        foreign_host = post_initialize(url, Host="evil.example:8810")
        assert foreign_host.status_code == 421
        foreign_origin = post_initialize(url, Origin="http://evil.example")
        assert foreign_origin.status_code == 403


@asynccontextmanager
async def gateway_client(era: str, transport: str, **options: object) -> AsyncIterator[Any]:
    """The gateway over stdio or HTTP, to a client of this protocol era (the legacy handshake or 2026-07-28)."""
    if transport == "stdio":
        opened = (stdio_session if era == "legacy" else modern_stdio_client)("mcp_servers.gateway", **options)
        async with opened as client:
            yield client
        return
    assert era != "legacy"  # the legacy era over HTTP: test_http_transport_and_dns_rebinding_protection
    with http_server("mcp_servers.gateway") as url:
        async with modern_http_client(url, **options) as client:
            yield client


@pytest.mark.parametrize(("era", "transport"), [("legacy", "stdio"), ("2026-07-28", "stdio"), ("2026-07-28", "http")])
def test_an_action_waits_for_the_user_through_elicitation(
    scripted_roles: ScriptedServer, monkeypatch: pytest.MonkeyPatch, era: str, transport: str
) -> None:
    """A client that supports elicitation asks its user (an elicitation request on a legacy connection, an
    input_required result on a 2026-07-28 one); one that does not gets the pending action explained, and
    nothing runs. The calling model cannot approve through ask_assistant."""
    from mcp.types import ElicitResult

    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "false")
    asked: list[str] = []
    answers = [True, False]  # "the user" approves the first action and declines the second

    async def approval_prompt(context, params):  # the client's approval prompt
        asked.append(params.message)
        return ElicitResult(action="accept", content={"approve": answers.pop(0), "for_this_thread": False})

    async def scenario() -> None:
        scripted_roles.script(tool("run_python", {"code": "print(6 * 7)"}), text("It prints 42."))
        async with gateway_client(era, transport, elicitation_callback=approval_prompt) as session:
            done = await session.call_tool("ask_assistant", {"question": "Run print(6 * 7)", "agent": "coding"})
            assert not field(done, "isError"), done.content
            assert field(done, "structuredContent")["answer"] == "It prints 42."
            assert "run_python" in asked[0]
            assert any("call code.run_python" in line for line in field(done, "structuredContent")["trace"])

            scripted_roles.script(tool("run_python", {"code": "print(1)"}), text("Not run."))
            denied = await session.call_tool("ask_assistant", {"question": "Run print(1)", "agent": "coding"})
            assert not any("call code.run_python" in line for line in field(denied, "structuredContent")["trace"])
            assert "you declined it" in field(denied, "structuredContent")["answer"] and len(asked) == 2

        scripted_roles.script(tool("run_python", {"code": "print(2)"}))
        async with gateway_client(era, transport) as session:  # no elicitation capability
            waiting = await session.call_tool("ask_assistant", {"question": "Run print(2)", "agent": "coding"})
            answer = field(waiting, "structuredContent")["answer"]
            assert "cannot ask you to approve it" in answer and "nothing was run" in answer
            approve = re.search(r"approve ([0-9a-f]+)", answer)
            assert approve
            self_approval = await session.call_tool("ask_assistant", {"question": approve[0]})
            assert (
                field(self_approval, "isError") and "not taken through ask_assistant" in self_approval.content[0].text
            )
            threads = ThreadStore(ServingSettings().home / "threads.db")
            assert threads.pending(field(waiting, "structuredContent")["thread_id"]) is not None  # still waiting

    asyncio.run(scenario())


def test_one_approval_is_asked_per_call_and_a_further_one_waits(
    scripted_roles: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client's prompt answers the first action a call waits for; when the resumed turn wants another, the
    answer says so and that action stays pending (a 2026-07-28 call asks once per round trip)."""
    from mcp.types import ElicitResult

    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "false")
    asked: list[str] = []

    async def approval_prompt(context, params):  # the client's approval prompt
        asked.append(params.message)
        return ElicitResult(action="accept", content={"approve": True, "for_this_thread": False})

    async def scenario() -> None:
        scripted_roles.script(tool("run_python", {"code": "print(1)"}), tool("run_python", {"code": "print(2)"}))
        async with gateway_client("2026-07-28", "stdio", elicitation_callback=approval_prompt) as session:
            done = await session.call_tool("ask_assistant", {"question": "Run two things", "agent": "coding"})
        outcome = field(done, "structuredContent")
        assert len(asked) == 1 and "print(1)" in asked[0]
        assert sum("call code.run_python" in line for line in outcome["trace"]) == 1  # the approved one ran
        assert "wants another action approved" in outcome["answer"] and "nothing more was run" in outcome["answer"]
        pending = ThreadStore(ServingSettings().home / "threads.db").pending(outcome["thread_id"])
        assert pending is not None and "print(2)" in str(pending.request.arguments)
        assert f"approve {pending.request.id}" in outcome["answer"]

    asyncio.run(scenario())
