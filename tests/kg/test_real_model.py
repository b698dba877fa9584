"""The LLM extractor against the real local model (llama.cpp + the packaged SmolLM2-135M).

A 135M model's facts are poor; what this checks is the contract: llama.cpp honours the JSON schema, so the
answer is either schema-valid triples or (when the model rambles to max_tokens) a clear "cut off" error.
Never malformed JSON, and never a half-written graph.
"""

from __future__ import annotations

import pytest

from kg.build import build_graph, text_chunks
from kg.errors import ExtractionError
from kg.settings import KGSettings
from kg.store import GraphStore

pytestmark = pytest.mark.real_model


def test_local_model_answers_within_the_schema(monkeypatch):
    from serving.llama_server import LocalModelServer
    from serving.settings import ServingSettings

    settings = ServingSettings()
    if settings.model_path is None or not settings.model_path.exists():
        pytest.skip("no local GGUF model installed")
    monkeypatch.setenv("SPARK_AGENTS_KG_LLM_MAX_TOKENS", "512")
    try:
        try:
            report = build_graph(
                text_chunks("Marie Curie was born in Warsaw.", settings=KGSettings()),
                extractor="llm",
                settings=KGSettings(),
            )
        except ExtractionError as e:
            assert "cut off" in str(e), f"schema not honoured: {e}"
            assert not GraphStore(None, KGSettings()).path.exists()
            return
        kg = GraphStore(None, KGSettings()).load()
        assert kg.graph.number_of_edges() == report.edges_added <= report.triples
        for u, v, d in kg.graph.edges(data=True):
            assert u.strip() and v.strip() and d["relation"].strip() and d["extractor"] == "llm"
    finally:
        LocalModelServer(settings).stop()
