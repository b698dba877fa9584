"""Calls one capability answers from another's data, composed here in the service so that every store keeps
one owner: a graph built from an ingested document (`kg.extract_graph` with a `source_id`) gets the document's
chunks read by the rag server (`rag://sources/{id}/chunks`) and handed to the kg server, which never opens
the document store — so nothing waits on the store's lock, and no session is closed to free it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from agents.mcp_pool import MCPPool, MCPRequestError, ToolOutcome

CHUNK_FIELDS = ("text", "chunk_id", "title", "page", "heading")  # what kg extracts from and cites


async def with_source_chunks(
    pool: MCPPool, server: str, tool: str, arguments: dict[str, Any]
) -> dict[str, Any] | ToolOutcome:
    """`arguments` with the named source's chunks (and its full id) added; the documents server's error (no
    such source) as the call's outcome."""
    source_id = arguments.get("source_id")
    if (server, tool) != ("kg", "extract_graph") or not source_id or arguments.get("chunks") is not None:
        return arguments
    try:
        read = await pool.read_resource("rag", f"rag://sources/{quote(str(source_id), safe='')}/chunks")
    except MCPRequestError as e:
        return ToolOutcome(text=str(e), is_error=True)
    found = json.loads(read["contents"][0]["text"])
    chunks = [{k: c.get(k) for k in CHUNK_FIELDS} for c in found["chunks"]]
    return {**arguments, "source_id": found["source"]["id"], "chunks": chunks}
