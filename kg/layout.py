"""Facts stated by layout: table rows, "Key: value" lists and definition lists, under their headings.

Which entity a fact is about comes from the layout, the way a reader takes it:
- a table with a key column and a value column ("Component | Specification") describes the section's
  subject: (subject, row key, value);
- any other table lists things: (row key cell, column header, cell), and the section's subject has each
  row's thing: (subject, "has <thing>", row key);
- "Key: value" bullets and definition lists describe the section's subject;
- the section's subject is the innermost heading that names an entity ("## H4 system-on-chip"), else an
  outer one ("# Aurora AX-7 system reference" -> "Aurora AX-7"), else the document title.
Cells lose their markup, values keep their units ("204 GB/s").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.lists import list_facts
from kg.markup import is_image, strip_markup
from kg.model import Chunk, Triple
from kg.prose import guess_type
from kg.structure import Block, enter_heading, heading_subject, parse, path_subject, split_path


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


_KEY_HEADERS = _words(
    "component property parameter feature attribute item key field spec specification characteristic metric "
    "name setting option aspect category"
)
_VALUE_HEADERS = _words(
    "value values specification specifications spec specs details detail description setting default "
    "data info information"
)
# Attributes that say little without the section they are in
_CONTEXT_KEYS = _words(
    "name version type size capacity speed bandwidth frequency count model vendor interface format release "
    "latency throughput clock cores rate kernel edition license default value maximum minimum"
)
# Headings about the document's layout, not a part of the thing: no context for an attribute
_STRUCTURAL = _words(
    "specifications specification specs spec sheet datasheet overview introduction summary details detail "
    "features feature general technical information info reference data key facts at a glance table tables "
    "appendix contents hardware software system and the of"
)
_EMPTY_CELLS = frozenset({"", "-", "—", "–", "n/a", "na", "none", "?", "tbd"})
_QUANTITY = re.compile(r"^[~≈<>≤≥+±]?\s*\d")


@dataclass
class Section:
    """A prose block and the entities its headings name (innermost first): the context of its sentences."""

    start: int
    end: int
    subjects: list[str]


def singular(phrase: str) -> str:
    """The phrase with its last word made singular ("supported models" -> "supported model")."""
    words = phrase.split()
    if not words:
        return phrase
    w = words[-1]
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith(("sses", "xes", "ches", "shes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        w = w[:-1]
    return " ".join([*words[:-1], w])


def value_type(value: str) -> str:
    """QUANTITY for a number with or without its unit, else the prose rules' guess."""
    return "QUANTITY" if _QUANTITY.match(value) else guess_type(value)


def in_context(key: str, path: list[str]) -> str:
    """A generic attribute ("Name", "Bandwidth") with the topic heading it sits under ("operating system
    name", "memory bandwidth"); a specific one ("Memory bandwidth", "USB-C") as it is."""
    if not path or key.lower() not in _CONTEXT_KEYS or heading_subject(path[-1]):
        return key
    topic = strip_markup(path[-1]).lower()
    if set(topic.split()) <= _STRUCTURAL:
        return key
    return f"{topic} {key.lower()}"


def _cell(raw: str) -> str | None:
    if is_image(raw):
        return None  # a chart or badge names nothing
    text = strip_markup(raw)
    return None if text.lower() in _EMPTY_CELLS else text


def _is_key_value(header: list[str]) -> bool:
    if len(header) != 2:
        return False
    first, second = (h.lower() for h in header)
    return first in _KEY_HEADERS or second in _VALUE_HEADERS or not (first or second)


def _subjects(path: list[str], title: str | None, document: str | None = None) -> list[str]:
    """The entities a section is about, innermost first: its headings that name one, then the title's,
    then the document's subject."""
    found = [s for s in (heading_subject(h) for h in reversed(path)) if s]
    for extra in (heading_subject(title) if title else None, document):
        if extra and extra not in found:
            found.append(extra)
    return found


def read_layout(chunk: Chunk, extractor: str = "offline") -> tuple[list[Triple], list[Section]]:
    """The facts of a chunk's tables and pair lists, and its prose blocks with their heading context."""
    text = chunk.text
    path = split_path(chunk.heading)
    triples: list[Triple] = []
    sections: list[Section] = []

    def emit(s: str, st: str, r: str, o: str, ot: str, span: tuple[int, int]) -> None:
        if s and r and o and s != o:
            triples.append(Triple.found((s, r.lower(), o), (st, ot), chunk, span, extractor))

    first_table = True
    for blk in parse(text):
        if blk.kind == "heading":
            path = enter_heading(path, blk.level, blk.text)
            continue
        subjects = _subjects(path, chunk.title, chunk.subject)
        subject = subjects[0] if subjects else None
        if blk.kind == "prose":
            sections.append(Section(blk.start, blk.end, subjects))
            topic = path[-1] if path and path_subject(path[-1:]) is None else None
            list_facts(
                text,
                blk.start,
                blk.end,
                subject,
                topic,
                lambda s, r, o, span: emit(s, guess_type(s), r, o, value_type(o), span),
            )
        elif blk.kind == "pairs" and subject:
            for row in blk.rows:
                key, value = row.cells
                if value and key:
                    rel = in_context(key, path)
                    emit(subject, guess_type(subject), rel, value, value_type(value), (row.start, row.end))
        elif blk.kind == "table":
            header = blk.header or (chunk.table_header if first_table else None) or []
            _table_facts(blk, header, path, subject, emit)
        first_table = first_table and blk.kind != "table"
    return triples, sections


def _table_facts(blk: Block, header: list[str], path: list[str], subject: str | None, emit) -> None:  # noqa: ANN001
    if not header:
        return  # rows whose columns nobody named: no relation to state
    labels = [strip_markup(h) for h in header]
    if _is_key_value(labels):
        if subject is None:
            return
        for row in blk.rows:
            key, value = (_cell(c) for c in (row.cells + ["", ""])[:2])
            if key and value:
                rel = in_context(key, path)
                emit(subject, guess_type(subject), rel, value, value_type(value), (row.start, row.end))
        return
    # The innermost heading names the section's things when it is a topic ("Supported models");
    # when it names the subject itself, the key column's header does ("Model").
    topic = path[-1] if path and path_subject(path[-1:]) is None else labels[0]
    has = f"has {singular(strip_markup(topic).lower())}" if topic else ""
    for row in blk.rows:
        cells = [_cell(c) for c in row.cells]
        key = cells[0] if cells else None
        if not key:
            continue
        span = (row.start, row.end)
        if subject and has and key != subject:
            emit(subject, guess_type(subject), has, key, guess_type(key), span)
        for label, value in zip(labels[1:], cells[1:], strict=False):
            if label and value:
                emit(key, guess_type(key), label, value, value_type(value), span)
