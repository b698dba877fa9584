"""Canonical entity names: what a mention is called once markup, instructions and articles are gone.

Documentation writes "Use DGX Spark", "**HalOS**" or "the NPU" where it means the thing itself; a graph
that keeps those surfaces has one node per phrasing and cannot be queried by the name. `canonical_name`
gives the display name and says which rule changed it (the merge log records it); `acronym_definitions`
finds the acronyms a document defines ("Retrieval-Augmented Generation (RAG)") so both spellings become
one entity.
"""

from __future__ import annotations

import re

from kg.markup import strip_markup
from kg.names import trim_edges

# Verbs that open instructions in READMEs and guides; followed by a capitalised name they are not part of it.
_IMPERATIVES = (
    "use|using|install|installing|run|running|connect|configure|open|start|launch|enable|disable|download|"
    "pull|select|click|choose|add|create|read|see|check|try|build|deploy|visit|follow|update|upgrade|set up|"
    "go to|navigate to|refer to|log in to|sign in to|ask|call|load|pair|power on|restart|reboot|stop"
)
_IMPERATIVE = re.compile(
    rf"^(?:{_IMPERATIVES})\s+(?:the\s+|a\s+|an\s+|your\s+)?(?=(?-i:[A-Z0-9`*\[]))", re.IGNORECASE
)  # the verb in any case, the name after it capitalised: "create and install ..." keeps its verb
_ARTICLE = re.compile(r"^(?:the|a|an)\s+(?=\S)")  # lowercase only: "The Hobbit" is a title

_ACRONYM_AFTER = re.compile(
    r"\b((?:[A-Z][\w'’]*[\s-]+(?:(?:of|and|for|the|in|on|to|&)\s+)?){1,7}[A-Z][\w'’]*)\s*\(\s*([A-Z][A-Za-z0-9]{1,9})\s*\)"
)
_ACRONYM_BEFORE = re.compile(r"\b([A-Z][A-Z0-9]{1,9})\s*\(\s*([A-Z][\w'’]*(?:[\s-]+[A-Za-z][\w'’]*){1,7})\s*\)")
_SMALL = {"of", "and", "for", "the", "in", "on", "to", "&"}
_NAME = r"[A-Za-z0-9][\w.+/'’-]*(?:\s+[A-Z0-9][\w.+/'’-]*){0,4}"
# "Zstandard, or zstd as short version, is", "Foo (also known as Bar)", "Foo, aka Bar,"
_NAME_DEFINITIONS = (
    re.compile(
        rf"\b({_NAME}),\s+or\s+({_NAME})\s+(?:as\s+(?:a\s+)?short(?:er)?\s+(?:version|name|form)|for\s+short)\s*,"
    ),
    re.compile(
        rf"\b({_NAME})\s*\(\s*(?:or|also\s+known\s+as|aka|a\.k\.a\.|short(?:ened)?\s+(?:to|as))\s+({_NAME})\s*\)"
    ),
    re.compile(rf"\b({_NAME}),\s+(?:also\s+known\s+as|aka|a\.k\.a\.)\s+({_NAME})\s*[,.]"),
)


def canonical_name(surface: str) -> tuple[str, str | None]:
    """(the display name, the rule that changed it: 'markup', 'imperative', 'article', or None).

    Case is kept; identity (case, spacing, articles) is `kg.merge.canonical_key`'s job.
    """
    name = strip_markup(surface)
    reason = "markup" if name != " ".join(surface.split()) else None
    stripped = _IMPERATIVE.sub("", name, count=1)
    if stripped != name and stripped.strip():
        name, reason = strip_markup(stripped), "imperative"
    stripped = _ARTICLE.sub("", name, count=1)
    if stripped != name:
        name, reason = stripped, reason or "article"
    name = trim_edges(name)
    return name, reason


def _initials(expansion: str) -> str:
    words = [w for w in re.split(r"[\s-]+", expansion) if w and w.lower() not in _SMALL]
    return "".join(w[0] for w in words).upper()


def _matches(acronym: str, expansion: str) -> bool:
    """The acronym's letters are the expansion's initials (digits ignored): RAG ~ Retrieval-Augmented Generation."""
    letters = re.sub(r"[^A-Za-z]", "", acronym).upper()
    return len(letters) >= 2 and _initials(expansion) == letters


def name_definitions(text: str) -> dict[str, str]:
    """{other name: name} for every second name the text gives a thing: "Zstandard, or zstd as short
    version, ..." -> {"zstd": "Zstandard"}; also "X (also known as Y)", "X, aka Y,"."""
    lower = text.lower()
    if "short" not in lower and "known as" not in lower and "aka" not in lower and "a.k.a" not in lower:
        return {}  # none of the phrasings: skip the patterns (they are the costly part of a chunk)
    plain = strip_markup(text)
    found: dict[str, str] = {}
    for pattern in _NAME_DEFINITIONS:
        for m in pattern.finditer(plain):
            name, other = m.group(1).strip(), m.group(2).strip()
            if name.casefold() != other.casefold():
                found.setdefault(other, name)
    return found


def acronym_definitions(text: str) -> dict[str, str]:
    """{acronym: expansion} for every "Expansion (ACR)" or "ACR (Expansion)" the text writes out."""
    plain = strip_markup(text)
    found: dict[str, str] = {}
    for m in _ACRONYM_AFTER.finditer(plain):
        expansion, acr = m.group(1), m.group(2)
        words = re.split(r"\s+", expansion)
        # The regex may start too early ("Every AX-7 includes Neural Processing Unit"): keep the tail
        # whose initials match.
        for i in range(len(words)):
            tail = " ".join(words[i:])
            if _matches(acr, tail):
                found.setdefault(acr, tail)
                break
    for m in _ACRONYM_BEFORE.finditer(plain):
        acr, expansion = m.group(1), m.group(2)
        if _matches(acr, expansion):
            found.setdefault(acr, expansion)
    return found
