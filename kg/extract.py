"""Triple extraction: (subject, relation, object) with the source chunk and text span as provenance.

Two extractors share one output type:
- `OfflineExtractor`: rule-based, dependency-free (regular expressions over capitalised mentions, copulas,
  appositives, passives and coordinated verb phrases). No model, no download; fast and predictable, tuned
  for encyclopaedic English prose. Precision/recall are measured in `bench/kg_extract.py`.
- `LLMExtractor`: the supervisor model with a JSON-schema constrained answer (OpenAI `response_format`
  `json_schema`, which llama.cpp, vLLM and TensorRT-LLM honour). A malformed, cut-off or out-of-schema
  answer raises `ExtractionError`; callers store nothing in that case.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from kg.errors import ExtractionError, InvalidTriple
from kg.merge import clean_surface
from kg.settings import KGSettings

log = logging.getLogger(__name__)

EntityType = Literal["PERSON", "ORG", "PLACE", "DATE", "WORK", "CONCEPT", "ENTITY"]
ENTITY_TYPES: tuple[str, ...] = ("PERSON", "ORG", "PLACE", "DATE", "WORK", "CONCEPT", "ENTITY")


class Chunk(BaseModel):
    """A piece of text to extract from, with where it came from."""

    text: str
    source_id: str
    chunk_id: str
    title: str | None = None
    page: int | None = None


class Triple(BaseModel):
    """One fact with its provenance: the chunk and the character span (within the chunk) it came from."""

    subject: str
    relation: str
    object: str
    subject_type: str = "ENTITY"
    object_type: str = "ENTITY"
    source_id: str
    chunk_id: str
    span: tuple[int, int] = (0, 0)
    evidence: str = ""
    extractor: str = "offline"


def check_triple(t: Triple, max_chars: int) -> Triple:
    """Clean the fields; empty or oversized fields raise InvalidTriple (a sentence is not an entity)."""
    fields = {}
    for name in ("subject", "relation", "object"):
        value = clean_surface(getattr(t, name) or "")
        if not value:
            raise InvalidTriple(f"A triple from {t.chunk_id} has an empty {name}: every triple needs all three parts.")
        if len(value) > max_chars:
            raise InvalidTriple(
                f"A triple from {t.chunk_id} has a {name} of {len(value)} characters (limit {max_chars}, "
                "SPARK_AGENTS_KG_MAX_FIELD_CHARS): that is a passage, not an entity or relation."
            )
        fields[name] = value
    fields["relation"] = fields["relation"].lower()
    for name in ("subject_type", "object_type"):
        value = (getattr(t, name) or "ENTITY").upper()
        fields[name] = value if value in ENTITY_TYPES else "ENTITY"
    return t.model_copy(update=fields)


# --- chunking -----------------------------------------------------------------------------------------------

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+(?=\s|$)|\n|$)")


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in `text` (abbreviation-tolerant enough for prose)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"(?<=[.!?])\s+(?=[\"'“(]?\w)|\n\s*\n|\n(?=\s*[-*•])", text):
        before = text[max(start, m.start() - 6) : m.start()]
        if re.search(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Inc|Ltd|Co|vs|e\.g|i\.e|[A-Z])\.$", before):
            continue
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def split_text(text: str, chunk_chars: int) -> list[tuple[int, str]]:
    """Cut text into chunks of about `chunk_chars` at sentence boundaries: [(offset, chunk_text)]."""
    chunks: list[tuple[int, str]] = []
    cur_start, cur_end = None, 0
    for a, b in sentences(text):
        if cur_start is not None and b - cur_start > chunk_chars:
            chunks.append((cur_start, text[cur_start:cur_end]))
            cur_start = None
        while b - a > chunk_chars:  # one enormous "sentence": hard cut
            chunks.append((a, text[a : a + chunk_chars]))
            a += chunk_chars
        if cur_start is None:
            cur_start = a
        cur_end = b
    if cur_start is not None:
        chunks.append((cur_start, text[cur_start:cur_end]))
    return chunks


# --- offline, rule-based --------------------------------------------------------------------------------------


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


_LEAD_WORDS = _words(
    "the a an in on at however this that these those it he she they his her its their after before "
    "during when while although since as by from with for today also both many some most in 1 there here "
    "then later early each every one two three our we i you yet but and or so if "
)
_PRONOUNS = {"he", "she", "it", "they", "its", "his", "her", "their"}
_CONNECT = r"(?:of|the|de|del|della|van|von|der|den|da|du|la|le|y|&|for|am|bin|al)"
_CAP = r"(?:[A-Z]\.|[A-Z][\w'’.\-]*[\w]|[A-Z])"
_MENTION = re.compile(
    rf"(?:{_CAP}(?:\s+(?:{_CONNECT}\s+)*{_CAP})*)"
    r"|(?:(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+\d{1,2},\s+\d{4})|\b(?:1\d{3}|20\d{2})\b"
)
_MONTH_DATE = re.compile(r"^(?:January|February|March|April|May|June|July|August|September|October|November|December)")
_AUX = re.compile(
    r"^(?:(?:is|was|are|were|be|been|being|has\s+been|had\s+been|have\s+been|will\s+be)\s+)+(?:also\s+)?",
    re.IGNORECASE,
)
_DET = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_VERBISH = re.compile(
    r"\b(?:is|was|are|were|has|had|have|born|died|founded|co-founded|created|developed|designed|wrote|written|"
    r"directed|produced|invented|discovered|located|based|headquartered|married|acquired|bought|owns|owned|"
    r"leads|led|works|worked|studied|graduated|joined|won|received|plays|played|lives|lived|visited|"
    r"published|released|built|named|called|known|part|member|capital|president|ceo|chairman|director|"
    r"author|son|daughter|wife|husband|father|mother|brother|sister|employs|employed|teaches|taught|"
    r"attended|represents|borders|flows|runs|uses|supports|depends|contains|includes|belongs|became|"
    r"serves|served|manufactures|makes|made|sells|hosts|hosted|leads|succeeded|preceded|replaced|"
    r"\w+ed|\w+es|\w+s)\b",
    re.IGNORECASE,
)
_ORG_WORDS = _words(
    "university inc inc. corp corp. corporation company co co. ltd ltd. llc institute foundation "
    "association agency bank group party council committee society college school laboratory "
    "laboratories labs lab museum team club records press times ministry department organization "
    "organisation federation union academy church hospital network studios systems technologies airlines "
    "motors "
)
_PLACE_WORDS = _words(
    "city river mountain mountains mount lake island islands ocean sea street county state province "
    "kingdom republic valley park bridge tower desert bay coast region district village town square "
    "airport "
)
_PERSON_REL = re.compile(r"^(?:born|died|married|studied|graduated|wife|husband|son|daughter|father|mother)\b")
_PLACE_REL = re.compile(r"\b(?:in|at|near|from|to)$")
_BY_REL = re.compile(r"\bby$")
_COPULA_NP = re.compile(
    r"^\s+(?:is|was|are|were)\s+(?:also\s+)?(a|an|the)\s+([a-z][a-z\-]*(?:\s+[a-z][a-z\-]*){0,4}?)"
    r"(?=\s*(?:[,.;:!?]|$|\s+(?:that|which|who|where|with|in|on|at|by|from|for|and|since)\b))"
)
_APPOSITIVE = re.compile(r"^\s*,\s*(?:the|a|an)\s+([a-z][a-z\- ]{1,40}?)\s+(of|in|at|for)\s*$")
_SUBJECT_CARRY = re.compile(r"^\s*(?:,\s*)?(?:and|but|,)\s+", re.IGNORECASE)
_WHO = re.compile(r"^\s*,?\s*(?:who|which|that)\s+", re.IGNORECASE)
_LIST_SEP = re.compile(r"^\s*(?:,\s*(?:and\s+|or\s+)?|and\s+|or\s+)$")
_SUBORD = re.compile(
    r"^\s*,?\s*(?:while|when|after|before|because|as|since|until|where)\s+(?:he|she|it|they)\s+", re.IGNORECASE
)
_ADVERB = re.compile(r"^(?:later|also|then|first|subsequently|eventually|originally|previously|still)\s+")
_NP_OBJECT = re.compile(
    r"^\s+(?:(?:later|also|then|first)\s+)?([a-z]+(?:ed|es|s))\s+(?:the\s+|a\s+|an\s+)?"
    r"([a-z][a-z\-]*(?:\s+(?:of\s+|in\s+|for\s+)?[a-z][a-z\-]*){0,4}?)(?=\s*(?:[,.;:!?]|$))"
)
_NOT_VERBS = {"is", "was", "has", "does", "this", "his", "its", "as", "us", "thus", "plus", "whereas"}


def _strip_lead(text: str, start: int) -> tuple[str, int]:
    words = text.split(" ")
    while words and words[0].lower().strip(".,") in _LEAD_WORDS and len(words) > 1:
        start += len(words[0]) + 1
        words = words[1:]
    if words and words[0].lower().strip(".,") in _LEAD_WORDS:
        return "", start
    return " ".join(words), start


def _mentions(sentence: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _MENTION.finditer(sentence):
        text, start = _strip_lead(m.group(0), m.start())
        text = text.rstrip(".’'")
        if text.endswith("'s") or text.endswith("’s"):
            text = text[:-2]
        if not text or (len(text) == 1 and not text.isdigit()):
            continue
        out.append((start, start + len(text), text))
    return out


def _guess_type(name: str) -> str:
    if re.fullmatch(r"1\d{3}|20\d{2}", name) or _MONTH_DATE.match(name):
        return "DATE"
    words = name.lower().split()
    if words and (words[-1] in _ORG_WORDS or words[0] in {"university", "institute", "bank", "ministry"}):
        return "ORG"
    if words and (words[-1] in _PLACE_WORDS or words[0] in {"mount", "lake", "river"}):
        return "PLACE"
    if name.isupper() and len(name) <= 6:
        return "ORG"
    return "ENTITY"


def _relation(middle: str) -> str | None:
    """Normalise the words between two mentions into a relation, or None when it is not one."""
    rel = " ".join(middle.split()).strip(" ,;:")
    possessive = bool(re.match(r"^['’]s\s", rel))
    if possessive:  # "Google's parent company is Alphabet" -> parent company
        rel = re.sub(r"\s+(?:is|was|are|were)$", "", rel[3:])
    rel = _WHO.sub("", rel)
    rel = _SUBORD.sub("", rel)
    rel = _SUBJECT_CARRY.sub("", rel)
    if not rel or len(rel.split()) > 7 or re.search(r"[;:()\"“”]", rel) or "," in rel:
        return None
    if not possessive and not _VERBISH.search(rel):
        return None
    if rel.lower() in {"and", "or", "of", "in", "as", "is", "was", "s"}:
        return None
    rel = _AUX.sub("", rel + " ").strip() or rel
    rel = _ADVERB.sub("", rel)
    rel = _DET.sub("", rel)
    rel = re.sub(r"\s+(?:the|a|an)$", "", rel, flags=re.IGNORECASE).lower()
    return rel or None


def _type_from_relation(rel: str, subj_type: str, obj_type: str) -> tuple[str, str]:
    if subj_type == "ENTITY" and _PERSON_REL.match(rel):
        subj_type = "PERSON"
    if obj_type == "ENTITY" and re.match(
        r"^(?:works?|worked|stud(?:y|ies|ied)|employed|professor|student|teach\w*)\s+(?:at|for)$", rel
    ):
        obj_type = "ORG"
    if obj_type == "ENTITY" and _PLACE_REL.search(rel) and not rel.startswith(("married", "son", "daughter")):
        obj_type = "PLACE"
    if rel.startswith(("capital of", "city in", "located in")):
        subj_type = "PLACE" if subj_type == "ENTITY" else subj_type
        obj_type = "PLACE" if obj_type == "ENTITY" else obj_type
    if obj_type == "ENTITY" and _BY_REL.search(rel):
        obj_type = "PERSON"
    if rel.startswith(("wrote", "directed", "published", "composed", "painted")) and obj_type == "ENTITY":
        subj_type, obj_type = ("PERSON" if subj_type == "ENTITY" else subj_type), "WORK"
    return subj_type, obj_type


class OfflineExtractor:
    """Rule-based triple extraction for English prose; no model, no network."""

    name = "offline"

    def __init__(self, settings: KGSettings | None = None) -> None:
        self.settings = settings or KGSettings()

    def extract(self, chunk: Chunk) -> list[Triple]:
        text = chunk.text
        triples: list[Triple] = []
        seen: set[tuple[str, str, str]] = set()
        last_subject: tuple[str, str] | None = None

        def emit(s: str, st: str, r: str, o: str, ot: str, span: tuple[int, int]) -> None:
            if not s or not o or s == o or (s, r, o) in seen:
                return
            if max(len(s), len(r), len(o)) > self.settings.max_field_chars:
                return
            if len(triples) >= self.settings.max_triples_per_chunk:
                return
            st, ot = _type_from_relation(r, st, ot)
            seen.add((s, r, o))
            triples.append(
                Triple(
                    subject=s,
                    relation=r,
                    object=o,
                    subject_type=st,
                    object_type=ot,
                    source_id=chunk.source_id,
                    chunk_id=chunk.chunk_id,
                    span=span,
                    evidence=text[span[0] : span[1]].strip()[:300],
                    extractor=self.name,
                )
            )

        full_names: dict[str, str] = {}  # "Newton" -> "Isaac Newton", within this chunk
        for a, b in sentences(text):
            sent = text[a:b]
            mentions = []
            for m in _mentions(sent):
                name = m[2]
                if " " in name and _guess_type(name) == "ENTITY" and len(name.split()) <= 4:
                    full_names.setdefault(name.split()[-1], name)
                elif " " not in name and name in full_names:
                    name = full_names[name]
                mentions.append((m[0], m[1], name))
            # A sentence opening with a pronoun continues the previous sentence's subject.
            lead = re.match(r"\s*(\w+)\s", sent)
            if lead and lead.group(1).lower() in _PRONOUNS and last_subject:
                mentions.insert(0, (lead.start(1), lead.end(1), last_subject[0]))
                pronoun_subject = True
            else:
                pronoun_subject = False
            if not mentions:
                continue
            subj0 = mentions[0][2]
            subj0_type = last_subject[1] if pronoun_subject and last_subject else _guess_type(subj0)
            last_subject = (subj0, subj0_type)
            # "A and B founded C": the leading coordinated mentions share the subject role.
            group = 1
            while group < len(mentions) and _LIST_SEP.match(sent[mentions[group - 1][1] : mentions[group][0]]):
                group += 1
            subjects = [(m[2], subj0_type if j == 0 else _guess_type(m[2])) for j, m in enumerate(mentions[:group])]
            subj_end = mentions[group - 1][1]
            # "X is a Y" with a common-noun Y.
            cop = _COPULA_NP.match(sent[subj_end:])
            if cop:
                det, np = cop.group(1), cop.group(2)
                rel = "is a" if det in ("a", "an") else "is the"
                next_mention = any(m[0] > subj_end and m[0] <= subj_end + cop.end() + 4 for m in mentions)
                follows = sent[subj_end + cop.end() :].lstrip()
                if not (next_mention or follows.startswith("of ")):
                    for sj, st in subjects:
                        emit(sj, st, rel, np, "CONCEPT", (a, b))
            # "X developed the theory of relativity": a verb and a lowercase noun phrase to the clause end.
            obj = _NP_OBJECT.match(sent[subj_end:])
            verb_np = obj is not None and obj.group(1) not in _NOT_VERBS
            if obj and verb_np and not any(subj_end < m[0] < subj_end + obj.end() for m in mentions):
                for sj, st in subjects:
                    emit(sj, st, obj.group(1), obj.group(2), "CONCEPT", (a, b))
            last: tuple[list[tuple[str, str]], str] | None = None  # subjects and relation of the last fact
            for i in range(group, len(mentions)):
                prev, cur = mentions[i - 1], mentions[i]
                middle = sent[prev[1] : cur[0]]
                if last is not None and _LIST_SEP.match(middle):  # "... by A, B and C"
                    for sj, st in last[0]:
                        emit(sj, st, last[1], cur[2], _guess_type(cur[2]), (a, b))
                    continue
                app = _APPOSITIVE.match(middle)
                if app:
                    rel = f"{app.group(1).strip()} {app.group(2)}"
                    emit(prev[2], _guess_type(prev[2]), rel, cur[2], _guess_type(cur[2]), (a, b))
                    last = ([(prev[2], _guess_type(prev[2]))], rel)
                    continue
                rel = _relation(middle)
                if rel is None:
                    last = None
                    continue
                carry = (
                    i > group
                    and (_SUBJECT_CARRY.match(middle) or re.match(r"^\s*,", middle) or _SUBORD.match(middle))
                    and not _WHO.match(middle)
                )
                subs = subjects if i == group or carry else [(prev[2], _guess_type(prev[2]))]
                for sj, st in subs:
                    emit(sj, st, rel, cur[2], _guess_type(cur[2]), (a, b))
                last = (subs, rel)
        return triples


# --- LLM, JSON-schema constrained ----------------------------------------------------------------------------

SYSTEM_PROMPT = (
    "You extract a knowledge graph from text. Return every factual relation stated in the text as a triple: "
    "subject and object are short entity names exactly as written in the text (no pronouns), relation is a "
    "short lowercase verb phrase (e.g. 'born in', 'founded', 'capital of'). Give each entity a type from: "
    + ", ".join(ENTITY_TYPES)
    + ". Only state facts the text states. Answer with JSON only."
)


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

    def __init__(self, settings: KGSettings | None = None) -> None:
        self.settings = settings or KGSettings()
        from serving.registry import Role, endpoint

        self.endpoint = endpoint(Role.SUPERVISOR)
        self.concurrency = self.settings.llm_concurrency

    def _ensure_started(self) -> None:
        """Start the local profile's llama.cpp server on first use (other profiles are already up)."""
        if self.endpoint.base_url is None and self.endpoint.managed == "llama-cpp":
            from serving.llama_server import ensure_endpoint
            from serving.registry import Role

            self.endpoint = ensure_endpoint(Role.SUPERVISOR)

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
            {"role": "user", "content": f"Text:\n{chunk.text}"},
        ]
        for attempt, name in enumerate(order):
            try:
                resp = client.chat.completions.create(
                    model=ep.model,
                    messages=messages,  # type: ignore[arg-type]
                    temperature=0,
                    max_tokens=self.settings.llm_max_tokens,
                    response_format=formats[name],  # type: ignore[arg-type]
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
            return self.parse(content, finish, chunk)
        raise AssertionError("unreachable")  # pragma: no cover


# Which response_format each (base_url, model) accepted; learned on first use.
_FORMAT_PREF: dict[tuple[str, str], str] = {}


def get_extractor(name: str, settings: KGSettings | None = None) -> OfflineExtractor | LLMExtractor:
    if name == "offline":
        return OfflineExtractor(settings)
    if name == "llm":
        return LLMExtractor(settings)
    raise ExtractionError(f"Unknown extractor {name!r}: use 'offline' (rule-based) or 'llm' (supervisor model).")


def extract_all(chunks: Iterable[Chunk], extractor: OfflineExtractor | LLMExtractor) -> list[Triple]:
    """Every chunk's triples in chunk order, all or nothing: the first failure raises, nothing is returned.

    LLM calls run `SPARK_AGENTS_KG_LLM_CONCURRENCY` at a time (model servers batch concurrent requests).
    """
    chunks = list(chunks)
    workers = getattr(extractor, "concurrency", 1)
    if workers <= 1 or len(chunks) <= 1:
        out: list[Triple] = []
        for chunk in chunks:
            out.extend(extractor.extract(chunk))
        return out
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        futures = [pool.submit(extractor.extract, c) for c in chunks]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in futures if f.done() and f.exception() is not None]
        if failed:
            for f in pending:
                f.cancel()
            raise failed[0].exception()  # type: ignore[misc]
        return [t for f in futures for t in f.result()]
