"""Offline (rule-based) and LLM (JSON-schema constrained, scripted server) triple extraction."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.errors import ExtractionError
from kg.extract import LLMExtractor, OfflineExtractor
from kg.model import Chunk
from kg.settings import KGSettings
from kg.text import split_text
from tests.kg.conftest import CORPUS
from tests.support.scripted_server import Reply, text


def _facts(triples):
    return {(t.subject, t.relation, t.object) for t in triples}


def test_offline_extracts_encyclopaedic_facts_with_provenance():
    chunk = Chunk(text=CORPUS, source_id="doc", chunk_id="doc#0")
    triples = OfflineExtractor(KGSettings()).extract(chunk)
    facts = _facts(triples)
    assert ("Marie Curie", "born in", "Warsaw") in facts
    assert ("Marie Curie", "studied at", "University of Paris") in facts  # pronoun "She" resolved
    assert ("Marie Curie", "married", "Pierre Curie") in facts  # coordinated verb keeps the subject
    assert ("Paris", "capital of", "France") in facts  # appositive
    assert ("Python", "created by", "Guido van Rossum") in facts
    assert ("Acme Corp", "acquired", "Widget Inc") in facts
    assert ("Alan Turing", "died in", "Wilmslow") in facts
    for t in triples:
        assert t.source_id == "doc" and t.chunk_id == "doc#0"
        a, b = t.span
        assert CORPUS[a:b].strip() == t.evidence
        assert t.subject.split()[0] in t.evidence or t.evidence.startswith(("She", "He"))
    types = {t.subject: t.subject_type for t in triples} | {t.object: t.object_type for t in triples}
    assert types["Warsaw"] == "PLACE" and types["University of Paris"] == "ORG"
    assert types["Guido van Rossum"] == "PERSON"


def test_offline_coordination_initials_and_common_noun_objects():
    text = (
        "Microsoft was founded by Bill Gates and Paul Allen. The Danube passes through Vienna, Budapest and "
        "Belgrade. J. R. R. Tolkien wrote The Hobbit. Isaac Newton was born in Woolsthorpe. "
        "Newton formulated the laws of motion. Sergey Brin and Larry Page founded Google."
    )
    facts = _facts(OfflineExtractor(KGSettings()).extract(Chunk(text=text, source_id="s", chunk_id="s#0")))
    assert {("Microsoft", "founded by", "Bill Gates"), ("Microsoft", "founded by", "Paul Allen")} <= facts
    assert {("Danube", "passes through", c) for c in ("Vienna", "Budapest", "Belgrade")} <= facts
    assert ("J. R. R. Tolkien", "wrote", "Hobbit") in facts
    assert ("Isaac Newton", "formulated", "laws of motion") in facts  # surname resolved within the chunk
    assert {("Sergey Brin", "founded", "Google"), ("Larry Page", "founded", "Google")} <= facts


def test_offline_ignores_text_without_facts():
    chunk = Chunk(text="it was a dark and stormy night; nothing happened at all.", source_id="s", chunk_id="s#0")
    assert OfflineExtractor(KGSettings()).extract(chunk) == []


def test_split_text_keeps_sentences_whole_and_offsets_true():
    text = " ".join(f"Sentence number {i} mentions Paris." for i in range(100))
    chunks = split_text(text, 300)
    assert len(chunks) > 5
    for offset, chunk in chunks:
        assert text[offset : offset + len(chunk)] == chunk
        assert len(chunk) <= 300 and chunk.rstrip().endswith(".")


ANSWER = {
    "triples": [
        {
            "subject": "Marie Curie",
            "subject_type": "PERSON",
            "relation": "Born In",
            "object": "Warsaw",
            "object_type": "PLACE",
        },
        {
            "subject": "Marie Curie",
            "subject_type": "PERSON",
            "relation": "married",
            "object": "Pierre Curie",
            "object_type": "PERSON",
        },
    ]
}


def test_llm_extractor_uses_json_schema_and_parses(scripted_roles):
    scripted_roles.script(text(json.dumps(ANSWER)))
    chunk = Chunk(text="Marie Curie was born in Warsaw. She married Pierre Curie.", source_id="s", chunk_id="s#0")
    triples = LLMExtractor(KGSettings()).extract(chunk)
    assert _facts(triples) == {("Marie Curie", "born in", "Warsaw"), ("Marie Curie", "married", "Pierre Curie")}
    assert triples[0].span == (0, 31) and triples[0].evidence == "Marie Curie was born in Warsaw."
    assert all(t.extractor == "llm" for t in triples)
    req = scripted_roles.chat_requests[0]
    fmt = req["response_format"]
    assert fmt["type"] == "json_schema"
    schema = fmt["json_schema"]["schema"]
    assert schema["required"] == ["triples"]
    item = schema["properties"]["triples"]["items"]
    assert item["properties"]["subject"]["minLength"] == 1 and "maxLength" in item["properties"]["subject"]
    assert req["model"] == "scripted-model" and chunk.text in req["messages"][-1]["content"]


def test_llm_triples_naming_absent_entities_are_dropped(scripted_roles, monkeypatch):
    answer = {"triples": [*ANSWER["triples"], {**ANSWER["triples"][0], "object": "Marijona Curia"}]}
    chunk = Chunk(text="Marie  CURIE was born in Warsaw. She married Pierre Curie.", source_id="s", chunk_id="s#0")
    scripted_roles.script(text(json.dumps(answer)))
    assert len(LLMExtractor(KGSettings()).extract(chunk)) == 2  # case and spacing do not matter; the invented name does
    monkeypatch.setenv("SPARK_AGENTS_KG_LLM_GROUNDED_ONLY", "false")
    scripted_roles.script(text(json.dumps(answer)))
    assert len(LLMExtractor(KGSettings()).extract(chunk)) == 3


def test_llm_falls_back_to_json_object_schema_and_remembers(scripted_roles):
    """llama-cpp-python's server (the local profile) answers a json_schema response_format with HTTP 500
    (request validation); the same schema as {"type": "json_object", "schema": ...} is accepted."""

    def server(request):
        if request["response_format"]["type"] == "json_schema":
            return Reply(fault="http_500")
        assert request["response_format"]["schema"]["required"] == ["triples"]
        return text(json.dumps(ANSWER))

    scripted_roles.handler = server
    chunk = Chunk(text="Marie Curie was born in Warsaw. She married Pierre Curie.", source_id="s", chunk_id="s#0")
    assert len(LLMExtractor(KGSettings()).extract(chunk)) == 2
    assert len(LLMExtractor(KGSettings()).extract(chunk)) == 2
    formats = [r["response_format"]["type"] for r in scripted_roles.chat_requests]
    assert formats == ["json_schema", "json_object", "json_object"]  # learned once per endpoint


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ('{"triples": [{"subject": "Marie Curie", "relation": "born', "malformed JSON"),
        ("Sure! Here are the triples: Marie Curie born in Warsaw", "malformed JSON"),
        ('{"triples": [{"subject": "A", "relation": "r"}]}', "does not match the triple schema"),
        ('{"facts": []}', "no 'triples' list"),
        ("", "empty answer"),
        ('{"triples": [{"subject": "", "relation": "r", "object": "B"}]}', "empty subject"),
        (json.dumps({"triples": [{"subject": "A" * 5000, "relation": "r", "object": "B"}]}), "5000 characters"),
    ],
)
def test_llm_bad_answers_are_clear_errors_without_fallback(scripted_roles, reply, message, monkeypatch):
    monkeypatch.setenv("SPARK_AGENTS_KG_LLM_FALLBACK", "false")
    scripted_roles.script(Reply(content=reply))
    chunk = Chunk(text="A r B.", source_id="s", chunk_id="s#0")
    with pytest.raises(ExtractionError, match=message) as err:
        LLMExtractor(KGSettings()).extract(chunk)
    assert "nothing was stored" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(content='{"triples": [{"subject": "Orbit Z2", "relation": "weig'),
        Reply(content="Sure! The Orbit Z2 weighs 1.2 kg."),
        Reply(content='{"facts": []}'),
        Reply(content='{"triples": [{"subject": "", "relation": "r", "object": "B"}]}'),
    ],
)
def test_unusable_model_json_falls_back_to_the_offline_extractor_for_that_chunk(scripted_roles, reply):
    table = "## Orbit Z2\n\n| Property | Value |\n|---|---|\n| Weight | 1.2 kg |\n\nOrbit Z2 was designed by Acme Corp."
    chunk = Chunk(text=table, source_id="s", chunk_id="s#3")
    scripted_roles.script(reply)
    ex = LLMExtractor(KGSettings())
    triples = ex.extract(chunk)
    assert _facts(triples) == _facts(OfflineExtractor(KGSettings()).extract(chunk))
    assert ("Orbit Z2", "weight", "1.2 kg") in _facts(triples) and all(t.extractor == "offline" for t in triples)
    assert [f.chunk_id for f in ex.fallbacks] == ["s#3"] and "nothing was stored" in ex.fallbacks[0].reason


def test_llm_sees_the_section_and_a_continued_tables_header(scripted_roles):
    scripted_roles.script(text(json.dumps({"triples": []})))
    chunk = Chunk(
        text="| Board 7 | 70 W |",
        source_id="s",
        chunk_id="s#1",
        heading="Fleet > Boards",
        table_header=["Board", "Power"],
    )
    ex = LLMExtractor(KGSettings())
    assert ex.extract(chunk) == [] and ex.fallbacks == []
    user = scripted_roles.chat_requests[0]["messages"][-1]["content"]
    assert "Section: Fleet > Boards" in user and "Board | Power" in user and chunk.text in user


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=400)
    | st.from_regex(
        r"([A-Z][a-z]+ ){1,3}(was born in|acquired|, the capital of|and) ([A-Z][a-z]+ ?){1,3}[.,]? ?", fullmatch=True
    )
)
def test_offline_never_crashes_and_spans_are_true(text_):
    chunk = Chunk(text=text_, source_id="s", chunk_id="s#0")
    for t in OfflineExtractor(KGSettings()).extract(chunk):
        a, b = t.span
        assert 0 <= a <= b <= len(text_) and text_[a:b].strip()[:300] == t.evidence
        assert t.subject.strip() and t.relation.strip() and t.object.strip()
        assert max(len(t.subject), len(t.relation), len(t.object)) <= 120
