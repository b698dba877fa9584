"""Bad input end to end: the build fails with a clear error and the stored graph is byte-for-byte intact."""

from __future__ import annotations

import json

import pytest

from kg.build import build_graph, text_chunks
from kg.errors import ExtractionError
from kg.settings import KGSettings
from serving.errors import ModelServerError, ModelServerUnavailable
from tests.support.scripted_server import Reply, text

GOOD = {
    "triples": [
        {
            "subject": "Ada Lovelace",
            "subject_type": "PERSON",
            "relation": "worked with",
            "object": "Charles Babbage",
            "object_type": "PERSON",
        }
    ]
}
TWO_CHUNKS = "Ada Lovelace worked with Charles Babbage. " * 30 + "\n\n" + "Charles Babbage lived in London. " * 30


def test_llm_build_merges_model_triples(scripted_roles, built):
    scripted_roles.script(text(json.dumps(GOOD)))
    report = build_graph(
        text_chunks("Ada Lovelace worked with Charles Babbage.", settings=KGSettings()),
        extractor="llm",
        settings=KGSettings(),
    )
    assert report.edges_added == 1
    kg = built.load()
    (d,) = kg.graph.get_edge_data("Ada Lovelace", "Charles Babbage").values()
    assert d["extractor"] == "llm" and d["evidence"] == "Ada Lovelace worked with Charles Babbage."


@pytest.mark.parametrize(
    "second",
    [
        Reply(content='{"triples": [{"subject": "Charles Babbage", "relation": "lived in", "obj'),  # partial JSON
        Reply(content="<not json at all>"),
        Reply(content=json.dumps({"triples": [{"subject": "X" * 1000, "relation": "r", "object": "London"}]})),
    ],
)
def test_second_chunk_bad_json_stores_nothing_without_fallback(scripted_roles, built, second, monkeypatch):
    monkeypatch.setenv("SPARK_AGENTS_KG_LLM_FALLBACK", "false")
    chunks = text_chunks(TWO_CHUNKS, settings=KGSettings())
    assert len(chunks) >= 2
    before = built.path.read_bytes()
    scripted_roles.script(text(json.dumps(GOOD)), second)
    with pytest.raises(ExtractionError, match="nothing was stored"):
        build_graph(chunks, extractor="llm", settings=KGSettings())
    assert built.path.read_bytes() == before  # the first chunk's good triples were not stored either


def test_a_chunk_with_bad_json_falls_back_and_the_build_reports_it(scripted_roles, built, monkeypatch):
    monkeypatch.setenv("SPARK_AGENTS_KG_LLM_CONCURRENCY", "1")  # scripted replies go to the chunks in order
    chunks = text_chunks(TWO_CHUNKS, settings=KGSettings())
    scripted_roles.script(text(json.dumps(GOOD)), Reply(content="<not json at all>"))
    report = build_graph(chunks, extractor="llm", settings=KGSettings())
    assert report.fallback_chunks == [chunks[1].chunk_id]
    g = built.load().graph
    assert g.has_edge("Ada Lovelace", "Charles Babbage")  # the model's triple from the first chunk
    offline = [d for u, v, d in g.edges(data=True) if d["chunk_id"] == chunks[1].chunk_id]
    assert offline and all(d["extractor"] == "offline" for d in offline)  # the rules' triples from the second


def test_model_server_failures_are_project_errors(scripted_roles, built):
    before = built.path.read_bytes()
    scripted_roles.script(Reply(fault="http_500"), Reply(fault="http_500"))
    with pytest.raises(ModelServerError, match="HTTP 500"):
        build_graph(
            text_chunks("Ada Lovelace worked with Charles Babbage.", settings=KGSettings()),
            extractor="llm",
            settings=KGSettings(),
        )
    assert built.path.read_bytes() == before
    # A first failure may mean "unknown response_format": the other spelling was tried once.
    formats = [r["response_format"]["type"] for r in scripted_roles.chat_requests]
    assert formats == ["json_schema", "json_object"]


def test_llm_without_a_server_is_unavailable(built, monkeypatch):
    monkeypatch.setenv("SPARK_AGENTS_SUPERVISOR_URL", "http://127.0.0.1:9/v1")
    before = built.path.read_bytes()
    with pytest.raises(ModelServerUnavailable):
        build_graph(
            text_chunks("Ada Lovelace worked with Charles Babbage.", settings=KGSettings()),
            extractor="llm",
            settings=KGSettings(),
        )
    assert built.path.read_bytes() == before


def test_one_megabyte_of_text(built, monkeypatch):
    sentence = "Ada Lovelace worked with Charles Babbage in London. "
    mb = (sentence * (2**20 // len(sentence) + 1))[: 2**20]
    chunks = text_chunks(mb, settings=KGSettings())
    assert len(chunks) > 500 and sum(len(c.text) for c in chunks) <= 2**20
    # The LLM extractor refuses a job of hundreds of model calls up front, graph untouched.
    before = built.path.read_bytes()
    with pytest.raises(ExtractionError, match="one model call each"):
        build_graph(chunks, extractor="llm", settings=KGSettings())
    assert built.path.read_bytes() == before
    # The offline extractor handles it; the same fact seen in every chunk stays one pair of entities.
    report = build_graph(chunks, extractor="offline", settings=KGSettings())
    kg = built.load()
    assert report.chunks == len(chunks) and kg.graph.number_of_edges("Ada Lovelace", "Charles Babbage") > 500
    assert report.nodes_added == 2 and report.triples == len(chunks)  # one fact per chunk
    # Above the configured limit the text is refused with the setting to change.
    monkeypatch.setenv("SPARK_AGENTS_KG_MAX_TEXT_CHARS", "1000000")
    with pytest.raises(ExtractionError, match="SPARK_AGENTS_KG_MAX_TEXT_CHARS"):
        text_chunks(mb, settings=KGSettings())


def test_empty_text_is_refused():
    with pytest.raises(ExtractionError, match="empty"):
        text_chunks("   \n ", settings=KGSettings())


def test_llm_chunks_run_concurrently(scripted_roles, built, monkeypatch):
    monkeypatch.setenv("SPARK_AGENTS_KG_LLM_CONCURRENCY", "4")

    def answer(request):  # the reply names the chunk it was asked about
        chunk = request["messages"][-1]["content"].split("Text:\n", 1)[1]
        name = chunk.split(" worked")[0].strip()
        return text(
            json.dumps(
                {
                    "triples": [
                        {
                            "subject": name,
                            "subject_type": "PERSON",
                            "relation": "worked with",
                            "object": "Charles Babbage",
                            "object_type": "PERSON",
                        }
                    ]
                }
            )
        )

    scripted_roles.handler = answer
    names = [f"Person Number{i}" for i in range(6)]
    chunks = text_chunks("\n\n".join(f"{n} worked with Charles Babbage. " * 40 for n in names), settings=KGSettings())
    assert len(chunks) >= 6
    report = build_graph(chunks, extractor="llm", settings=KGSettings())
    assert report.triples == len(chunks) and len(scripted_roles.chat_requests) == len(chunks)
    kg = built.load()
    for n in names:
        assert kg.graph.has_edge(n, "Charles Babbage")
