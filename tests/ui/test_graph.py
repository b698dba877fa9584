"""The Knowledge graph page under AppTest: build (text and documents), the embedded view, search."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("kg.build", reason="the knowledge-graph package is not installed")

from kg.settings import KGSettings
from kg.store import GraphStore  # noqa: E402

TEXT = (
    "Marie Curie was born in Warsaw. Marie Curie worked at the University of Paris. "
    "Pierre Curie married Marie Curie. Pierre Curie worked at the University of Paris."
)


def test_an_empty_graph_says_how_to_build_it(app) -> None:
    at = app("graph")
    assert "The graph is empty" in at.info[0].value
    assert at.button(key="kg_build")


def test_nothing_chosen_is_a_clear_error_and_the_graph_is_untouched(app) -> None:
    at = app("graph")
    at.button(key="kg_build").click().run()
    assert not at.exception
    assert "Choose at least one document or paste some text" in at.error[0].value
    assert not GraphStore(None, KGSettings()).exists


def test_build_from_text_then_view_and_search(app) -> None:
    at = app("graph")
    at.text_area(key="kg_text").set_value(TEXT).run()
    at.button(key="kg_build").click().run()
    assert not at.exception
    assert "facts extracted" in at.success[0].value
    graph = GraphStore(None, KGSettings()).load().graph
    assert graph.number_of_nodes() >= 3 and graph.number_of_edges() >= 2
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Entities"] == str(graph.number_of_nodes()) and metrics["Facts"] == str(graph.number_of_edges())
    frames = at.get("iframe")
    assert len(frames) == 1
    html = frames[0].proto.srcdoc
    assert "vis-network" in html or "vis.Network" in html
    assert "Marie Curie" in html
    assert not re.search(r"\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html), "the view must work offline"

    at.text_input(key="kg_entity").set_value("marie curie").run()
    assert not at.exception
    facts = at.dataframe[0].value.to_dict("records")
    assert any(f["subject"] == "Marie Curie" or f["object"] == "Marie Curie" for f in facts)

    at.text_input(key="kg_entity").set_value("Albert Einstein").run()
    assert "No entity named 'Albert Einstein'" in at.error[0].value

    at.text_input(key="kg_from").set_value("Warsaw").run()
    at.text_input(key="kg_to").set_value("Pierre Curie").run()
    assert not at.exception
    assert any(m.value.startswith("**Path 1:**") for m in at.markdown), [e.value for e in at.error]


def test_build_from_an_uploaded_document(app) -> None:
    pytest.importorskip("rag.library", reason="the document store (rag.library) is not installed")
    at = app("sources")
    at.file_uploader[0].set_value([("curie.md", f"# Curie\n\n{TEXT}\n".encode(), "text/markdown")]).run()
    at.button(key="ingest").click().run()
    at.switch_page("app_pages/graph.py").run()
    assert at.multiselect(key="kg_sources").value  # the selected documents are preselected
    at.button(key="kg_build").click().run()
    assert not at.exception
    assert "facts extracted" in at.success[0].value
    sources = {d.get("source_id") for _, _, d in GraphStore(None, KGSettings()).load().graph.edges(data=True)}
    assert sources == set(at.multiselect(key="kg_sources").value)
    at.text_input(key="kg_entity").set_value("Marie Curie").run()
    shown = {r["source"] for r in at.dataframe[0].value.to_dict("records")}
    assert shown == {"Curie"}  # the document's title, not its id
