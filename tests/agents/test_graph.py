"""The agent graph end to end: scripted model on loopback, real MCP servers over stdio, real stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont

from agents.threads import ThreadStore
from core.wire import ApprovalAnswer, ErrorEvent, FinalEvent
from kg.settings import KGSettings
from serving.embeddings import get_embedder
from serving.settings import ServingSettings
from tests.support.agent_fixtures import SPARK_DOC, OneRuntime, Shared, ingest, warranty_file
from tests.support.scripted_server import Reply, ScriptedServer, text, tool
from tests.support.turns import get_runtime, run_turn, thread_messages


def turn(message: str, **kwargs: Any) -> list[Any]:
    return list(run_turn(message, **kwargs))


def of(events: list[Any], kind: str) -> list[Any]:
    return [e for e in events if e.type == kind]


def test_general_answer_streams_and_is_stored(llm_routing: ScriptedServer) -> None:
    llm_routing.script(text("Paris is the capital of France."))
    events = turn("What is the capital of France?")
    final = events[-1]
    assert isinstance(final, FinalEvent) and final.text == "Paris is the capital of France."
    assert "".join(e.text for e in of(events, "token")) == final.text
    assert not of(events, "handoff")
    request = llm_routing.chat_requests[0]
    assert {t["function"]["name"] for t in request["tools"]} == {
        "transfer_to_coding",
        "transfer_to_rag",
        "transfer_to_vision",
        "transfer_to_kg",
    }
    assert [t.id for t in ThreadStore(ServingSettings().home / "threads.db").list()] == [final.thread_id]
    assert thread_messages(final.thread_id) == [
        {"role": "user", "content": "What is the capital of France?", "agent": ""},
        {"role": "assistant", "content": "Paris is the capital of France.", "agent": "supervisor"},
    ]


def test_kg_route_answers_from_graph_facts(llm_routing: ScriptedServer) -> None:
    from kg.build import build_graph, text_chunks

    settings = KGSettings()
    build_graph(
        text_chunks("Marie Curie was born in Warsaw. Marie Curie married Pierre Curie.", settings=settings),
        extractor="offline",
        settings=settings,
    )
    llm_routing.script(
        tool("transfer_to_kg"),
        tool("query_graph", {"mode": "neighbours", "entity": "Marie Curie"}),
        text("Marie Curie was born in Warsaw and married Pierre Curie."),
        text("She was born in Warsaw and married Pierre Curie."),
    )
    events = turn("How is Marie Curie connected to Warsaw?")
    assert [e.agent for e in of(events, "handoff")] == ["kg"]
    call = of(events, "tool_call")[0]
    assert (call.server, call.tool, call.arguments["entity"]) == ("kg", "query_graph", "Marie Curie")
    result = of(events, "tool_result")[0]
    assert not result.is_error and "Warsaw" in result.summary


def _text_image(path: Path, words: str) -> Path:
    img = Image.new("RGB", (900, 200), "white")
    ImageDraw.Draw(img).text((40, 60), words, fill="black", font=ImageFont.load_default(size=64))
    img.save(path)
    return path


def test_image_attachment_with_a_vision_model(
    llm_routing: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARK_AGENTS_VISION_URL", llm_routing.url)
    monkeypatch.setenv("SPARK_AGENTS_VISION_MODEL", "scripted-vlm")
    image = _text_image(tmp_path / "photo.png", "CAT")
    llm_routing.script(
        tool("describe_image", {"question": "What is this?"}),
        text("A white card with the word CAT."),  # answered by the VLM, inside the vision MCP server
        text("It is a card that reads CAT."),
        text("A card that reads CAT."),
    )
    events = turn("What is this?", attachments=[image])
    vlm_request = next(r for r in llm_routing.chat_requests if r.get("model") == "scripted-vlm")
    parts = vlm_request["messages"][-1]["content"]
    assert any(p["type"] == "image_url" and p["image_url"]["url"].startswith("data:image/png;base64,") for p in parts)
    assert of(events, "tool_result")[0].summary.count("CAT") >= 1
    assert events[-1].text == "A card that reads CAT."


def test_mcp_sessions_are_opened_once_and_reused(llm_routing: ScriptedServer, warranty_doc: Path) -> None:
    for _ in range(3):
        llm_routing.script(tool("search_documents", {"query": "warranty"}), text("Three years."))
        assert turn("warranty?", agent="rag")[-1].text == "Three years."
    assert get_runtime().pool.starts == {"rag": 1, "kg": 1}  # kg: the graph's facts beside the hits


def test_thread_survives_a_process_restart(scripted: ScriptedServer, spark_home: Path) -> None:
    env = {
        **os.environ,
        "SPARK_AGENTS_SUPERVISOR_URL": scripted.url,
        "SPARK_AGENTS_AGENT_ROUTING": "llm",
        "SPARK_AGENTS_AGENT_SMALL_MODEL": "false",
    }

    def ask(*args: str) -> list[dict[str, Any]]:
        out = subprocess.run(
            [sys.executable, "-m", "cli", "ask", "--json", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert out.returncode == 0, out.stderr
        return [json.loads(line) for line in out.stdout.splitlines()]

    scripted.script(text("Nice to meet you, Ada."), text("Your name is Ada."))
    thread = ask("My name is Ada.")[-1]["thread_id"]
    assert ask("--thread", thread, "What is my name?")[-1]["text"] == "Your name is Ada."
    second = scripted.chat_requests[1]["messages"]
    assert [m["content"] for m in second if m["role"] in ("user", "assistant")] == [
        "My name is Ada.",
        "Nice to meet you, Ada.",
        "What is my name?",
    ]


@pytest.mark.real_model
def test_local_model_routes_and_calls_a_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    events = turn("Write a Python function that adds two numbers.")
    assert isinstance(events[-1], FinalEvent), events[-1]
    assert of(events, "handoff")[0].agent == "coding"
    call = of(events, "tool_call")[0]
    assert (call.server, call.tool) == ("code", "generate_code") and call.arguments.get("task")
    assert events[-1].text.strip()


def test_specialist_over_an_mcp_http_server_with_a_token(
    llm_routing: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.daemon import free_port
    from tests.support.processes import serving_process

    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    argv = [sys.executable, "-m", "mcp_servers.kg", "--http", "--port", str(port)]
    with serving_process(argv, url, env={"SPARK_AGENTS_MCP_TOKEN": "s3cret"}):
        monkeypatch.setenv("SPARK_AGENTS_AGENT_MCP_KG_URL", url)
        monkeypatch.setenv("SPARK_AGENTS_MCP_TOKEN", "wrong")
        assert "kg MCP server is unavailable" in turn("graph stats?", agent="kg")[-1].message
        monkeypatch.setenv("SPARK_AGENTS_MCP_TOKEN", "s3cret")
        from tests.support.turns import reset_runtime

        reset_runtime()
        llm_routing.script(tool("graph_stats", {}), text("The graph is empty."))
        events = turn("graph stats?", agent="kg")
        result = of(events, "tool_result")[0]
        assert not result.is_error and '"nodes": 0' in result.summary
        assert get_runtime().pool.starts == {"kg": 1}


INVENTED = "https://www.amazon.com/dp/v1/smash-2075386945"


@pytest.fixture
def spark_doc() -> Path:
    ingest(SPARK_DOC)
    return SPARK_DOC


def test_the_documents_agent_adds_the_graphs_facts_about_what_its_hits_name(
    scripted_roles: ScriptedServer, monkeypatch: pytest.MonkeyPatch, warranty_doc: Path
) -> None:
    from kg.build import build_graph, text_chunks

    settings = KGSettings()
    text = "The Spark Widget is made by Acme Corp. Acme Corp is headquartered in Berlin."
    build_graph(text_chunks(text, settings=settings), None, "offline", settings=settings)
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "true")
    scripted_roles.script(tool("search_documents", {"query": "warranty"}))
    events = turn("How long is the warranty on the Spark Widget?", agent="rag")
    assert [(c.server, c.tool) for c in of(events, "tool_call")] == [("rag", "search_documents"), ("kg", "graph_facts")]
    final = events[-1]
    assert isinstance(final, FinalEvent)
    passages, graph = final.text.split("From your knowledge graph:")
    assert "warranty period of three years" in passages and "Spark Widget made by Acme Corp." in graph
    assert final.citations[0]["path"].endswith("warranty.md")
    assert any(c["citation"].startswith("knowledge graph") and "Acme" in c["snippet"] for c in final.citations)


@pytest.mark.parametrize("small", [True, False])
def test_a_documents_turn_makes_one_search(
    scripted_roles: ScriptedServer, monkeypatch: pytest.MonkeyPatch, spark_doc: Path, small: bool
) -> None:
    """The supervisor's probe search is handed to the documents agent, whose first search it answers."""
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", str(small).lower())
    monkeypatch.setenv("SPARK_AGENTS_AGENT_ROUTER_MIN_SCORE", "2")  # never confident: the model would decide
    question = "Which quantization is native to Blackwell tensor cores?"
    scripted_roles.script(tool("search_documents", {"query": "quantization"}))
    if not small:
        scripted_roles.script(text("NVFP4 [1]."))
    pool = get_runtime().pool
    searches: list[dict[str, Any]] = []
    call = pool.call

    async def counted(server: str, name: str, arguments: dict[str, Any], progress: Any = None) -> Any:
        if (server, name) == ("rag", "search_documents"):
            searches.append(arguments)
        return await call(server, name, arguments, progress)

    monkeypatch.setattr(pool, "call", counted)
    events = turn(question)
    assert of(events, "handoff")[0].agent == "rag"
    assert searches == [{"query": question, "k": 3}]  # the probe's, and no other
    shown = [c for c in of(events, "tool_call") if c.tool == "search_documents"]
    assert len(shown) == 1 and shown[0].arguments == searches[0] and "not repeated" in shown[0].note
    final = events[-1]
    assert isinstance(final, FinalEvent) and final.citations
    runtime = get_runtime()
    state = runtime.run(runtime.graph.aget_state({"configurable": {"thread_id": final.thread_id}}))
    route = state.values["route"]  # plain data in the checkpoint (no project type to deserialize)
    assert route["reason"] == "probe" and type(route["reason"]) is str
    if small:
        assert "NVFP4 natively" in final.text
    else:  # the documents agent's model read the probe's result as its search's
        seen = [m["content"] for m in scripted_roles.chat_requests[1]["messages"] if m["role"] == "tool"]
        assert len(seen) == 1 and "NVFP4 natively" in seen[0]


class TestTurnsRoutedByTheModel(OneRuntime):
    """Turns that need only a thread of their own, on one runtime: the supervisor model routes (gpt-oss)."""

    ENV = {"SPARK_AGENTS_AGENT_ROUTING": "llm", "SPARK_AGENTS_AGENT_SMALL_MODEL": "false"}

    def documents(self, folder: Path) -> list[Path]:
        return [warranty_file(folder)]

    @pytest.fixture
    def warranty_doc(self, shared: Shared) -> Path:
        return shared.docs["warranty.md"]

    def test_rag_route_calls_search_and_returns_citations(
        self, llm_routing: ScriptedServer, warranty_doc: Path
    ) -> None:
        llm_routing.script(
            tool("transfer_to_rag", {"task": "find the warranty period"}),
            tool("search_documents", {"query": "warranty period", "k": 3}),
            text("The warranty period is three years [1]."),
            text("Your Spark Widget is under warranty for three years [1]."),
        )
        events = turn("How long is the warranty on my Spark Widget, according to my documents?")
        assert [e.agent for e in of(events, "handoff")] == ["rag"]
        call = of(events, "tool_call")[0]
        assert (call.server, call.tool, call.arguments) == (
            "rag",
            "search_documents",
            {"query": "warranty period", "k": 3},
        )
        assert not of(events, "tool_result")[0].is_error
        final = events[-1]
        assert final.text == "Your Spark Widget is under warranty for three years [1]."
        assert final.citations and final.citations[0]["path"].endswith("warranty.md")
        assert "three years" in final.citations[0]["snippet"]
        # The rag agent's second model call saw the retrieved chunk as a tool result.
        tool_messages = [m for m in llm_routing.chat_requests[2]["messages"] if m["role"] == "tool"]
        assert "three years" in tool_messages[0]["content"]
        # Every tool of the server is offered: deleting waits for the user's approval (test_approval.py).
        offered = {t["function"]["name"] for t in llm_routing.chat_requests[1]["tools"]}
        assert {"search_documents", "delete_source"} <= offered

    def test_selected_sources_override_the_model(self, llm_routing: ScriptedServer, warranty_doc: Path) -> None:
        llm_routing.script(tool("search_documents", {"query": "warranty"}), text("three years"))
        events = turn("warranty?", agent="rag", sources=["abc123"])
        assert of(events, "tool_call")[0].arguments["source_ids"] == ["abc123"]

    def test_coding_route_runs_code_in_the_sandbox(self, llm_routing: ScriptedServer) -> None:
        llm_routing.script(
            tool("transfer_to_coding"),
            tool("run_python", {"code": "print(6 * 7)"}),
            text("It prints 42."),
            text("6 × 7 = 42."),
        )
        paused = turn("Run print(6 * 7) and tell me the output")
        assert [e.agent for e in of(paused, "handoff")] == ["coding"]
        request = paused[-1].approval  # running code waits for the user (tests/agents/test_approval.py)
        events = turn("", approval=ApprovalAnswer(id=request.id, approved=True))
        call = of(events, "tool_call")[0]
        assert (call.server, call.tool, call.arguments) == ("code", "run_python", {"code": "print(6 * 7)"})
        result = of(events, "tool_result")[0]
        assert not result.is_error and "42" in result.summary
        assert events[-1].text == "6 × 7 = 42."

    def test_image_attachment_reaches_the_vision_tool_and_falls_back_to_ocr(
        self, llm_routing: ScriptedServer, tmp_path: Path
    ) -> None:
        image = _text_image(tmp_path / "sign.png", "HELLO SPARK")
        llm_routing.script(
            tool("describe_image", {"question": "What does the sign say?"}),
            text("It says HELLO SPARK."),
            text("The sign says HELLO SPARK (read by OCR; describing it needs the vision model)."),
        )
        events = turn("What does the sign say?", attachments=[image])
        assert [e.agent for e in of(events, "handoff")] == ["vision"]
        calls = of(events, "tool_call")
        assert calls[0].tool == "describe_image" and calls[0].arguments["path"] == str(image)
        results = {r.tool: r for r in of(events, "tool_result")}
        assert results["describe_image"].is_error and "vision" in results["describe_image"].summary
        assert "HELLO" in results["extract_text"].summary and "SPARK" in results["extract_text"].summary
        assert [c.tool for c in calls] == ["describe_image", "extract_text", "image_info"]
        assert events[-1].text.startswith("The sign says HELLO SPARK")

    def test_two_steps_in_one_turn_retrieve_then_write_code(
        self, llm_routing: ScriptedServer, warranty_doc: Path
    ) -> None:
        llm_routing.script(
            tool("transfer_to_rag", {"task": "find the warranty period"}),
            tool("search_documents", {"query": "warranty period"}),
            text("The warranty period is three years [1]."),
            tool("transfer_to_coding", {"task": "write warranty_years() returning the warranty period (3 years)"}),
            tool("generate_code", {"task": "a function warranty_years() that returns 3", "language": "python"}),
            text("```python\ndef warranty_years() -> int:\n    return 3\n```"),  # the coder model, via generate_code
            text("Here is `warranty_years()`, returning 3."),
            text("The warranty is three years [1]; `warranty_years()` returns 3."),
        )
        events = turn("Look up the warranty period in my documents, then write a Python function that returns it.")
        assert [e.agent for e in of(events, "handoff")] == ["rag", "coding"]
        assert [(c.server, c.tool) for c in of(events, "tool_call")] == [
            ("rag", "search_documents"),
            ("code", "generate_code"),
        ]
        assert "return 3" in of(events, "tool_result")[1].summary
        # The coding agent knew what the rag agent found.
        coding_request = llm_routing.chat_requests[4]
        assert any("three years" in str(m.get("content")) for m in coding_request["messages"])
        assert events[-1].citations and events[-1].text.startswith("The warranty is three years")

    def test_malformed_tool_call_is_fed_back_once(self, llm_routing: ScriptedServer, warranty_doc: Path) -> None:
        bad = Reply(tool_calls=tool("search_documents").tool_calls, fault="malformed_tool_call")
        llm_routing.script(bad, tool("search_documents", {"query": "warranty"}), text("Three years [1]."))
        events = turn("warranty period?", agent="rag")
        errors = [r for r in of(events, "tool_result") if r.is_error]
        assert len(errors) == 1 and "not valid JSON" in errors[0].summary
        retry_request = llm_routing.chat_requests[1]
        assert "not valid JSON" in retry_request["messages"][-1]["content"]
        assert events[-1].text == "Three years [1]."

    def test_malformed_tool_call_twice_gives_up_gracefully(
        self, llm_routing: ScriptedServer, warranty_doc: Path
    ) -> None:
        bad = Reply(tool_calls=tool("search_documents").tool_calls, fault="malformed_tool_call")
        llm_routing.script(bad, bad)
        events = turn("warranty period?", agent="rag")
        assert isinstance(events[-1], FinalEvent)
        assert "could not call search_documents" in events[-1].text

    @pytest.mark.parametrize("fault", ["http_500", "drop_mid_stream", "garbage"])
    def test_model_failure_ends_the_turn_clearly_and_keeps_the_thread(
        self, llm_routing: ScriptedServer, fault: str
    ) -> None:
        llm_routing.script(text("First answer."))
        first = turn("first question")[-1]
        llm_routing.script(Reply(content="partial answer that will be cut", fault=fault))  # type: ignore[arg-type]
        failed = turn("second question", thread_id=first.thread_id)
        assert isinstance(failed[-1], ErrorEvent) and "supervisor" in failed[-1].message
        llm_routing.script(text("Third answer."))
        third = turn("third question", thread_id=first.thread_id)[-1]
        assert isinstance(third, FinalEvent) and third.text == "Third answer."
        history = thread_messages(first.thread_id)
        assert history[:2] == [
            {"role": "user", "content": "first question", "agent": ""},
            {"role": "assistant", "content": "First answer.", "agent": "supervisor"},
        ]
        assert history[-1]["content"] == "Third answer."

    def test_tool_error_is_shown_to_the_model_not_a_crash(self, llm_routing: ScriptedServer) -> None:
        llm_routing.script(
            tool("query_graph", {"mode": "neighbours", "entity": "Nobody Known"}),
            text("I found no such entity in the graph."),
        )
        events = turn("who is Nobody Known connected to?", agent="kg")
        result = of(events, "tool_result")[0]
        assert result.is_error
        assert "tool" in llm_routing.chat_requests[1]["messages"][-1]["role"]
        assert events[-1].text == "I found no such entity in the graph."

    def test_a_tool_error_on_an_id_is_retried_without_it(self, llm_routing: ScriptedServer, warranty_doc: Path) -> None:
        llm_routing.script(
            tool("search_documents", {"query": "warranty period", "source_ids": ["deadbeef"]}),
            text("The warranty period is three years [1]."),
        )
        events = turn("Search source deadbeef for the warranty period", agent="rag")
        calls = of(events, "tool_call")
        assert [c.arguments.get("source_ids") for c in calls] == [["deadbeef"], None]
        assert [r.is_error for r in of(events, "tool_result")] == [True, False]
        final = events[-1]
        assert final.text.startswith("The warranty period is three years [1].")
        assert "search_documents failed with source_ids=['deadbeef']" in final.text
        assert "No source has the id 'deadbeef'" in final.text and final.citations
        # the model saw the result of the retry, not the error
        tool_message = [m for m in llm_routing.chat_requests[1]["messages"] if m["role"] == "tool"][-1]
        assert "three years" in tool_message["content"]


class TestSmallModelTurns(OneRuntime):
    """Turns of a small supervisor model (the router and forced calls) on an empty home, on one runtime."""

    ENV = {"SPARK_AGENTS_AGENT_SMALL_MODEL": "true"}

    def test_small_model_router_mode_forces_the_primary_tool(self, scripted_roles: ScriptedServer) -> None:
        scripted_roles.script(
            tool("generate_code", {"task": "reverse a string", "language": "python"}),
            text("```python\ndef reverse(s):\n    return s[::-1]\n```"),  # the coder model, via generate_code
        )
        events = turn("write a python function that reverses a string")
        assert of(events, "handoff")[0].agent == "coding"
        assert of(events, "handoff")[0].reason.startswith("router")
        first = scripted_roles.chat_requests[0]
        assert first["tool_choice"] == {"type": "function", "function": {"name": "generate_code"}}
        # A tiny model is not asked to paraphrase the tool result: the generated code is the answer.
        assert len(scripted_roles.chat_requests) == 2
        assert events[-1].text == "```python\ndef reverse(s):\n    return s[::-1]\n```"

    def test_small_model_tool_error_is_never_the_whole_answer(self, scripted_roles: ScriptedServer) -> None:
        scripted_roles.script(tool("query_graph", {"mode": "neighbours", "entity": "Nobody Known"}))
        events = turn("How are the main entities in my graph related?", agent="kg")
        assert of(events, "tool_call")[0].arguments == {"question": "How are the main entities in my graph related?"}
        assert of(events, "tool_result")[0].is_error
        final = events[-1]
        assert isinstance(final, FinalEvent)
        assert final.text.startswith("I could not complete this with query_graph: ")
        assert "Error executing tool" not in final.text
        assert "`spark-agents graph stats`" in final.text and "SPARK_AGENTS_SUPERVISOR_URL" in final.text

    def test_bad_requests_are_clear_errors(self, scripted_roles: ScriptedServer, tmp_path: Path) -> None:
        assert "empty" in turn("   ")[-1].message
        assert "Unknown agent" in turn("hi", agent="chef")[-1].message
        assert "Attachment not found" in turn("hi", attachments=[tmp_path / "nope.png"])[-1].message
        assert scripted_roles.chat_requests == []


class TestSmallModelDocumentTurns(OneRuntime):
    """Documents turns of a small supervisor model (the router and forced calls), on one runtime."""

    ENV = {"SPARK_AGENTS_AGENT_SMALL_MODEL": "true"}

    def documents(self, folder: Path) -> list[Path]:
        return [warranty_file(folder), SPARK_DOC]

    @pytest.fixture
    def warranty_doc(self, shared: Shared) -> Path:
        return shared.docs["warranty.md"]

    @pytest.fixture
    def spark_doc(self, shared: Shared) -> Path:
        return shared.docs[SPARK_DOC.name]

    def test_small_model_invented_source_id_is_dropped_not_a_failed_turn(
        self, scripted_roles: ScriptedServer, warranty_doc: Path
    ) -> None:
        question = "How long is the warranty on the Spark Widget?"
        scripted_roles.script(tool("search_documents", {"query": "widget", "source_ids": [INVENTED]}))
        events = turn(question, agent="rag")
        call = of(events, "tool_call")[0]
        assert call.arguments == {"query": question}  # the user's words, no invented id
        assert [r.is_error for r in of(events, "tool_result")] == [False]
        final = events[-1]
        assert isinstance(final, FinalEvent)
        assert final.text.startswith("From your documents:\n- [1] The Spark Widget carries a warranty period of three")
        assert INVENTED not in final.text  # what was dropped is said in the trace, with the call, not the answer
        assert INVENTED in call.note and "nothing in the conversation names it" in call.note
        assert final.citations and final.citations[0]["path"].endswith("warranty.md")

    def test_a_factual_question_the_documents_cover_goes_to_the_documents_agent(
        self, scripted_roles: ScriptedServer, spark_doc: Path
    ) -> None:
        from agents.router import SemanticRouter

        question = "Which quantization is native to Blackwell tensor cores?"
        assert (
            SemanticRouter(lambda: get_embedder(ServingSettings())).route(question).agent == "coding"
        )  # what the examples alone say
        scripted_roles.script(tool("search_documents", {"query": "quantization"}))
        events = turn(question)
        handoff = of(events, "handoff")[0]
        assert handoff.agent == "rag" and "blackwell" in handoff.reason
        assert "NVFP4 natively" in events[-1].text and events[-1].citations

        scripted_roles.script(text("Paris."))
        events = turn("What is the capital of France?")
        assert not of(events, "handoff") and events[-1].text == "Paris."
