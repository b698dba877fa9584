"""A small model's forced tool is the one the request asks for, filled from the user's words.

The chooser's scores come from the real local embedding model; the turns run the scripted model (which
writes the junk arguments SmolLM2 writes) against the real code sandbox and document store, so "it ran"
and "it was deleted" are checked against real side effects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from mcp.types import Tool

from agents.intent import ToolChooser, code_in, settle, source_id_in, source_named, words_fill
from core.wire import ApprovalAnswer, FinalEvent
from rag.settings import RagSettings
from serving.embeddings import get_embedder
from serving.settings import ServingSettings
from tests.support.scripted_server import ScriptedServer, tool
from tests.support.turns import run_turn


def turn(message: str, **kwargs: Any) -> list[Any]:
    return list(run_turn(message, **kwargs))


def of(events: list[Any], kind: str) -> list[Any]:
    return [e for e in events if e.type == kind]


def schema_tool(name: str, props: dict[str, Any], required: list[str]) -> Tool:
    return Tool(name=name, inputSchema={"type": "object", "properties": props, "required": required})


RUN = schema_tool("run_python", {"code": {"type": "string"}, "stdin": {"type": "string"}}, ["code"])
DELETE = schema_tool("delete_source", {"source_id": {"type": "string"}}, ["source_id"])
GENERATE = schema_tool("generate_code", {"task": {"type": "string"}, "language": {"type": "string"}}, ["task"])
SEARCH = schema_tool("search_documents", {"query": {"type": "string"}}, ["query"])
LIST = schema_tool("list_sources", {}, [])


@pytest.mark.parametrize(
    ("request_text", "code"),
    [
        ("Run print(6 * 7)", "print(6 * 7)"),
        ("What does print(6 * 7) print? Run it.", "print(6 * 7)"),
        ("please execute this python: x = 2", "x = 2"),
        ("Run `print('hi')` for me", "print('hi')"),
        ("Execute this:\n```python\nx = 3\nprint(x * 2)\n```", "x = 3\nprint(x * 2)"),
        ("Run the tests again", None),
        ("write a function that adds two numbers", None),
    ],
)
def test_the_code_to_run_is_taken_from_the_message(request_text: str, code: str | None) -> None:
    assert code_in(request_text) == code


def test_run_it_runs_the_code_the_assistant_just_wrote() -> None:
    history = [HumanMessage("write hello world"), AIMessage("Here:\n```python\nprint('hello')\n```\nDone.")]
    assert words_fill(RUN, "run it", history) == {"code": "print('hello')"}
    assert words_fill(RUN, "thanks", history) == {}


def test_beside_an_error_the_code_is_what_raised_it_not_what_to_run() -> None:
    explain = schema_tool("explain_error", {"error": {"type": "string"}, "code": {"type": "string"}}, ["error"])
    request = "Run `print(x)` gave NameError: name 'x' is not defined"
    assert words_fill(explain, request) == {"error": request}
    assert words_fill(RUN, request) == {"code": "print(x)"}


def test_a_source_id_is_a_hex_word_with_a_digit() -> None:
    assert source_id_in("Delete the source 3F2A9C1B7E4D5A60 from my documents.") == "3f2a9c1b7e4d5a60"
    assert source_id_in("delete the decade-old added notes") is None  # hex-looking words without a digit
    assert source_id_in("remove the garden notes") is None


def test_settle_puts_the_users_words_over_the_models_and_drops_invented_ids() -> None:
    user = "Run print(6 * 7)"
    settled = settle(RUN, {"code": "<?php echo 420; ?>"}, user, [HumanMessage(user)], {})
    assert settled.args == {"code": "print(6 * 7)"} and not settled.missing
    user = "Delete the source 3f2a9c1b7e4d5a60 from my documents."
    settled = settle(DELETE, {"source_id": "https://example.com/doc"}, user, [HumanMessage(user)], {})
    assert settled.args == {"source_id": "3f2a9c1b7e4d5a60"} and not settled.notes
    user = "Delete the garden notes"
    settled = settle(DELETE, {"source_id": "my_document"}, user, [HumanMessage(user)], {})
    assert settled.args == {} and settled.missing == ["source_id"]
    assert "my_document" in settled.notes[0]
    settled = settle(GENERATE, {"task": "python_function-702918365"}, "reverse a string", [], {})
    assert settled.args == {"task": "reverse a string"}


def test_settle_keeps_only_the_optional_arguments_the_conversation_names() -> None:
    user = "Run print(6 * 7)"
    junk = {"code": "x", "stdin": "test.csv", "timeout_s": 5}
    assert settle(RUN, junk, user, [HumanMessage(user)], {}).args == {"code": "print(6 * 7)", "timeout_s": 5}
    user = "write a rust function that reverses a string"
    asked = [HumanMessage(user)]
    assert settle(GENERATE, {"task": "t", "language": "php"}, user, asked, {}).args == {"task": user}
    assert settle(GENERATE, {"task": "t", "language": "Rust"}, user, asked, {}).args == {
        "task": user,
        "language": "Rust",
    }


@pytest.fixture(scope="module")
def chooser() -> ToolChooser:
    return ToolChooser(lambda: get_embedder(ServingSettings()))


@pytest.mark.parametrize(
    ("agent", "request_text", "expected"),
    [
        ("coding", "Run print(6 * 7)", "run_python"),
        ("coding", "What does print(6 * 7) print? Run it.", "run_python"),
        ("coding", "write a python function that reverses a string", "generate_code"),
        ("coding", "Please use the run_python tool", "run_python"),  # named: no similarity needed
        ("rag", "Delete the source 3f2a9c1b7e4d5a60 from my documents.", "delete_source"),
        ("rag", "What memory bandwidth does the DGX Spark have?", "search_documents"),
        ("rag", "Summarise the main points of my documents, with citations.", "search_documents"),
        ("rag", "which documents have I ingested?", "list_sources"),
    ],
)
def test_the_forced_tool_is_the_one_the_request_asks_for(
    chooser: ToolChooser, agent: str, request_text: str, expected: str
) -> None:
    tools = [RUN, GENERATE] if agent == "coding" else [SEARCH, DELETE, LIST]
    primary = "generate_code" if agent == "coding" else "search_documents"
    chosen = chooser.choose(agent, tools, primary, request_text)
    assert chosen is not None and chosen.tool == expected, chosen


def test_a_tool_the_server_does_not_offer_is_never_chosen(chooser: ToolChooser) -> None:
    chosen = chooser.choose("coding", [GENERATE], "generate_code", "Run print(6 * 7)")
    assert chosen is not None and chosen.tool == "generate_code"


# --- whole turns: the scripted model writes junk arguments, as SmolLM2 does --------------------------


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch, scripted_roles: ScriptedServer) -> ScriptedServer:
    monkeypatch.setenv("SPARK_AGENTS_AGENT_SMALL_MODEL", "true")
    return scripted_roles


def test_run_print_runs_the_users_code_after_approval(small: ScriptedServer) -> None:
    small.script(tool("run_python", {"code": "<?php echo 'Output: 420'; ?>"}))
    paused = turn("Run print(6 * 7)")
    assert of(paused, "handoff")[0].agent == "coding"
    assert small.chat_requests[0]["tool_choice"] == {"type": "function", "function": {"name": "run_python"}}
    final = paused[-1]
    assert isinstance(final, FinalEvent) and final.approval is not None, paused
    assert (final.approval.tool, final.approval.arguments) == ("run_python", {"code": "print(6 * 7)"})
    assert not of(paused, "tool_call")  # nothing ran before the answer

    resumed = turn("", approval=ApprovalAnswer(id=final.approval.id, approved=True))
    assert [(c.tool, c.arguments) for c in of(resumed, "tool_call")] == [("run_python", {"code": "print(6 * 7)"})]
    assert resumed[-1].text == "Output:\n```\n42\n```"
    assert len(small.chat_requests) == 1  # the tiny model is not asked to paraphrase the output


def test_delete_the_source_by_id_deletes_it_after_approval(small: ScriptedServer, warranty_doc: Path) -> None:
    from rag.library import Library

    with Library(RagSettings(), ServingSettings()) as library:
        (source,) = library.sources()
    small.script(tool("delete_source", {"source_id": "https://www.amazon.com/dp/v1/smash-2075386945"}))
    paused = turn(f"Delete the source {source.id} from my documents.")
    assert of(paused, "handoff")[0].agent == "rag"
    final = paused[-1]
    assert isinstance(final, FinalEvent) and final.approval is not None, paused
    assert (final.approval.tool, final.approval.arguments) == ("delete_source", {"source_id": source.id})

    resumed = turn("", approval=ApprovalAnswer(id=final.approval.id, approved=True))
    assert not of(resumed, "tool_result")[0].is_error
    assert resumed[-1].text.startswith("Deleted Warranty") and source.id in resumed[-1].text
    from tests.support.turns import reset_runtime

    reset_runtime()  # the rag server holds the store: closed, so the library can open it here
    with Library(RagSettings(), ServingSettings()) as library:
        assert library.sources() == []


def test_a_source_is_named_by_its_title_or_file_name_once() -> None:
    sources = [
        {"id": "aaaa1111bbbb2222", "title": "Garden notes", "path": "/x/uploads/garden.md"},
        {"id": "cccc3333dddd4444", "title": "Warranty", "path": "/x/warranty.md"},
    ]
    assert source_named("Delete the garden  notes, please", sources) == "aaaa1111bbbb2222"
    assert source_named("remove warranty.md from my library", sources) == "cccc3333dddd4444"
    assert source_named("remove the warranty and the garden notes", sources) is None  # which one?
    assert source_named("delete that document", sources) is None


def test_delete_the_source_by_title_asks_with_its_id(small: ScriptedServer, warranty_doc: Path) -> None:
    from rag.library import Library

    with Library(RagSettings(), ServingSettings()) as library:
        (source,) = library.sources()
    small.script(tool("delete_source", {"source_id": "my_document"}))
    paused = turn("Delete the warranty document from my library.", agent="rag")
    final = paused[-1]
    assert isinstance(final, FinalEvent) and final.approval is not None, paused
    assert (final.approval.tool, final.approval.arguments) == ("delete_source", {"source_id": source.id})
    assert [c.tool for c in of(paused, "tool_call")] == ["list_sources"]  # the lookup, in the trace
    resumed = turn("", approval=ApprovalAnswer(id=final.approval.id, approved=True))
    assert [(c.tool, c.arguments) for c in of(resumed, "tool_call")][-1] == ("delete_source", {"source_id": source.id})
    assert resumed[-1].text.startswith("Deleted Warranty")


def test_delete_without_a_named_source_asks_nothing_and_deletes_nothing(
    small: ScriptedServer, warranty_doc: Path
) -> None:
    small.script(tool("delete_source", {"source_id": "my_document"}))
    events = turn("Delete that document from my library, please.", agent="rag")
    final = events[-1]
    assert isinstance(final, FinalEvent) and final.approval is None, events
    assert [c.tool for c in of(events, "tool_call")] == ["list_sources"] and not of(events, "approval")
    assert final.text.startswith("I could not complete this with delete_source: it needs source_id")
    assert "`spark-agents sources list`" in final.text
    from rag.library import Library
    from tests.support.turns import reset_runtime

    reset_runtime()
    with Library(RagSettings(), ServingSettings()) as library:
        assert len(library.sources()) == 1
