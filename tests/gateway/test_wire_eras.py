"""Every server answers a client of either protocol era over stdio and over streamable HTTP: one that begins with
`initialize` (revision 2025-11-25, as IDEs do today) and a 2026-07-28 one (`server/discover`, then each request
on its own with its `_meta`): tools listed, one tool called, a resource read and an argument completed. The
client is written against the wire, not the SDK (tests/support/wire.py), so it keeps checking both eras when
the servers move to another SDK line."""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.support.mcp_client import http_server
from tests.support.scripted_server import ScriptedServer
from tests.support.wire import ERAS, MODERN_VERSION, Wire, http_wire, stdio_wire

TRANSPORTS = ["stdio", "http"]
ADA = "Ada Lovelace worked with Charles Babbage."
ENTITIES = {"type": "ref/resource", "uri": "kg://graphs/{collection}/entities/{entity}"}


@contextmanager
def client(server: str, transport: str, era: str) -> Iterator[Wire]:
    """A client of `python -m mcp_servers.<server>` in the era's revision, after its first exchange (`initialize`
    or `server/discover`) answered in that revision."""
    module = f"mcp_servers.{server}"
    with stdio_wire(module, era=era) if transport == "stdio" else _over_http(module, era) as (wire, init):
        assert init["protocolVersion"] == era
        assert init["serverInfo"] == {
            "name": f"spark-agents-{server}",
            "version": importlib.metadata.version("spark-agents"),
        }
        yield wire


@contextmanager
def _over_http(module: str, era: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    with http_server(module) as url, http_wire(url, era) as session:
        yield session


def result(wire: Wire, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = wire.request(method, params)
    assert "result" in answer, (method, answer)
    return answer["result"]


def call(wire: Wire, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    done = result(wire, "tools/call", {"name": tool, "arguments": arguments})
    assert not done.get("isError"), done["content"]
    assert json.loads(done["content"][0]["text"]) == done["structuredContent"]  # both forms, the same result
    return done["structuredContent"]


def read_json(wire: Wire, uri: str) -> Any:
    contents = result(wire, "resources/read", {"uri": uri})["contents"]
    assert contents[0]["uri"] == uri and contents[0]["mimeType"] == "application/json"
    return json.loads(contents[0]["text"])


def complete(wire: Wire, ref: dict[str, str], name: str, value: str, context: dict[str, str] | None = None) -> list:
    params: dict[str, Any] = {"ref": ref, "argument": {"name": name, "value": value}}
    if context:
        params["context"] = {"arguments": context}
    return result(wire, "completion/complete", params)["completion"]["values"]


def tool_names(wire: Wire) -> set[str]:
    tools = result(wire, "tools/list")["tools"]
    assert all(t["inputSchema"]["type"] == "object" and t["outputSchema"] for t in tools)
    return {t["name"] for t in tools}


def graph_session(wire: Wire, prefix: str = "") -> None:
    """A fact extracted offline, read back as its entity's resource, the other entity completed."""
    assert {f"{prefix}extract_graph", f"{prefix}graph_stats"} <= tool_names(wire)
    built = call(wire, f"{prefix}extract_graph", {"text": ADA, "extractor": "offline"})
    assert built["edges_added"] >= 1, built
    facts = read_json(wire, "kg://graphs/default/entities/Ada%20Lovelace")["facts"]
    assert facts[0]["object"] == "Charles Babbage"
    assert complete(wire, ENTITIES, "entity", "char", {"collection": "default"}) == ["Charles Babbage"]
    assert "collection" in {a["name"] for p in result(wire, "prompts/list")["prompts"] for a in p["arguments"]}


def documents_session(wire: Wire, folder: Path) -> None:
    """A text file ingested, the library read back as a resource, its source completed from its file name."""
    assert {"ingest_documents", "search_documents", "list_sources"} <= tool_names(wire)
    call(wire, "ingest_documents", {"paths": [str(folder)]})
    sources = read_json(wire, "rag://sources")["sources"]
    assert [Path(s["path"]).name for s in sources] == ["telescope.txt"]
    prompt = {"type": "ref/prompt", "name": "ask_documents"}
    assert complete(wire, prompt, "source_id", "telescope") == [sources[0]["id"]]


def code_session(wire: Wire) -> None:
    """Code run in the sandbox; the server holds no resources (a read is a clear error) and its prompt's
    arguments have nothing to complete."""
    assert {"run_python", "run_tests", "explain_error", "generate_code"} <= tool_names(wire)
    assert call(wire, "run_python", {"code": "print(6 * 7)"})["stdout"] == "42\n"
    no_resources(wire, "code://nothing")
    assert complete(wire, {"type": "ref/prompt", "name": "explain_error"}, "language", "py") == []


def image_session(wire: Wire, png: Path) -> None:
    """An image's size read; no resources, no prompts, so nothing to complete."""
    assert {"image_info", "extract_text", "describe_image"} <= tool_names(wire)
    info = call(wire, "image_info", {"path": str(png)})
    assert (info["width"], info["height"]) == (7, 5)
    no_resources(wire, "vision://nothing")
    assert complete(wire, {"type": "ref/prompt", "name": "nothing"}, "x", "") == []


def no_resources(wire: Wire, uri: str) -> None:
    assert result(wire, "resources/list")["resources"] == []
    missing = wire.request("resources/read", {"uri": uri})
    assert uri in missing["error"]["message"], missing


@pytest.fixture
def sessions(
    scripted_roles: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Callable[[Wire], None]]:
    """What each server's legacy session does (the gateway's graph goes through the resident service)."""
    monkeypatch.setenv("SPARK_AGENTS_EMBEDDINGS_URL", scripted_roles.url)
    monkeypatch.setenv("SPARK_AGENTS_EMBEDDINGS_MODEL", "scripted-embedding")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "telescope.txt").write_text("The Zephyr-9 telescope mirror is 2.4 metres wide.\n", encoding="utf-8")
    png = tmp_path / "red.png"
    Image.new("RGB", (7, 5), "red").save(png)
    return {
        "gateway": lambda wire: graph_session(wire, prefix="kg_"),
        "rag": lambda wire: documents_session(wire, folder),
        "kg": graph_session,
        "code": code_session,
        "vision": lambda wire: image_session(wire, png),
    }


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("server", ["gateway", "rag", "kg", "code", "vision"])
def test_a_client_of_either_era_gets_tools_a_resource_and_a_completion(
    server: str, transport: str, era: str, sessions: dict[str, Callable[[Wire], None]]
) -> None:
    with client(server, transport, era) as wire:
        sessions[server](wire)


def test_a_2026_client_may_cache_the_fixed_lists_a_while() -> None:
    """Tools, prompts and templates are fixed for a server's life: cacheable for a minute by any client; the
    resource list changes with the libraries (immediately stale)."""
    with stdio_wire("mcp_servers.code", era=MODERN_VERSION) as (wire, _):
        for method in ("tools/list", "prompts/list", "resources/templates/list"):
            listed = result(wire, method)
            assert (listed["ttlMs"], listed["cacheScope"]) == (60_000, "public"), method
        assert result(wire, "resources/list")["ttlMs"] == 0


@pytest.mark.parametrize("era", ERAS)
def test_an_unknown_prompt_or_a_missing_argument_is_invalid_params(era: str) -> None:
    with stdio_wire("mcp_servers.code", era=era) as (wire, _):
        unknown = wire.request("prompts/get", {"name": "nope"})["error"]
        assert (unknown["code"], unknown["message"]) == (-32602, "Unknown prompt: nope")
        missing = wire.request("prompts/get", {"name": "explain_error", "arguments": {}})["error"]
        assert missing["code"] == -32602 and "error" in missing["message"]
