"""The rag server's log notifications and resource list changes reach a client of either protocol era over
stdio: a legacy client at the level its `logging/setLevel` set for its connection, on its session's stream; a
2026-07-28 client at the level each request's `_meta` names, and on the `subscriptions/listen` stream it
opened. And a missing resource is coded as each era codes it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.types import LoggingMessageNotificationParams, ResourceListChangedNotification

from mcp_servers.base import RESOURCE_NOT_FOUND
from mcp_servers.sdk import MCPError, field
from tests.support.mcp_client import modern_stdio_client, stdio_session
from tests.support.wire import ERAS, stdio_wire


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A readable file and an empty one (skipped: reported as a warning)."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "telescope.txt").write_text("The Zephyr-9 telescope mirror is 2.4 metres wide.\n", encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    return folder


def test_a_legacy_client_gets_the_level_it_set_for_its_connection(fake_embeddings: object, docs: Path) -> None:
    logged: list[LoggingMessageNotificationParams] = []
    changed: list[Any] = []

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        logged.append(params)

    async def on_message(message: Any) -> None:
        if isinstance(message, ResourceListChangedNotification):
            changed.append(message)

    async def scenario() -> None:
        async with stdio_session("mcp_servers.rag", logging_callback=on_log, message_handler=on_message) as session:
            await session.set_logging_level("error")  # a later request of the connection: errors only
            ingested = await session.call_tool("ingest_documents", {"paths": [str(docs)]})
            assert not field(ingested, "isError"), ingested.content
            assert field(ingested, "structuredContent")["skipped"] and logged == []  # not logged at "error"
            await session.set_logging_level("warning")
            (docs / "blank.txt").write_text("", encoding="utf-8")
            await session.call_tool("ingest_documents", {"paths": [str(docs)]})
            with pytest.raises(MCPError) as missing:
                await session.read_resource("rag://sources/nope")  # type: ignore[arg-type]
        assert {m.level for m in logged} == {"warning"} and "blank.txt" in str([m.data for m in logged])
        assert changed  # the first ingest added a source
        assert missing.value.error.code == RESOURCE_NOT_FOUND

    asyncio.run(scenario())


def test_a_2026_client_gets_the_level_each_request_names(fake_embeddings: object, docs: Path) -> None:
    logged: list[LoggingMessageNotificationParams] = []

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        logged.append(params)

    async def scenario() -> None:
        async with (
            modern_stdio_client("mcp_servers.rag", logging_callback=on_log, log_level="warning") as client,
            client.listen(resources_list_changed=True) as changes,
        ):
            ingested = await client.call_tool("ingest_documents", {"paths": [str(docs)]})
            assert not field(ingested, "isError"), ingested.content
            with anyio.fail_after(10):
                assert type(await changes.__anext__()).__name__ == "ResourcesListChanged"
            with pytest.raises(MCPError) as missing:
                await client.read_resource("rag://sources/nope")
        assert [m.level for m in logged] == ["warning"] and "empty.txt" in str(logged[0].data)
        assert missing.value.error.code == -32602 and missing.value.error.data == {"uri": "rag://sources/nope"}

        logged.clear()
        async with modern_stdio_client("mcp_servers.rag", logging_callback=on_log) as quiet:
            (docs / "blank.txt").write_text("", encoding="utf-8")
            await quiet.call_tool("ingest_documents", {"paths": [str(docs)]})
        assert logged == []  # no level in the requests' _meta: no log notifications

    asyncio.run(scenario())


@pytest.mark.parametrize("era", ERAS)
def test_the_server_says_it_notifies_resource_list_changes(era: str) -> None:
    with stdio_wire("mcp_servers.rag", era=era) as (_, answered):  # initialize, or server/discover
        assert answered["capabilities"]["resources"]["listChanged"] is True
