"""Code generation and error explanation with the coder role's model (any OpenAI-compatible server)."""

from __future__ import annotations

import logging
import re
from typing import Any, cast

from pydantic import BaseModel, Field

from coding.settings import CodeSettings
from core.errors import SparkAgentsError
from serving.errors import ModelServerError
from serving.registry import Endpoint, Role, endpoint

log = logging.getLogger(__name__)

MAX_TASK_CHARS = 20_000
MAX_CONTEXT_CHARS = 60_000

GENERATE_SYSTEM = (
    "You are an expert programmer. Write correct, complete, idiomatic {language} code for the task. "
    "Answer with exactly one fenced code block (```{fence}) holding the whole program or module, "
    "then at most two sentences of explanation. No placeholders, no elided code."
)
EXPLAIN_SYSTEM = (
    "You are an expert programmer helping someone fix an error. Explain in plain words what the error means, "
    "the most likely cause in their code, and how to fix it. Be brief; show a corrected snippet if it helps."
)

_ALIASES = {
    "python": {"python", "py", "python3"},
    "javascript": {"javascript", "js", "node"},
    "typescript": {"typescript", "ts"},
    "bash": {"bash", "sh", "shell", "zsh"},
    "c++": {"c++", "cpp", "cxx"},
    "c#": {"c#", "csharp", "cs"},
}
_FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)


class CodingInputError(SparkAgentsError):
    """The request to the coding tools cannot be served as given."""


class GeneratedCode(BaseModel):
    """Code the coder model wrote for a task."""

    language: str
    code: str = Field(description="the code, taken from the answer's fenced block")
    explanation: str = Field(description="the answer's text outside the code block")
    model: str


class ErrorExplanation(BaseModel):
    """The coder model's explanation of an error."""

    explanation: str
    model: str


def _fence_tag(language: str) -> str:
    lang = language.strip().lower()
    return {"c++": "cpp", "c#": "csharp"}.get(lang, lang)


def extract_code(text: str, language: str | None = None) -> tuple[str, str]:
    """(code, rest) from a model answer: the fenced block tagged with `language` (else the first fenced
    block; an unclosed fence runs to the end), or the whole answer when it has no fence."""
    blocks = list(_FENCE.finditer(text))
    if not blocks:
        return text.strip("\n"), ""
    wanted = _ALIASES.get((language or "").lower(), {(language or "").lower()})
    chosen = next((b for b in blocks if b.group(1).lower() in wanted), None)
    chosen = chosen or next((b for b in blocks if b.group(1) == ""), None) or blocks[0]
    rest = (text[: chosen.start()] + text[chosen.end() :]).strip()
    return chosen.group(2).rstrip("\n").rstrip() + "\n", rest


def coder_endpoint(settings: CodeSettings) -> Endpoint:
    """The coder role's endpoint; in the local profile the llama.cpp server is started when needed."""
    serving = settings.serving
    ep = endpoint(Role.CODER, serving)
    if ep.managed == "llama-cpp" and ep.base_url is None and settings.start_local_model:
        from serving.lifecycle import ready

        log.info("starting the local model server for the coder role")
        ep = ready(Role.CODER, serving)  # admitted first, the coder's own server when it has one
    return ep


def _complete(messages: list[dict[str, str]], settings: CodeSettings) -> tuple[str, str]:
    from serving.client import openai_client, translate

    ep = coder_endpoint(settings)
    client = openai_client(ep)
    try:
        response = client.chat.completions.create(
            model=ep.model,
            messages=cast(Any, messages),
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
        )
        content = response.choices[0].message.content
    except Exception as e:  # noqa: BLE001 - re-raised as a project error
        raise translate(ep, e) from e
    if not content or not content.strip():
        raise ModelServerError(ep.role, ep.base_url, "the model returned an empty answer")
    return content, ep.model


def _check(name: str, value: str, limit: int) -> str:
    if not value or not value.strip():
        raise CodingInputError(f"The {name} is empty: say what the code should do.")
    if len(value) > limit:
        raise CodingInputError(f"The {name} is {len(value)} characters, over the {limit} limit: shorten it.")
    return value


def generate_code(language: str, task: str, context: str | None = None, *, settings: CodeSettings) -> GeneratedCode:
    """Ask the coder model for `language` code that does `task` (optionally given `context`, e.g. existing
    code or an error to fix) and return the code block of its answer."""
    language = (language or "python").strip()
    if not re.fullmatch(r"[\w+#. -]{1,40}", language):
        raise CodingInputError(f"Unknown language name {language!r}: use e.g. 'python'.")
    _check("task", task, MAX_TASK_CHARS)
    if context and len(context) > MAX_CONTEXT_CHARS:
        raise CodingInputError(f"The context is {len(context)} characters, over the {MAX_CONTEXT_CHARS} limit.")
    user = f"Task: {task.strip()}"
    if context and context.strip():
        user += f"\n\nContext:\n{context.strip()}"
    messages = [
        {"role": "system", "content": GENERATE_SYSTEM.format(language=language, fence=_fence_tag(language))},
        {"role": "user", "content": user},
    ]
    answer, model = _complete(messages, settings)
    code, rest = extract_code(answer, language)
    return GeneratedCode(language=language, code=code, explanation=rest, model=model)


def explain_error(
    error: str, code: str | None = None, language: str = "python", *, settings: CodeSettings
) -> ErrorExplanation:
    """Ask the coder model what `error` (a traceback or message) means for `code` and how to fix it."""
    _check("error text", error, MAX_CONTEXT_CHARS)
    user = f"Language: {language}\n\nError:\n{error.strip()[-8000:]}"
    if code and code.strip():
        user += f"\n\nCode:\n```{_fence_tag(language)}\n{code.strip()[:MAX_CONTEXT_CHARS]}\n```"
    messages = [{"role": "system", "content": EXPLAIN_SYSTEM}, {"role": "user", "content": user}]
    answer, model = _complete(messages, settings)
    return ErrorExplanation(explanation=answer.strip(), model=model)
