"""Whether the user's message fits the model's context, checked before any model is called.

A 20,000-character message sent to the local model (4,096 tokens of context) failed with "the answer was
not an OpenAI-compatible stream": the server's refusal was lost and the user could not tell what to change.
When the context size is known (a llama.cpp server this project starts), the message is measured with the
model's own tokenizer (the GGUF's vocabulary alone, loaded once) and a message that cannot fit is refused
with its size and the overshoot.
"""

from __future__ import annotations

import functools
import logging
import math
from pathlib import Path
from typing import Any

from core.errors import SparkAgentsError
from serving.registry import Endpoint
from serving.settings import ServingSettings

log = logging.getLogger(__name__)

INSTRUCTIONS = 384  # tokens for the system prompt, the chat template and a tool's schema
CHARS_PER_TOKEN = 4  # English text in a BPE vocabulary, when the model's tokenizer is not at hand


class MessageTooLong(SparkAgentsError):
    """The message needs more tokens than the model's context leaves for it."""


def context_size(ep: Endpoint, serving: ServingSettings) -> int | None:
    """The context of a model server this project starts (None: an external server's is not known here)."""
    return serving.local_ctx if ep.managed == "llama-cpp" else None


@functools.lru_cache(maxsize=2)
def _vocabulary(path: str) -> Any:
    from llama_cpp import Llama

    return Llama(model_path=path, vocab_only=True, verbose=False)


def count_tokens(text: str, model_path: Path | None) -> tuple[int, bool]:
    """(tokens, exact): the model's own count when its GGUF can be read, else an estimate."""
    if model_path is not None and model_path.is_file():
        try:
            return len(_vocabulary(str(model_path)).tokenize(text.encode(), add_bos=False, special=False)), True
        except Exception:  # noqa: BLE001 - a tokenizer that will not load leaves the estimate
            log.warning("could not load the tokenizer of %s; estimating", model_path, exc_info=True)
    return math.ceil(len(text) / CHARS_PER_TOKEN), False


def check_fits(message: str, ep: Endpoint, serving: ServingSettings, answer_tokens: int) -> None:
    """Raise MessageTooLong when `message` cannot fit beside the instructions and the answer's room."""
    ctx = context_size(ep, serving)
    if ctx is None or len(message) <= ctx:  # a token is at least one character
        return
    room = max(ctx - answer_tokens - INSTRUCTIONS, 0)
    tokens, exact = count_tokens(message, serving.model_path)
    if tokens <= room:
        return
    over = tokens - room
    size = f"{tokens:,} tokens" if exact else f"about {tokens:,} tokens"
    chars = math.ceil(over * len(message) / tokens)
    raise MessageTooLong(
        f"The message is too long for the model's context: it is {size} ({len(message):,} characters), and the "
        f"{ctx:,}-token context of {ep.model} leaves {room:,} for a message after the instructions and room for "
        f"the answer. Shorten it by {over:,} tokens (about {chars:,} characters), or raise "
        "SPARK_AGENTS_LOCAL_CTX."
    )
