"""End to end in headless Chromium: `spark-agents ui` as users start it, driven by Playwright.

The app runs as a real subprocess (`python -m cli ui --port P`) with the supervisor and coder roles
pointed at the scripted OpenAI-compatible server; Debian's chromium is driven through `executable_path`
(no browser download). Screenshots of every page go to test-artifacts/.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.daemon import free_port
from serving.llama_server import LocalModelServer
from serving.settings import ServingSettings
from tests.support.home import ROLE_VARS
from tests.support.processes import serving_process, stop_services_under
from tests.support.scripted_server import Reply, ScriptedServer, text, tool

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SLOW = 180_000  # ms: the first document upload loads the embedding model; an agent turn starts an MCP server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]


def handler(request: dict[str, Any]) -> Reply:
    """The documents agent searches first; every other call answers, slowly enough to watch it stream."""
    tools = [t["function"]["name"] for t in request.get("tools") or []]
    if "search_documents" in tools and not any(m["role"] == "tool" for m in request["messages"]):
        return tool("search_documents", {"query": "unified memory"})
    return text(
        "Two plus two is **4**. Here is the check:\n\n```python\nprint(2 + 2)\n```\n",
        token_delay=0.15,
    )


@dataclass
class App:
    url: str
    scripted: ScriptedServer
    home: Path
    log: Path


@contextmanager
def running_app(root: Path, supervisor_url: str | None, **extra_env: str) -> Iterator[tuple[str, Path]]:
    """`spark-agents ui --port P` in its own process group, with its own data directory; yields (url, home).
    The model roles point at `supervisor_url`, or stay on the local profile's own llama.cpp model (None)."""
    home, log = root / "home", root / "streamlit.log"
    env = {k: v for k, v in os.environ.items() if k not in ROLE_VARS}
    env.update(SPARK_AGENTS_HOME=str(home), SPARK_AGENTS_PROFILE="local", HF_HUB_OFFLINE="1", **extra_env)
    if supervisor_url:
        env.update(
            SPARK_AGENTS_SUPERVISOR_URL=supervisor_url,
            SPARK_AGENTS_SUPERVISOR_MODEL="scripted-model",
            SPARK_AGENTS_CODER_URL=supervisor_url,
            SPARK_AGENTS_CODER_MODEL="scripted-model",
        )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "cli", "ui", "--port", str(port)]
    try:
        with serving_process(
            argv,
            f"{url}/_stcore/health",
            env=env,
            timeout=120,
            log=log,
            ready=lambda r: r.text == "ok",
            inherit_env=False,
        ):
            yield url, home
    finally:
        stop_services_under(home)  # the service the app started for its home
        if (home / "run" / "llama-server.json").exists():
            LocalModelServer(ServingSettings(home=home, profile="local")).stop()


@pytest.fixture(scope="module")
def ui_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    root = tmp_path_factory.mktemp("ui-e2e")
    with ScriptedServer(handler=handler) as scripted, running_app(root, scripted.url) as (url, home):
        yield App(url=url, scripted=scripted, home=home, log=root / "streamlit.log")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="light")
    pg = context.new_page()
    pg.set_default_timeout(SLOW)
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        shot(pg, f"FAILED-{request.node.name}")
    context.close()


def shot(pg: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    idle(pg)
    size = pg.viewport_size
    # Streamlit scrolls inside its main container, so grow the window to the content for a whole-page shot
    height = pg.evaluate("() => document.querySelector('[data-testid=stMain]')?.scrollHeight || 0")
    pg.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 40, 4000))})
    pg.wait_for_timeout(700)
    pg.screenshot(path=str(path), full_page=True)
    pg.set_viewport_size(size)
    return path


def idle(pg: Any) -> None:
    """Wait until the script run (and any rerun it asked for) is over and the last delta has painted."""
    for _ in range(2):
        pg.wait_for_timeout(400)
        pg.get_by_test_id("stStatusWidget").wait_for(state="hidden")


def open_page(pg: Any, app: App, path: str, heading: str) -> None:
    pg.goto(f"{app.url}/{path}")
    pg.get_by_role("heading", name=re.compile(heading)).first.wait_for()


def send(pg: Any, message: str) -> None:
    box = pg.get_by_test_id("stChatInputTextArea")
    box.fill(message)
    box.press("Enter")


def test_chat_streams_the_answer_and_shows_the_trace(ui_app: App, page: Any) -> None:
    pg = page
    pg.goto(ui_app.url)
    pg.get_by_text("Try one of these").wait_for()
    pg.get_by_role("button", name=re.compile("palindrome")).wait_for()  # raises unless it shows
    shot(pg, "chat-empty")

    # a plain question: the answer arrives token by token (the cursor shows while it streams)
    send(pg, "What is 2+2?")
    answer = pg.get_by_test_id("stChatMessage").nth(1)
    answer.get_by_text("▌").wait_for()
    answer.get_by_text("Two plus two is").wait_for()
    pg.get_by_text("Trace · answered directly by supervisor").wait_for()
    answer.locator("code", has_text="print(2 + 2)").wait_for()
    pg.wait_for_function("() => !document.body.innerText.includes('▌')")
    # the thread is listed in the sidebar, titled by its first message
    pg.get_by_test_id("stSidebar").get_by_role("button", name="What is 2+2?").wait_for()

    # a documents question (a sample prompt for the rag agent): handoff, tool call and result in the trace
    pg.get_by_role("button", name="New chat").click()
    pg.get_by_role("button", name=re.compile("Summarise the main points")).click()
    trace = pg.get_by_text("Trace · supervisor → rag · 1 tool call")
    trace.wait_for()
    trace.click()  # expand it
    pg.get_by_text("handoff → rag agent").wait_for()
    pg.get_by_text("rag.search_documents").first.wait_for()
    # the local profile's small model: its forced call searches with the user's own words
    assert pg.get_by_text('"query": "Summarise the main points of my documents, with citations."').first.is_visible()
    shot(pg, "chat-trace")


def approval_handler(request: dict[str, Any]) -> Reply:
    """A gpt-oss-like model: the supervisor hands off to the coding agent, which wants to run code; each
    answers once it has a tool result, the supervisor passing on what the coding agent said."""
    tools = [t["function"]["name"] for t in request.get("tools") or []]
    messages = request["messages"]
    if "transfer_to_coding" in tools:
        if messages[-1]["role"] == "user":
            return tool("transfer_to_coding", {"task": "run the user's code"})
        return text(str(messages[-1]["content"]))
    if not any(m["role"] == "tool" for m in messages):
        return tool("run_python", {"code": "print(6 * 7)"}, content="I will run it in the sandbox.")
    result = next(m["content"] for m in reversed(messages) if m["role"] == "tool")
    return text("It printed 42." if "42" in result else "I did not run it.")


def test_an_action_waits_for_approval_on_a_card(page: Any, tmp_path: Path) -> None:
    pg = page
    env = {"SPARK_AGENTS_AGENT_ROUTING": "llm", "SPARK_AGENTS_AGENT_SMALL_MODEL": "false"}
    with ScriptedServer(handler=approval_handler) as scripted, running_app(tmp_path, scripted.url, **env) as (url, _):
        pg.goto(url)
        pg.get_by_text("Try one of these").wait_for()
        send(pg, "What does print(6 * 7) print? Run it.")
        card = pg.locator("[class*='st-key-approval_']").first  # the card's container (keyed by the request)
        card.get_by_text("Approval needed").wait_for()
        card.get_by_text("code.run_python").wait_for()
        card.get_by_text("Why: I will run it in the sandbox.").wait_for()
        assert not [r for r in scripted.chat_requests if any(m["role"] == "tool" for m in r["messages"][2:])]
        shot(pg, "chat-approval")
        pg.get_by_role("button", name="Approve", exact=True).click()
        pg.get_by_text("It printed 42.").last.wait_for()
        pg.get_by_text("✅ Approved").wait_for()
        assert not pg.get_by_role("button", name="Deny").count()  # an answered card has no buttons

        send(pg, "Run it once more.")
        pg.get_by_role("button", name="Deny").wait_for()
        shot(pg, "chat-approval-second")
        pg.get_by_role("button", name="Deny").click()
        pg.get_by_text("I did not run it.").last.wait_for()
        pg.get_by_text("🚫 Denied").wait_for()
        ran = [m for r in scripted.chat_requests for m in r["messages"] if m["role"] == "tool" and "42" in m["content"]]
        assert ran  # the approved run happened, in the sandbox
        shot(pg, "chat-approval-answered")


def test_the_model_server_down_shows_a_banner_not_a_stack_trace(page: Any, tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with running_app(tmp_path, down) as (url, _):
        page.goto(url)
        page.get_by_text("Try one of these").wait_for()
        send(page, "Are you there?")
        alert = page.get_by_test_id("stAlert").filter(has_text="model server is unavailable")
        alert.first.wait_for()
        idle(page)  # a rerun under load can paint the new alert before it removes the stale one
        assert alert.count() == 1  # said once
        assert "supervisor" in alert.inner_text() and down in alert.inner_text()
        assert page.get_by_test_id("stException").count() == 0
        assert "Traceback" not in page.content()
        page.get_by_test_id("stSidebar").get_by_role("button", name="Are you there?").wait_for()  # thread kept
        shot(page, "chat-model-down")


def test_upload_documents_with_a_bad_file_among_them(ui_app: App, page: Any, tmp_path: Path) -> None:
    pg = page
    open_page(pg, ui_app, "sources", "Documents")
    good = tmp_path / "spark notes.md"
    good.write_text("# Spark notes\n\nThe DGX Spark has 128 GB of unified memory. NVIDIA builds the DGX Spark.\n")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    liar = tmp_path / "report.pdf"
    liar.write_bytes(b"\x00\x01 this is not a PDF")
    pg.locator("input[type=file]").first.set_input_files([str(good), str(empty), str(liar)])
    pg.get_by_role("button", name="Ingest 3 file(s)").click()
    pg.get_by_text("spark notes.md — added: 1 chunk").wait_for()
    errors = pg.get_by_test_id("stAlert")
    errors.filter(has_text="empty.txt").filter(has_text="empty").wait_for()
    errors.filter(has_text="report.pdf").wait_for()
    pg.get_by_text("Your documents (1)").wait_for()
    pg.get_by_text(re.compile("^Spark notes")).first.wait_for()  # the row: title, then file name
    id_cell = pg.get_by_test_id("stCode").filter(has_text=re.compile(r"^\s*[0-9a-f]{16}\s*$")).locator("pre")
    assert id_cell.evaluate("el => el.scrollWidth <= el.clientWidth")  # the whole id shows, not 14 of 16
    assert pg.get_by_text("markdown", exact=True).evaluate("el => el.getClientRects().length") == 1  # one line
    shot(pg, "sources")


def test_graph_and_models_pages(ui_app: App, page: Any, browser: Any) -> None:
    pg = page
    open_page(pg, ui_app, "graph", "Knowledge graph")
    pg.get_by_label("…and/or from text").fill(
        "Marie Curie was born in Warsaw. Marie Curie worked at the University of Paris. "
        "Pierre Curie married Marie Curie."
    )
    pg.get_by_role("button", name="Build graph").click()
    pg.get_by_text("facts extracted").wait_for()
    frame = pg.frame_locator("iframe").first
    frame.locator("#mynetwork canvas").wait_for()
    pg.wait_for_timeout(2500)  # let the physics layout settle before the screenshot
    pg.get_by_label("Entity").fill("Marie Curie")
    pg.get_by_label("Entity").press("Enter")
    pg.get_by_text(re.compile(r"Marie Curie\*\*?: \d+ entities|Marie Curie: \d+ entities")).wait_for()
    shot(pg, "graph")

    open_page(pg, ui_app, "models", "Models")
    pg.get_by_text("Endpoints").wait_for()
    table = pg.get_by_test_id("stDataFrame").first
    table.wait_for()
    pg.get_by_test_id("stVegaLiteChart").first.wait_for()
    shot(pg, "models-local")
    pg.get_by_test_id("stSelectbox").filter(has_text="Profile").click()
    pg.get_by_role("option", name="spark-120b").click()
    pg.get_by_text(re.compile("spark-120b.*fits")).wait_for()
    pg.wait_for_timeout(1000)
    shot(pg, "models")

    # the dark theme: Streamlit follows the system setting unless the user picks one in Settings
    dark = browser.new_context(viewport={"width": 1400, "height": 1000}, color_scheme="dark")
    try:
        dpg = dark.new_page()
        dpg.set_default_timeout(SLOW)
        open_page(dpg, ui_app, "models", "Models")
        dpg.get_by_test_id("stVegaLiteChart").first.wait_for()
        bg = dpg.evaluate("() => getComputedStyle(document.querySelector('.stApp')).backgroundColor")
        assert bg != "rgb(255, 255, 255)", bg
        shot(dpg, "models-dark")
    finally:
        dark.close()


SPARK_DOC = Path(__file__).resolve().parents[2] / "examples" / "documents" / "dgx-spark.md"
BANDWIDTH_QUESTION = "What memory bandwidth does the DGX Spark have?"


def nav(pg: Any, title: str) -> None:
    """Switch pages inside the session (a new URL would start a new session and forget the selection)."""
    pg.get_by_test_id("stSidebarNavLink").filter(has_text=title).click()
    idle(pg)


def ask_and_read_answer(pg: Any, question: str, expected: str) -> str:
    """Ask in a new chat; the answer's text once the turn is over and `expected` shows in it."""
    pg.get_by_role("button", name="New chat").click()
    idle(pg)
    pg.get_by_text("Try one of these").wait_for()  # the empty thread: no earlier answer left on the page
    send(pg, question)
    pg.get_by_text("Try one of these").wait_for(state="detached")
    pg.get_by_text(re.compile(r"Trace · supervisor → rag · \d+ tool call")).wait_for()  # the finished trace
    answer = pg.get_by_test_id("stChatMessage").nth(1)
    answer.get_by_text(expected).first.wait_for()
    idle(pg)
    return str(answer.inner_text())


@pytest.mark.real_model
def test_local_model_answers_a_documents_question_with_cited_evidence(page: Any, tmp_path: Path) -> None:
    """The local profile end to end (SmolLM2 via llama.cpp, the real router, the rag MCP server): asked with
    all documents and with one selected, the answer is the passage with its citation, never a tool error."""
    pg = page
    other = tmp_path / "garden.md"
    other.write_text("# Garden notes\n\nWater the tomatoes every morning. Basil likes full sun.\n")
    (tmp_path / "app").mkdir()
    with running_app(tmp_path / "app", None) as (url, _):
        pg.goto(f"{url}/sources")
        pg.locator("input[type=file]").first.set_input_files([str(SPARK_DOC), str(other)])
        pg.get_by_role("button", name="Ingest 2 file(s)").click()
        pg.get_by_text("Your documents (2)").wait_for()
        for selection in ("all documents", "the spec alone"):
            if selection == "the spec alone":
                nav(pg, "Documents")
                pg.get_by_role("button", name="Use none").click()
                idle(pg)
                row = pg.get_by_test_id("stHorizontalBlock").filter(has_text="dgx-spark.md").last
                row.get_by_test_id("stCheckbox").click()
                pg.get_by_text("searches 1 of 2 documents").wait_for()
            nav(pg, "Chat")
            if selection == "the spec alone":
                pg.get_by_text("Documents: 1 selected source(s)").wait_for()
            text = ask_and_read_answer(pg, BANDWIDTH_QUESTION, "Memory bandwidth: 273 GB/s")
            assert "From your documents:" in text and "dgx-spark.md" in text, text
            assert "Error" not in text and "could not" not in text, text
            pg.get_by_text("Sources", exact=True).first.wait_for()  # the citation list under the answer
            shot(pg, f"local-documents-{selection.replace(' ', '-')}")


# --- the first ten minutes (issue 30) ----------------------------------------------------------------


def test_a_blank_message_is_refused_and_the_thread_is_in_the_url(ui_app: App, page: Any) -> None:
    pg = page
    pg.goto(ui_app.url)
    pg.get_by_text("Try one of these").wait_for()
    box = pg.get_by_test_id("stChatInputTextArea")
    box.fill("   \n   ")
    box.press("Enter")
    pg.get_by_text("The message is empty").wait_for()  # refused like an empty one, and said so
    shot(pg, "chat-blank-refused")
    assert pg.get_by_test_id("stChatMessage").count() == 0  # nothing was sent, nothing went blank
    assert pg.get_by_text("Try one of these").is_visible()

    send(pg, "What is 2+2?\nline two\n    indented three")
    pg.get_by_text("▌").wait_for()  # while the answer streams: no sample prompts under it, no ✓ on the trace
    assert not pg.get_by_text("Try one of these").is_visible()
    assert not pg.get_by_role("button", name=re.compile("palindrome")).is_visible()
    assert pg.get_by_test_id("stExpanderIconCheck").count() == 0
    pg.get_by_text("Two plus two is").first.wait_for()
    idle(pg)
    bubble = pg.get_by_test_id("stChatMessage").first.inner_text()
    assert "2+2?\nline two\n" in bubble, bubble  # the user's lines stay lines (not one flattened line)
    pg.wait_for_url(re.compile(r"[?&]thread=[0-9a-f]+"))
    thread = re.search(r"thread=([0-9a-f]+)", pg.url)[1]  # type: ignore[index]
    pg.reload()
    pg.get_by_text("Two plus two is").first.wait_for()  # the reload reopened the thread
    assert f"thread={thread}" in pg.url
    shot(pg, "chat-thread-in-url")

    fresh = pg.context.new_page()  # a link to the thread opens it in a new session too
    fresh.goto(f"{ui_app.url}/?thread={thread}")
    fresh.get_by_text("Two plus two is").first.wait_for()
    fresh.close()
    pg.get_by_role("button", name="New chat").click()
    idle(pg)
    assert "thread=" not in pg.url


@pytest.mark.real_model
def test_local_model_first_ten_minutes(page: Any, tmp_path: Path) -> None:
    """The default install (SmolLM2 via llama.cpp, the real router and MCP servers): a message too long for
    the model's context is refused with its overshoot and shown collapsed; "Run print(6 * 7)" asks on a card
    and prints 42 once approved; the citation of the documents answer shows the row it quotes."""
    pg = page
    (tmp_path / "app").mkdir()
    with running_app(tmp_path / "app", None) as (url, _):
        pg.goto(url)
        pg.get_by_text("Try one of these").wait_for()
        long = ("The quick brown fox jumps over the lazy dog. " * 450).strip()
        chars = f"{len(long):,} characters"
        send(pg, long)
        alert = pg.get_by_test_id("stAlert").filter(has_text="too long for the model's context")
        alert.first.wait_for()
        idle(pg)  # a rerun under load can paint the new alert before it removes the stale one
        assert alert.count() == 1  # said once
        assert re.search(rf"it is [\d,]+ tokens \({chars}\)", alert.inner_text())
        assert "Shorten it by" in alert.inner_text()
        pg.get_by_text(f"Show the whole message ({chars})").wait_for()  # collapsed, not the whole text
        assert pg.get_by_test_id("stChatMessage").first.bounding_box()["height"] < 400
        shot(pg, "local-too-long")

        pg.get_by_role("button", name="New chat").click()
        idle(pg)
        send(pg, "Run print(6 * 7)")
        card = pg.locator("[class*='st-key-approval_']").first
        card.get_by_text("Approval needed").wait_for()
        card.get_by_text("code.run_python").wait_for()
        # the arguments' code block is drawn once Streamlit's highlighter has loaded: wait for it, then read it
        card.locator("code").filter(has_text="print(6 * 7)").first.wait_for()
        assert '"code": "print(6 * 7)"' in card.inner_text()
        shot(pg, "local-run-approval")
        pg.get_by_role("button", name="Approve", exact=True).click()
        pg.get_by_text("✅ Approved").wait_for()
        pg.get_by_test_id("stChatMessage").last.get_by_test_id("stMarkdownPre").filter(has_text="42").wait_for()
        shot(pg, "local-run-42")

        nav(pg, "Documents")
        pg.locator("input[type=file]").first.set_input_files([str(SPARK_DOC)])
        pg.get_by_role("button", name="Ingest 1 file(s)").click()
        pg.get_by_text("Your documents (1)").wait_for()
        nav(pg, "Chat")
        answer = ask_and_read_answer(pg, BANDWIDTH_QUESTION, "Memory bandwidth: 273 GB/s")
        passages = [line for line in answer.splitlines() if re.match(r"\[\d\] ", line)]
        assert passages[0].split("] ", 1)[1].startswith("Memory bandwidth: 273 GB/s"), answer  # it leads
        assert not any("Use it to try the documents agent" in p for p in passages), answer  # below the floor
        sources = pg.get_by_test_id("stExpander").filter(has_text="dgx-spark.md")
        for i in range(sources.count()):
            sources.nth(i).locator("summary").click()
        quote = pg.locator("blockquote", has_text="Memory bandwidth: 273 GB/s")
        quote.first.wait_for()
        assert "Memory: 128 GB" in quote.first.inner_text()  # the row with its context
        footer = sources.filter(has=quote.first).first.inner_text()
        assert "path: dgx-spark.md" in footer and "uploads" not in footer  # the file's name, not where it is kept
        quote.first.scroll_into_view_if_needed()
        shot(pg, "local-citation-snippet")


def slow_rag_handler(request: dict[str, Any]) -> Reply:
    """A gpt-oss-like model: the supervisor hands off to the documents agent, which searches, then writes its
    answer slowly; the supervisor passes the agent's answer on."""
    tools = [t["function"]["name"] for t in request.get("tools") or []]
    messages = request["messages"]
    if "transfer_to_rag" in tools:
        if messages[-1]["role"] == "user":
            return tool("transfer_to_rag", {"task": "search the documents"})
        return text(str(messages[-1]["content"]))
    if not any(m["role"] == "tool" for m in messages):
        return tool("search_documents", {"query": "memory"})
    return text("Nothing in your documents says so, as far as I can see.", token_delay=0.4)


def test_a_working_agent_shows_a_spinner_until_its_answer_is_done(page: Any, tmp_path: Path) -> None:
    pg = page
    env = {"SPARK_AGENTS_AGENT_ROUTING": "llm", "SPARK_AGENTS_AGENT_SMALL_MODEL": "false"}
    with ScriptedServer(handler=slow_rag_handler) as scripted, running_app(tmp_path, scripted.url, **env) as (url, _):
        pg.goto(url)  # the first page of this home: its service starts now, and the page says so
        pg.get_by_text("Starting the assistant…").wait_for()
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "chat-starting.png"))  # as it is (shot() waits for the run to end)
        pg.get_by_text("Try one of these").wait_for()
        assert not pg.get_by_text("Starting the assistant…").count()
        pg.get_by_role("button", name="What do my documents say about memory requirements?").click()
        pg.get_by_text("▌").wait_for()  # the agent's answer is streaming, after its handoff and tool call
        assert not pg.get_by_text("Try one of these").is_visible()  # no sample prompts left under the turn
        assert not pg.get_by_role("button", name=re.compile("palindrome")).is_visible()
        pg.get_by_text("rag agent working…").wait_for()
        assert pg.get_by_test_id("stExpanderIconSpinner").count() == 1
        assert pg.get_by_test_id("stExpanderIconCheck").count() == 0  # no ✓ while it works
        shot(pg, "chat-working")
        pg.get_by_text(re.compile("Trace · supervisor → rag")).wait_for()
        pg.get_by_test_id("stExpanderIconCheck").wait_for()  # done: now the ✓
