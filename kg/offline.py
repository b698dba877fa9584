"""The offline extractor: layout facts (tables, pair lists, headings) plus the sentence rules on the prose.

A spec sheet's facts are in its tables and under its headings (`kg.layout`); its prose still holds
sentences (`kg.prose`). The sentence rules read the prose blocks only, with markup blanked in place so
links and bold neither break a mention nor reach a label, and spans still index the original chunk. A
short name in a section's prose that is part of the section's subject ("The H4 ..." under "## H4
system-on-chip") is taken as that subject. No model, no network.
"""

from __future__ import annotations

import re

from kg.canon import name_definitions
from kg.layout import Section, read_layout
from kg.markup import mask_markup, strip_markup
from kg.model import Chunk, Triple
from kg.prose import SentenceExtractor
from kg.settings import KGSettings

_WRAP = re.compile(r"(?<=\S)\n(?![ \t]*(?:\n|[-*+•>#|]|\d{1,3}[.)]\s))")


def _prose_only(text: str, sections: list[Section]) -> str:
    """`text` with markup masked, everything outside the prose blocks blanked (newlines kept), and the line
    wraps inside a paragraph turned into spaces (a name wrapped over two lines is still one mention). A list
    item's marker becomes a line break: an item ends where the next begins, full stop or not."""
    masked = list(mask_markup(_WRAP.sub(" ", text)))
    for m in _ITEM.finditer(text):
        masked[m.start(1)] = "\n"
    keep = bytearray(len(text))
    for s in sections:
        keep[s.start : s.end] = b"\x01" * (s.end - s.start)
    return "".join(ch if keep[i] or ch == "\n" else " " for i, ch in enumerate(masked))


_ITEM = re.compile(r"(?m)^[ \t]*([-*+•])[ \t]+")
_SPANS = re.compile(r"`([^`\n]{2,40})`|\*\*([^*\n]{2,40})\*\*|__([^_\n]{2,40})__|\[([^\]\n]{2,40})\]")


_RELEASE = re.compile(r"(?<![\w\-/.])([a-z][a-z0-9+\-]*[a-z0-9])\s+v?\d+(?:\.\d+)*[a-z]?(?![\w.])")
_NOT_RELEASE_WORDS = (
    "in on at by of to from for with and or than about around since until before after over under up per "
    "only all every each version release step page chapter section figure table level levels year years "
    "is are was were be has have had the a an nearly almost approximately roughly some any no top first last "
    "between within into near"
)
_NOT_RELEASES = frozenset(_NOT_RELEASE_WORDS.split())


_NOT_A_NAME = re.compile(r"[:;,!?]|\s-|^-|\s(?:and|or)\s")


def document_names(chunk: Chunk) -> set[str]:
    """The names a chunk's document uses, lowercase ones included ("libjpeg-turbo", "zstd"): its subject, the
    names it defines, and short spans it marks as names (code, bold, link text) that read as identifiers."""
    names = {chunk.subject} if chunk.subject else set()
    base = re.fullmatch(r"([a-z][\w+]{2,})(?:-[a-z]\w*)?", (chunk.subject or "").lower())
    if base:  # its tools and libraries (apt-get, libapt-pkg), and what it is built on (libjpeg of libjpeg-turbo)
        stem = re.escape(base.group(1))
        derived = rf"(?<![\w\-/.:])(?:lib{stem}|{stem}(?=[\-_])|[a-z0-9]+[\-_]{stem}\b)[\w+\-]*(?<![\-.])(?![\w/:])"
        names.update(re.findall(derived, chunk.text))
        if base.group(1) != (chunk.subject or "").lower():
            names.update(re.findall(rf"(?<![\w\-/.:]){stem}(?![\w\-/])", chunk.text))
    for other, name in name_definitions(chunk.text).items():
        names.update((other, name))
    # "libjpeg v6b", "zlib 1.2.11": a lowercase word with a version is a named release
    names.update(m.group(0) for m in _RELEASE.finditer(chunk.text) if m.group(1) not in _NOT_RELEASES)
    for m in _SPANS.finditer(chunk.text):
        span = strip_markup(next(g for g in m.groups() if g)).strip()
        words = span.split()
        if not words or len(words) > 4 or _NOT_A_NAME.search(span) or not re.match(r"[\w@]", span):
            continue  # a phrase, an option or a coordination ("Huff0 and FSE library") is not one name
        if len(words) == 1 or any(w[:1].isupper() for w in words):  # `zstd`, **libjpeg API**, [Debian Tracker page]
            names.add(span)
    return names


def expand_partial(name: str, subjects: list[str]) -> str:
    """The section subject `name` is a whole-word head or tail of ("AX-7" -> "Aurora AX-7"), else `name`."""
    words = name.split()
    for full in subjects:
        parts = full.split()
        if len(words) < len(parts) and (parts[: len(words)] == words or parts[-len(words) :] == words):
            return full
    return name


class OfflineExtractor:
    """Structure-aware rule-based extraction; no model, no network."""

    name = "offline"

    def __init__(self, settings: KGSettings) -> None:
        self.settings = settings
        self.sentences = SentenceExtractor(self.settings)

    def extract(self, chunk: Chunk) -> list[Triple]:
        text = chunk.text
        layout, sections = read_layout(chunk, self.name)
        prose = self.sentences.extract(
            chunk.model_copy(update={"text": _prose_only(text, sections)}), document_names(chunk), chunk.subject
        )
        out: list[Triple] = []
        seen: set[tuple[str, str, str]] = set()
        max_chars = self.settings.max_field_chars
        for t in layout:
            if max(len(t.subject), len(t.relation), len(t.object)) <= max_chars:
                out.append(t)
        for t in prose:
            a, b = t.span
            subjects = next((s.subjects for s in sections if s.start <= a < s.end), [])
            out.append(
                t.model_copy(
                    update={
                        "subject": expand_partial(" ".join(t.subject.split()), subjects),
                        "object": expand_partial(" ".join(t.object.split()), subjects),
                        "evidence": text[a:b].strip()[:300],
                    }
                )
            )
        unique = []
        for t in out:
            key = (t.subject, t.relation, t.object)
            if key not in seen and t.subject != t.object:
                seen.add(key)
                unique.append(t)
        # No cap on layout facts: a table's rows are stated facts, bounded by the table (the sentence rules
        # keep their own SPARK_AGENTS_KG_MAX_TRIPLES_PER_CHUNK cap).
        return unique
