"""Id-like tool arguments come from the user, the documents-first routing rule, and evidence rendering."""

from __future__ import annotations

from pathlib import Path

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from agents import grounding
from agents.capabilities.rag import documents_cover
from agents.mcp_pool import ToolOutcome
from agents.render import render
from agents.router import is_factual_question
from rag.passages import answering

SPEC = (Path(__file__).resolve().parents[2] / "examples" / "documents" / "dgx-spark.md").read_text()


def evidence(*texts: str) -> str:
    return grounding.evidence_text([SystemMessage("system: source 1234abcd"), *map(HumanMessage, texts)])


def test_an_invented_source_id_is_dropped_and_a_named_one_kept() -> None:
    said = evidence("search source 3f2a91c0 for the warranty")
    g = grounding.ground({"query": "warranty", "source_ids": ["3f2a91c0", "https://example.com/x"]}, said)
    assert g.args == {"query": "warranty", "source_ids": ["3f2a91c0"]}
    assert g.dropped == {"source_ids": ["https://example.com/x"]}
    assert "https://example.com/x" in g.note()


def test_the_system_prompt_and_failed_tool_results_ground_nothing() -> None:
    said = grounding.evidence_text(
        [
            SystemMessage("system: source 1234abcd"),
            HumanMessage("what does my lease say?"),
            AIMessage(content="", tool_calls=[{"name": "search_documents", "args": {}, "id": "c1"}]),
            ToolMessage("No source has the id 'deadbeef'", tool_call_id="c1", status="error"),
            ToolMessage("sources: 77aa88bb Lease", tool_call_id="c2"),
        ]
    )
    g = grounding.ground({"source_id": "deadbeef"}, said)
    assert g.args == {} and g.dropped == {"source_id": "deadbeef"}
    assert grounding.ground({"source_id": "1234abcd"}, said).dropped == {"source_id": "1234abcd"}
    assert grounding.ground({"source_id": "77AA88BB"}, said).dropped == {}  # read from list_sources


def test_an_ungrounded_entity_takes_its_mode_along_and_user_choices_are_kept() -> None:
    said = evidence("how are the main entities related?")
    g = grounding.ground({"mode": "neighbours", "entity": "Acme", "question": "q"}, said)
    assert g.args == {"question": "q"}
    selected = {"source_ids": ["not-in-the-text"]}
    assert grounding.ground({"query": "x", **selected}, said, fixed=selected).args == {"query": "x", **selected}


def test_the_retry_removes_every_id_the_model_chose_when_text_is_left_to_act_on() -> None:
    retry = grounding.retry_without_ids({"query": "x", "source_ids": ["ab12"], "k": 3, "collection": "c"})
    assert retry is not None and retry.args == {"query": "x", "k": 3}
    assert set(retry.dropped) == {"source_ids", "collection"}
    assert grounding.retry_without_ids({"query": "x"}) is None  # no id to drop
    assert grounding.retry_without_ids({"query": "x", "source_ids": ["ab12"]}, fixed={"source_ids"}) is None
    assert grounding.retry_without_ids({"mode": "neighbours", "entity": "Acme"}) is None  # nothing left to ask
    question = grounding.retry_without_ids({"mode": "neighbours", "entity": "Acme", "question": "who?"})
    assert question is not None and question.args == {"question": "who?"}


def test_a_small_models_forced_call_gets_the_users_words() -> None:
    props = {"query": {}, "k": {}}
    assert grounding.with_request({"query": "bandwidth search", "k": 2}, props, "What bandwidth?") == {
        "query": "What bandwidth?",
        "k": 2,
    }
    assert grounding.with_request({}, {"task": {}}, "reverse a string") == {"task": "reverse a string"}
    assert grounding.with_request({"task": "python_function-702918365"}, {"task": {}}, "reverse a string") == {
        "task": "reverse a string"
    }


def test_a_failure_answer_says_what_failed_and_what_to_do() -> None:
    failed = ToolOutcome(text="Error executing tool query_graph: No graph named 'x'.", is_error=True)
    answer = grounding.failure_answer("kg", "query_graph", failed, small=True)
    assert answer.startswith("I could not complete this with query_graph: No graph named 'x'.")
    assert "graph stats" in answer and "SPARK_AGENTS_SUPERVISOR_URL" in answer
    assert "SPARK_AGENTS_SUPERVISOR_URL" not in grounding.failure_answer("kg", "query_graph", failed, small=False)


def test_factual_questions_and_document_coverage() -> None:
    assert is_factual_question("Which quantization is native to Blackwell tensor cores?")
    assert is_factual_question("what does the spec say about storage")
    assert not is_factual_question("write a function that parses a CSV file")
    assert not is_factual_question("why does this fail?\n```python\nprint(x[0])\n```")
    chunks = [SPEC]
    assert documents_cover("Which quantization is native to Blackwell tensor cores?", chunks)
    assert documents_cover("What memory bandwidth does the DGX Spark have?", chunks)
    assert documents_cover("What is the capital of France?", chunks) == []
    assert documents_cover("What is 2+2?", chunks) == []  # no content word to find
    assert documents_cover("What is the capital of France?", []) == []


def test_the_answering_line_of_a_chunk_leads_the_rendered_evidence() -> None:
    question = "What memory bandwidth does the DGX Spark have?"
    assert answering([(SPEC, "DGX Spark at a glance")], question)[0] == (0, "Memory bandwidth: 273 GB/s")
    hits = {
        "query": "Which quantization is native to Blackwell tensor cores?",
        "hits": [{"text": SPEC, "title": "DGX Spark at a glance", "citation": "DGX Spark at a glance (dgx-spark.md)"}],
    }
    answer = render("search_documents", ToolOutcome(text="{}", structured=hits))
    assert answer.startswith("From your documents:\n- [1] ")
    assert "NVFP4 natively" in answer and answer.endswith("— DGX Spark at a glance (dgx-spark.md)")
