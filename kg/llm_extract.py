"""Triples from the supervisor model, constrained by a JSON schema.

The answer format is OpenAI's `response_format` `json_schema` (llama.cpp, vLLM and TensorRT-LLM honour it;
llama-cpp-python's server takes the `json_object` spelling). The model sees the chunk's section path and, for a
table continued from the previous chunk, its column header — the context the offline extractor reads too.
A malformed, cut-off or out-of-schema answer makes `parse` raise `ExtractionError`; `extract` then falls back
to the offline extractor for that chunk and records it in `fallbacks` (SPARK_AGENTS_KG_LLM_FALLBACK=false:
the error propagates and callers store nothing). A model server that fails is never papered over.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from kg.errors import ExtractionError, InvalidTriple
from kg.merge import clean_surface
from kg.model import ENTITY_TYPES, Chunk, Triple, check_triple
from kg.offline import OfflineExtractor
from kg.settings import KGSettings
from kg.text import sentences

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You extract a knowledge graph from text. Return every factual relation stated in the text as a triple: "
    "subject and object are short entity names exactly as written in the text (no pronouns), relation is a "
    "short lowercase verb phrase (e.g. 'born in', 'founded', 'capital of'). Give each entity a type from: "
    + ", ".join(ENTITY_TYPES)
    + ". Tables: a row's first cell is its subject, the column header is the relation and the cell the object; a "
    "two-column key/value table, a 'Key: value' list or a definition list describes the section's subject. Keep "
    "values with their units ('273 GB/s'); never copy markup (|, **, `, links) into a name. Only state facts the "
    "text states. Answer with JSON only."
)


def user_message(chunk: Chunk) -> str:
    """The chunk's text with the layout context it cannot show itself: its section and a continued table's header."""
    parts = []
    if chunk.heading:
        parts.append(f"Section: {chunk.heading}")
    if chunk.table_header:
        parts.append("The text continues a table with the columns: " + " | ".join(chunk.table_header))
    parts.append(f"Text:\n{chunk.text}")
    return "\n".join(parts)


class Fallback(BaseModel):
    """One chunk the offline rules extracted because the model's answer was unusable."""

    chunk_id: str
    reason: str


def triple_schema(settings: KGSettings) -> dict[str, Any]:
    """The JSON schema the model's answer must follow."""
    name = {"type": "string", "minLength": 1, "maxLength": settings.max_field_chars}
    etype = {"type": "string", "enum": list(ENTITY_TYPES)}
    return {
        "type": "object",
        "properties": {
            "triples": {
                "type": "array",
                "maxItems": settings.max_triples_per_chunk,
                "items": {
                    "type": "object",
                    "properties": {
                        "subject": name,
                        "subject_type": etype,
                        "relation": name,
                        "object": name,
                        "object_type": etype,
                    },
                    "required": ["subject", "subject_type", "relation", "object", "object_type"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["triples"],
        "additionalProperties": False,
    }


class _LLMTriple(BaseModel):
    subject: str
    relation: str
    object: str
    subject_type: str = "ENTITY"
    object_type: str = "ENTITY"


class _LLMAnswer(BaseModel):
    triples: list[_LLMTriple] = Field(default_factory=list)


def canonical_text(text: str) -> str:
    """Case-, whitespace- and punctuation-folded text, for "does this name occur in this chunk" checks."""
    return " " + " ".join(re.findall(r"\w+", clean_surface(text).casefold())) + " "


def _find_span(text: str, subject: str, obj: str) -> tuple[int, int]:
    """The sentence that mentions both entities (else either, else the whole chunk)."""
    spans = sentences(text)
    lowered = [(a, b, text[a:b].lower()) for a, b in spans]
    for needles in ((subject.lower(), obj.lower()), (subject.lower(),), (obj.lower(),)):
        for a, b, s in lowered:
            if all(n in s for n in needles):
                return a, b
    return 0, len(text)


class LLMExtractor:
    """Triples from the supervisor model, constrained by a JSON schema."""

    name = "llm"

    def __init__(self, settings: KGSettings) -> None:
        self.settings = settings
        from serving.registry import Role, endpoint

        self.endpoint = endpoint(Role.SUPERVISOR, self.settings.serving)
        self.concurrency = self.settings.llm_concurrency
        self.fallbacks: list[Fallback] = []  # appended from worker threads (list.append is atomic)
        self._offline = OfflineExtractor(self.settings)

    def _ensure_started(self) -> None:
        """Start the local profile's llama.cpp server on first use (other profiles are already up)."""
        if self.endpoint.base_url is None and self.endpoint.managed == "llama-cpp":
            from serving.lifecycle import ensure_endpoint
            from serving.registry import Role

            self.endpoint = ensure_endpoint(Role.SUPERVISOR, self.settings.serving)

    def parse(self, content: str | None, finish_reason: str | None, chunk: Chunk) -> list[Triple]:
        """Validate one model answer; anything but a complete, schema-valid object raises ExtractionError."""
        where = f"for chunk {chunk.chunk_id}"
        advice = "nothing was stored. Retry, use a larger model, or `--extractor offline`."
        if finish_reason == "length":
            raise ExtractionError(f"The supervisor model's JSON {where} was cut off (max tokens reached); {advice}")
        if not content or not content.strip():
            raise ExtractionError(f"The supervisor model returned an empty answer {where}; {advice}")
        try:
            data = json.loads(content)
        except json.JSONDecodeError as e:
            raise ExtractionError(
                f"The supervisor model returned malformed JSON {where} ({e.msg} at character {e.pos}); {advice}"
            ) from None
        try:
            answer = _LLMAnswer.model_validate(data)
        except ValidationError as e:
            first = e.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise ExtractionError(
                f"The supervisor model's JSON {where} does not match the triple schema ({loc}: {first['msg']}); "
                f"{advice}"
            ) from None
        if not isinstance(data, dict) or "triples" not in data:
            raise ExtractionError(f"The supervisor model's JSON {where} has no 'triples' list; {advice}")
        out = []
        haystack = canonical_text(chunk.text)
        for t in answer.triples:
            triple = Triple(
                subject=t.subject,
                relation=t.relation,
                object=t.object,
                subject_type=t.subject_type,
                object_type=t.object_type,
                source_id=chunk.source_id,
                chunk_id=chunk.chunk_id,
                extractor=self.name,
            )
            try:
                triple = check_triple(triple, self.settings.max_field_chars)
            except InvalidTriple as e:
                raise ExtractionError(f"The supervisor model gave an invalid triple {where}: {e} {advice}") from None
            if self.settings.llm_grounded_only and not (
                canonical_text(triple.subject) in haystack and canonical_text(triple.object) in haystack
            ):
                log.info("dropped a triple naming an entity absent from %s: %s", chunk.chunk_id, triple.subject)
                continue
            span = _find_span(chunk.text, triple.subject, triple.object)
            out.append(triple.model_copy(update={"span": span, "evidence": chunk.text[span[0] : span[1]][:300]}))
        return out

    def extract(self, chunk: Chunk) -> list[Triple]:
        import openai

        from serving.client import openai_client, translate

        self._ensure_started()
        ep = self.endpoint
        client = openai_client(ep)
        schema = triple_schema(self.settings)
        formats = {
            # OpenAI / llama.cpp's llama-server / vLLM / TensorRT-LLM
            "json_schema": {
                "type": "json_schema",
                "json_schema": {"name": "triples", "strict": True, "schema": schema},
            },
            # llama-cpp-python's server (the local profile) knows only this spelling of the same constraint
            "json_object": {"type": "json_object", "schema": schema},
        }
        key = (ep.base_url or "", ep.model)
        order = [_FORMAT_PREF[key]] if key in _FORMAT_PREF else ["json_schema", "json_object"]
        messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_message(chunk)},
        ]
        for attempt, name in enumerate(order):
            try:
                resp = client.chat.completions.create(  # type: ignore[call-overload]
                    model=ep.model,
                    messages=messages,
                    temperature=0,
                    max_tokens=self.settings.llm_max_tokens,
                    response_format=formats[name],
                )
                choice = resp.choices[0]
                content, finish = choice.message.content, choice.finish_reason
            except openai.APIStatusError as e:
                if attempt + 1 < len(order):  # this server may not know this response_format: try the other
                    log.info(
                        "%s rejected response_format %s (HTTP %s); trying %s",
                        ep.base_url,
                        name,
                        e.status_code,
                        order[attempt + 1],
                    )
                    continue
                raise translate(ep, e) from e
            except Exception as e:  # noqa: BLE001 - re-raised as a project error
                raise translate(ep, e) from e
            _FORMAT_PREF[key] = name
            try:
                return self.parse(content, finish, chunk)
            except ExtractionError as e:
                if not self.settings.llm_fallback:
                    raise
                log.warning("offline fallback for %s: %s", chunk.chunk_id, e)
                self.fallbacks.append(Fallback(chunk_id=chunk.chunk_id, reason=str(e)))
                return self._offline.extract(chunk)
        raise AssertionError("unreachable")  # pragma: no cover


# Which response_format each (base_url, model) accepted; learned on first use.
_FORMAT_PREF: dict[tuple[str, str], str] = {}
