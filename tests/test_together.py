"""Every front end on one data directory at the same time: the Streamlit app in a real browser, the MCP
gateway over stdio as an IDE starts it, an OpenAI client of the service and the CLI. Each ingests, searches
and asks while the others are open; none sees "in use", and each finds what the others stored — because
the one resident service owns the stores and all four are its clients.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from api.service import ServiceSettings, ensure_service, read_record
from core.daemon import free_port
from mcp_servers.sdk import field
from tests.support.mcp_client import stdio_session
from tests.support.processes import serving_process
from tests.support.scripted_server import Reply, ScriptedServer, text, tool
from tests.ui.test_browser import CHROMIUM, CHROMIUM_ARGS, SLOW, send

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]

DOCS = {  # one document per front end, each with a word only it contains
    "cli": "# Greenhouse notes\n\nAphids are controlled with ladybirds in the greenhouse.\n",
    "gateway": "# Orchard notes\n\nCodling moths are caught with pheromone traps in the orchard.\n",
    "openai": "# Vineyard notes\n\nPowdery mildew is treated with sulphur in the vineyard.\n",
    "ui": "# Apiary notes\n\nVarroa mites are counted on sticky boards in the apiary.\n",
}


def conversation(request: dict[str, Any]) -> str:
    return " ".join(str(m.get("content") or "") for m in request["messages"] if m["role"] == "user")


def model(request: dict[str, Any]) -> Reply:
    """Like a real model: route documents questions to rag, ingest when asked to, else search, then answer
    from the tool's result (so an answer shows what the store returned)."""
    if "messages" not in request:
        return text("")
    tools = [t["function"]["name"] for t in request.get("tools") or []]
    said = conversation(request)
    results = [str(m.get("content")) for m in request["messages"] if m["role"] == "tool"]
    if "transfer_to_rag" in tools:  # the supervisor
        if results:  # the specialist has answered: the supervisor passes its answer on
            answers = [str(m.get("content")) for m in request["messages"] if m["role"] == "assistant"]
            return text(next((a for a in reversed(answers) if a), "Done."))
        return tool("transfer_to_rag", {"task": said}) if "documents" in said else text("Two plus two is four.")
    if "search_documents" in tools and not results:
        path = re.search(r"Ingest (\S+)", said)
        if path and "ingest_documents" in tools:
            return tool("ingest_documents", {"paths": [path.group(1)]})
        return tool("search_documents", {"query": said})
    return text(f"From your documents: {results[-1][:400]}" if results else "Nothing to go on.")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=300)
    assert "in use" not in r.stdout + r.stderr, r.stderr
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture
def together(monkeypatch: pytest.MonkeyPatch, spark_home: Path, tmp_path: Path) -> Any:
    server = ScriptedServer(handler=model)
    server.start()
    for role in ("SUPERVISOR", "CODER"):
        monkeypatch.setenv(f"SPARK_AGENTS_{role}_URL", server.url)
        monkeypatch.setenv(f"SPARK_AGENTS_{role}_MODEL", "scripted-model")
    monkeypatch.setenv("SPARK_AGENTS_EMBEDDINGS_URL", server.url)
    monkeypatch.setenv("SPARK_AGENTS_EMBEDDINGS_MODEL", "scripted-embedding")
    monkeypatch.setenv("SPARK_AGENTS_AGENT_ROUTING", "llm")
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "false")
    # the agents ingest through the gateway and the OpenAI API at once: this test is about sharing one
    # home, not about approval (tests/agents/test_approval.py), so ingesting does not ask here
    monkeypatch.setenv("SPARK_AGENTS_AGENT_APPROVAL", '{"ingest_documents": "always"}')
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name, body in DOCS.items():
        (tmp_path / f"{name}.md").write_text(body, encoding="utf-8")
    yield server
    server.stop()


def test_ui_gateway_openai_client_and_cli_work_on_one_home_at_once(
    together: ScriptedServer, spark_home: Path, tmp_path: Path
) -> None:
    from openai import OpenAI
    from playwright.sync_api import sync_playwright

    handle = ensure_service(ServiceSettings())  # the service every front end below shares
    port = free_port()
    ui_url = f"http://127.0.0.1:{port}"
    ui = [sys.executable, "-m", "cli", "ui", "--port", str(port)]
    with (
        serving_process(ui, f"{ui_url}/_stcore/health", env=dict(os.environ), timeout=120, log=tmp_path / "ui.log"),
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(SLOW)
        page.goto(f"{ui_url}/sources")  # the app is open (and stays open) while the others work

        async def with_the_gateway_open() -> dict[str, Any]:
            async with stdio_session("mcp_servers.gateway") as gateway:
                # the CLI, while the app and the IDE's gateway are open
                cli("ingest", str(tmp_path / "cli.md"))
                found = cli("search", "ladybirds aphids")
                asked = cli("ask", "What is 2+2?")
                # the gateway: ingest, search, ask
                ingested = await gateway.call_tool("rag_ingest_documents", {"paths": [str(tmp_path / "gateway.md")]})
                searched = await gateway.call_tool("rag_search_documents", {"query": "ladybirds aphids"})
                answered = await gateway.call_tool(
                    "ask_assistant", {"question": "What do my documents say about codling moths?"}
                )
                for result in (ingested, searched, answered):
                    assert not field(result, "isError"), result.content
                # an OpenAI client of the service (what Continue and scripts use)
                client = OpenAI(base_url=f"{handle.url}/v1", api_key=handle.token or "none")

                def chat(message: str) -> str:
                    reply = client.chat.completions.create(
                        model="spark-agents", messages=[{"role": "user", "content": message}]
                    )
                    return reply.choices[0].message.content or ""

                return {
                    "cli": (found.stdout, asked.stdout),
                    "gateway": (field(searched, "structuredContent"), field(answered, "structuredContent")["answer"]),
                    "openai": (
                        chat(f"Ingest {tmp_path / 'openai.md'} into my documents"),
                        chat("What do my documents say about codling moths and pheromone traps?"),
                        chat("What is 2+2?"),
                    ),
                }

        with ThreadPoolExecutor(1) as other:  # Playwright's sync API owns this thread's event loop
            seen = other.submit(asyncio.run, with_the_gateway_open()).result()
        assert "Greenhouse notes" in seen["cli"][0] and "four" in seen["cli"][1]
        assert "ladybirds" in str(seen["gateway"][0])  # the gateway finds what the CLI ingested
        assert "pheromone traps" in seen["gateway"][1]  # ... and answers from what it ingested itself
        ingest_answer, search_answer, plain_answer = seen["openai"]
        assert "Vineyard notes" in ingest_answer, ingest_answer  # the ingestion report names the new source
        assert "pheromone traps" in search_answer and "four" in plain_answer

        # the browser: upload a document, then ask about one the OpenAI client ingested
        page.reload()
        page.locator("input[type=file]").first.set_input_files([str(tmp_path / "ui.md")])
        page.get_by_role("button", name="Ingest 1 file(s)").click()
        page.get_by_text("ui.md — added: 1 chunk").wait_for()
        page.get_by_text("Your documents (4)").wait_for()
        page.goto(ui_url)
        page.get_by_text("Try one of these").wait_for()
        send(page, "What do my documents say about powdery mildew?")
        answer = page.get_by_test_id("stChatMessage").nth(1)
        answer.get_by_text("From your documents").first.wait_for()
        page.get_by_text("Trace · supervisor → rag · 1 tool call").wait_for()
        assert "sulphur in the vineyard" in answer.inner_text()  # found what the OpenAI client ingested
        assert "in use" not in page.content()
        browser.close()

    listed = cli("sources", "list").stdout
    assert all(f"{name}.md" in listed for name in DOCS), listed
    record = read_record(ServiceSettings())
    assert record is not None and record.pid == handle.pid  # one service served them all
    log = (spark_home / "logs" / "service.log").read_text()
    assert "in use by another process" not in log
