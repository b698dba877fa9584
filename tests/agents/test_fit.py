"""A message too long for the model's context is refused before any model is called, saying by how much."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.fit import INSTRUCTIONS, MessageTooLong, check_fits
from core.wire import ErrorEvent
from serving.registry import Endpoint, Role
from serving.settings import ServingSettings
from tests.support.turns import run_turn

LONG = "The quick brown fox jumps over the lazy dog. " * 450  # 20,250 characters


def local() -> tuple[Endpoint, ServingSettings]:
    serving = ServingSettings()
    return Endpoint(role=Role.SUPERVISOR, base_url=None, model="smollm2", managed="llama-cpp"), serving


def test_the_refusal_counts_with_the_models_own_tokenizer() -> None:
    from llama_cpp import Llama

    ep, serving = local()
    with pytest.raises(MessageTooLong) as refused:
        check_fits(LONG, ep, serving, answer_tokens=1024)
    assert serving.model_path is not None
    vocabulary = Llama(model_path=str(serving.model_path), vocab_only=True, verbose=False)
    tokens = len(vocabulary.tokenize(LONG.encode(), add_bos=False))
    room = serving.local_ctx - 1024 - INSTRUCTIONS
    message = str(refused.value)
    assert f"it is {tokens:,} tokens ({len(LONG):,} characters)" in message
    assert f"leaves {room:,} for a message" in message and f"Shorten it by {tokens - room:,} tokens" in message
    assert f"{serving.local_ctx:,}-token context" in message and "SPARK_AGENTS_LOCAL_CTX" in message


def test_a_message_that_fits_and_an_external_server_pass() -> None:
    ep, serving = local()
    check_fits("What memory bandwidth does the DGX Spark have?", ep, serving, answer_tokens=1024)
    check_fits(LONG[: serving.local_ctx], ep, serving, answer_tokens=0)  # short enough to skip the tokenizer
    external = ep.model_copy(update={"managed": "external", "base_url": "http://127.0.0.1:1/v1"})
    check_fits(LONG * 10, external, serving, answer_tokens=1024)  # its context is not known here


def test_a_turn_with_a_too_long_message_fails_before_any_model_starts(spark_home: Path) -> None:
    events = list(run_turn(LONG))
    assert isinstance(events[-1], ErrorEvent), events[-1]
    assert "too long for the model's context" in events[-1].message
    assert not (spark_home / "run" / "llama-server.json").exists()  # no model server was started for it
