"""Lists of named things under a section: "Included tools are:" then "* **apt-get** for retrieval ...".

READMEs and vendor pages list what a system includes, supports or is made of as bullets that open with a
name (bold, code or a link) or with a name and an apposition in parentheses ("Planner agent (model-B,
~40GB)"). The section's subject has each named thing, by the relation the list's lead-in line or heading
says ("Included tools are:" -> includes, "Not supported" -> does not support); an apposition's parts are
the thing's own attributes (a quantity by its unit, a name as what it uses).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from kg.markup import strip_markup

Emit = Callable[[str, str, str, tuple[int, int]], None]  # subject, relation, object, span

_BULLET = re.compile(r"^[ ]{0,3}[-*+•][ \t]+(.*)$")
_NAMED = re.compile(r"^(?:\*\*([^*\n]+?)\*\*|__([^_\n]+?)__|`([^`\n]+)`|\[([^\]\n]+)\]\([^)\n]*\))")
_APPOSED = re.compile(r"^([A-Z][\w.+/-]*(?:\s+[\w.+/-]+){0,3}?)\s*\(([^()]{1,80})\)\s*(?:$|[:—–-]\s)")
_RELATIONS = (
    (re.compile(r"\bnot\s+(?:be\s+)?support|\bunsupported\b"), "does not support"),
    (re.compile(r"\bsupport"), "supports"),
    (re.compile(r"\binclud"), "includes"),
    (re.compile(r"\bprovid"), "provides"),
    (re.compile(r"\boffer"), "offers"),
    (re.compile(r"\bcontain"), "contains"),
    (re.compile(r"\brequir"), "requires"),
    (re.compile(r"\bdepend"), "depends on"),
)
_UNITS = (
    (re.compile(r"[kMGTP]i?B/s\b", re.IGNORECASE), "bandwidth"),
    (re.compile(r"\d\s*[kMGTP]i?B\b"), "memory"),
    (re.compile(r"\d\s*[kMG]Hz\b"), "clock"),
    (re.compile(r"\d\s*[kM]?W\b"), "power"),
    (re.compile(r"\d\s*(?:[TPG]FLOPS|TOPS)\b", re.IGNORECASE), "performance"),
    (re.compile(r"\d\s*(?:mm|cm)\b"), "dimensions"),
    (re.compile(r"\d\s*k?g\b"), "weight"),
    (re.compile(r"\d\s*[kKM]?\s*tokens\b"), "context"),
)


def list_relation(lead: str, topic: str | None) -> str:
    """What a list's items are to the section's subject, from the line that introduces the list or, failing
    that, the section heading; "has <topic>" when neither says, "includes" without a topic."""
    for text in (lead, topic or ""):
        for pattern, relation in _RELATIONS:
            if pattern.search(text.lower()):
                return relation
    return f"has {topic.lower()}" if topic else "includes"


def unit_relation(value: str) -> str | None:
    """The attribute a quantity measures, by its unit ("~40GB" -> memory), or None for no quantity."""
    if not re.search(r"\d", value):
        return None
    return next((rel for pattern, rel in _UNITS if pattern.search(value)), "size")


def _items(text: str, start: int, end: int) -> Iterator[tuple[str, int, int, str]]:
    """(item text, start, end, lead-in line) for each bullet in text[start:end]; the lead-in is the last
    plain line before the bullet's list."""
    lead = ""
    pos = start
    in_list = False
    for line in text[start:end].split("\n"):
        a, b = pos, pos + len(line)
        pos = b + 1
        m = _BULLET.match(line)
        if m:
            in_list = True
            yield m.group(1), a, b, lead
        elif line.strip() and not line.startswith((" ", "\t")):
            if in_list:
                lead, in_list = "", False
            lead = line.strip() if line.rstrip().endswith(":") else ""


def list_facts(text: str, start: int, end: int, subject: str | None, topic: str | None, emit: Emit) -> None:
    """The facts of the named-thing bullets in text[start:end] (a prose block under a section)."""
    for body, a, b, lead in _items(text, start, end):
        named = _NAMED.match(body.strip())
        name: str | None = None
        if named:
            name = strip_markup(next(g for g in named.groups() if g))
            if ": " in name:  # "**libjpeg API: Arithmetic coding**": the feature, of the API
                name = name.split(": ", 1)[1]
        else:
            apposed = _APPOSED.match(strip_markup(body))
            if apposed:
                name = apposed.group(1)
                for part in (p.strip() for p in apposed.group(2).split(",")):
                    rel = unit_relation(part)
                    if part and rel:
                        emit(name, rel, part, (a, b))
                    elif part and re.search(r"[A-Z\d]|-", part) and len(part.split()) <= 3:
                        emit(name, "uses", part, (a, b))
        if name and subject and len(name.split()) <= 6 and name != subject:
            emit(subject, list_relation(lead, topic), name, (a, b))
