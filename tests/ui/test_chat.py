"""The chat page under AppTest: real turns against the scripted OpenAI-compatible server."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from agents.threads import ThreadStore
from api.service import ServiceSettings
from core.daemon import free_port
from core.wire import FinalEvent, HandoffEvent, ToolCallEvent, ToolResultEvent
from serving.settings import ServingSettings
from tests.support.scripted_server import Reply, ScriptedServer, text, tool
from tests.ui.conftest import TIMEOUT, OneUIService


def assistant_texts(at: AppTest) -> list[str]:
    return [m.value for msg in at.chat_message if msg.name == "assistant" for m in msg.markdown]


def user_texts(at: AppTest) -> list[str]:
    return [m.value for msg in at.chat_message if msg.name == "user" for m in msg.markdown]


def sent_user_messages(server: ScriptedServer) -> list[str]:
    return [m["content"] for r in server.chat_requests for m in r["messages"] if m["role"] == "user"]


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def test_the_model_server_down_shows_a_banner_not_a_traceback(app, monkeypatch) -> None:
    port = free_port()  # nothing listens there yet
    url = f"http://127.0.0.1:{port}/v1"
    monkeypatch.setenv("SPARK_AGENTS_SUPERVISOR_URL", url)
    at = app()
    at.chat_input[0].set_value("Hello?").run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1
    assert "supervisor model server is unavailable" in errors[0] and url in errors[0]
    assert at.status[0].label.startswith("Trace")
    # the thread and the user's message are kept; a retry after the server is back works
    server = ScriptedServer([text("I am back.")]).start(port)  # the model server comes back on its address
    try:
        at.chat_input[0].set_value("Hello again?").run()
    finally:
        server.stop()
    assert not at.exception
    assert user_texts(at) == ["Hello?", "Hello again?"]
    assert any("I am back." in t for t in assistant_texts(at))
    assert len(ThreadStore(ServingSettings().home / "threads.db").list()) == 1


TRACE_SCRIPT = """
import streamlit as st
from core.wire import FinalEvent, HandoffEvent, ToolCallEvent, ToolResultEvent
from ui.views.chat import render_message

events = [
    HandoffEvent(agent="rag", reason="the question is about the user's documents"),
    ToolCallEvent(server="rag", tool="search_documents", arguments={"query": "KV cache size", "k": 5}),
    ToolResultEvent(server="rag", tool="search_documents", summary="3 chunks from spark.pdf"),
    ToolCallEvent(server="code", tool="run_python", arguments={"code": "print(6*7)"}),
    ToolResultEvent(server="code", tool="run_python", summary="exit 1: NameError", is_error=True),
]
final = FinalEvent(
    text="The KV cache takes 4.5 GB [1].",
    citations=[{"label": "1", "citation": "Spark guide (spark.pdf)", "source_id": "ab12cd34",
                "page": 7, "snippet": "The KV cache grows with context."}],
)
render_message({
    "role": "assistant", "content": final.text, "citations": final.citations,
    "trace": [e.model_dump(mode="json") for e in events], "error": None, "agent": "rag",
})
"""


def test_the_trace_shows_handoffs_tool_calls_results_and_citations() -> None:
    at = AppTest.from_string(TRACE_SCRIPT, default_timeout=TIMEOUT).run()
    assert not at.exception
    status = at.status[0]
    assert status.label == "Trace · supervisor → rag · 2 tool calls"
    lines = [m.value for m in status.markdown]
    assert any("handoff → rag agent" in line and "user's documents" in line for line in lines)
    assert any("tool call" in line and "rag.search_documents" in line for line in lines)
    assert any("tool error" in line and "code.run_python" in line for line in lines)
    codes = [c.value for c in status.code]
    assert any('"query": "KV cache size"' in c for c in codes)
    assert "3 chunks from spark.pdf" in codes and "exit 1: NameError" in codes
    cites = [e for e in at.expander if e.label.startswith("[1]")]
    assert len(cites) == 1 and cites[0].label == "[1] Spark guide (spark.pdf), p. 7"
    assert "The KV cache grows with context." in cites[0].markdown[0].value
    # the events used above are the real event models: their JSON shape is what the turn stores
    assert FinalEvent(text="x").type == "final" and HandoffEvent(agent="kg").type == "handoff"
    assert ToolCallEvent(server="a", tool="b").arguments == {} and ToolResultEvent(server="a", tool="b", summary="")


def rag_handler(request: dict) -> Reply:
    """The documents agent searches first, then answers from what it found."""
    tools = [t["function"]["name"] for t in request.get("tools") or []]
    if "search_documents" in tools and not any(m["role"] == "tool" for m in request["messages"]):
        return tool("search_documents", {"query": "unified memory"})
    return text("The DGX Spark has 128 GB of unified memory [1].")


def test_a_thread_resumes_after_a_restart(app, scripted_roles: ScriptedServer) -> None:
    from api.service import stop_service

    scripted_roles.script(text("Paris is the capital of France."))
    at = app()
    at.chat_input[0].set_value("Capital of France?").run()
    thread_id = at.session_state["thread_id"]
    assert stop_service(ServiceSettings())  # the service is gone, as after a reboot; only the data directory remains
    fresh = app()  # a new browser session: nothing in session state
    assert not fresh.chat_message
    fresh.button(key=f"thread_{thread_id}").click().run()
    assert not fresh.exception
    assert user_texts(fresh) == ["Capital of France?"]
    assert any("Paris is the capital of France." in t for t in assistant_texts(fresh))


class TestChatPage(OneUIService):
    """Each test starts from an empty home (no thread, document or upload); the service, its runtime and its
    MCP servers are started once."""

    def test_an_empty_thread_offers_sample_prompts_for_each_agent(self, app) -> None:
        at = app()
        headers = [m.value for m in at.markdown]
        for label in ("Coding", "Documents (RAG)", "Vision", "Knowledge graph"):
            assert any(label in h for h in headers), headers
        samples = [b for b in at.button if b.key and b.key.startswith("sample_")]
        assert {b.key.split("_")[1] for b in samples} == {"coding", "rag", "vision", "kg"}

    def test_a_message_streams_the_answer_and_shows_the_trace(self, app, scripted_roles: ScriptedServer) -> None:
        scripted_roles.script(text("Two plus two is **4**.\n\n```python\nprint(2 + 2)\n```"))
        at = app()
        at.chat_input[0].set_value("What is 2+2?").run()
        assert not at.exception
        assert user_texts(at) == ["What is 2+2?"]
        assert any("Two plus two is **4**." in t for t in assistant_texts(at))
        assert "What is 2+2?" in sent_user_messages(scripted_roles)
        # the turn's trace: a status box per assistant message, finished
        assert [s.label for s in at.status] == ["Trace · answered directly by supervisor"]
        # the thread is recorded and listed in the sidebar, titled by its first message
        threads = ThreadStore(ServingSettings().home / "threads.db").list()
        assert [t.title for t in threads] == ["What is 2+2?"]
        assert "What is 2+2?" in [b.label.split(" · ")[0] for b in at.sidebar.button]  # title · time
        assert at.session_state["thread_id"] == threads[0].id

    def test_a_sample_prompt_runs_as_a_turn(self, app, scripted_roles: ScriptedServer) -> None:
        scripted_roles.script(text("def is_palindrome(s): return s == s[::-1]"))
        at = app()
        at.button(key="sample_coding_0").click().run()
        assert not at.exception
        prompt = at.button  # the sample prompts are gone once the thread has messages
        assert not [b for b in prompt if b.key and b.key.startswith("sample_")]
        assert user_texts(at) and user_texts(at)[0].startswith("Write a Python function")
        assert any("is_palindrome" in t for t in assistant_texts(at))

    def test_threads_new_switch_rename_delete(self, app, scripted_roles: ScriptedServer) -> None:
        scripted_roles.script(text("Paris."), text("Berlin."))
        at = app()
        at.chat_input[0].set_value("Capital of France?").run()
        first = at.session_state["thread_id"]
        at.button(key="new_chat").click().run()
        assert at.session_state["thread_id"] == ""
        assert not at.chat_message  # a new, empty thread
        at.chat_input[0].set_value("Capital of Germany?").run()
        second = at.session_state["thread_id"]
        assert second != first
        assert user_texts(at) == ["Capital of Germany?"]

        at.button(key=f"thread_{first}").click().run()
        assert user_texts(at) == ["Capital of France?"]
        assert any("Paris." in t for t in assistant_texts(at))

        at.text_input(key=f"rename_{first}").set_value("Geography: France").run()
        at.button(key="rename_thread").click().run()
        assert ThreadStore(ServingSettings().home / "threads.db").get(first).title == "Geography: France"
        assert "Geography: France" in [b.label.split(" · ")[0] for b in at.sidebar.button]

        at.text_input(key=f"rename_{first}").set_value("   ").run()
        at.button(key="rename_thread").click().run()
        assert "cannot be empty" in at.error[0].value
        assert ThreadStore(ServingSettings().home / "threads.db").get(first).title == "Geography: France"

        at.button(key="delete_thread").click().run()
        assert not at.exception
        assert [t.id for t in ThreadStore(ServingSettings().home / "threads.db").list()] == [second]
        assert at.session_state["thread_id"] == ""
        assert f"thread_{first}" not in [b.key for b in at.sidebar.button]

    def test_an_attached_image_is_stored_under_a_generated_name(
        self, app, scripted_roles: ScriptedServer, spark_home: Path
    ) -> None:
        scripted_roles.script(text("A red rectangle."))
        at = app()
        at.chat_input[0].upload("../../etc/evil name.png", png_bytes(), "image/png")
        at.chat_input[0].set_value("What is in this picture?").run()
        assert not at.exception
        saved = list((spark_home / "uploads" / "images").iterdir())
        assert len(saved) == 1
        assert saved[0].suffix == ".png" and "evil" not in saved[0].name and len(saved[0].stem) == 32
        assert saved[0].read_bytes() == png_bytes()
        user = next(m for m in at.chat_message if m.name == "user")
        assert [c.type for c in user.children.values()] == ["markdown", "image"], "the image is shown with the message"
        assert any("A red rectangle." in t for t in assistant_texts(at))

    def test_an_image_alone_gets_a_default_question(self, app, scripted_roles: ScriptedServer) -> None:
        scripted_roles.script(text("A red rectangle."))
        at = app()
        at.chat_input[0].upload("photo.png", png_bytes(), "image/png").run()
        assert not at.exception
        assert user_texts(at) == ["What is in this image?"]

    def test_a_documents_turn_shows_handoff_tool_call_result_and_citations(
        self, app, scripted_roles: ScriptedServer
    ) -> None:
        pytest.importorskip("rag.library", reason="the document store (rag.library) is not installed")
        scripted_roles.handler = rag_handler
        at = app("sources")
        notes = b"# Spark notes\n\nThe DGX Spark has 128 GB of unified memory.\n"
        at.file_uploader[0].set_value([("notes.md", notes, "text/markdown")]).run()
        at.button(key="ingest").click().run()
        at.switch_page("app_pages/chat.py").run()
        at.selectbox(key="agent_choice").select("rag").run()
        at.chat_input[0].set_value("How much memory does the Spark have?").run()
        assert not at.exception and not at.error
        status = at.status[0]
        assert status.label == "Trace · supervisor → rag · 1 tool call"
        lines = [m.value for m in status.markdown]
        assert lines[0].startswith("📄 **handoff → rag agent**")
        assert "rag.search_documents" in lines[1] and "tool call" in lines[1]
        assert "rag.search_documents" in lines[2] and "tool result" in lines[2]
        codes = [c.value for c in status.code]
        # a small model's forced call searches with the user's own words, not its paraphrase ("unified memory")
        assert '"query": "How much memory does the Spark have?"' in codes[0] and "128 GB of unified memory" in codes[1]
        assert any("128 GB of unified memory" in t for t in assistant_texts(at)), assistant_texts(at)
        cites = [e for e in at.expander if e.label.startswith("[1]")]
        assert [c.label for c in cites] == ["[1] Spark notes (notes.md), § Spark notes"]
        assert "128 GB of unified memory" in cites[0].markdown[0].value
        # the agent choice survives a page switch; the Documents page lists through the same service
        at.switch_page("app_pages/sources.py").run()
        assert not at.error and "Your documents (1)" in [h.value for h in at.subheader]
        at.switch_page("app_pages/chat.py").run()
        assert at.selectbox(key="agent_choice").value == "rag"
