"""Variants of one name, the conservative rules: what may be dropped from a name without changing what it names.

Documents call one product "Acme Widget Pro" in the title and "Widget Pro" in the body, add a qualifier in
parentheses ("Foo-70B (two boxes)"), or write "Widget-Pro" for "Widget Pro". Each rule here says when two
surfaces are one entity, and stays silent when they might not be: a vendor prefix is dropped only when what
is left is itself a proper name ("Widget Pro", "Ryzen 9"), not a common word ("Watch"), so two products that
share a word stay apart. `kg.merge.EntityIndex` applies them and records which rule folded a name.
"""

from __future__ import annotations

import re

# Vendors whose names documentation puts in front of product names; any other single word counts as a vendor
# only when the graph knows it as an entity of its own (`EntityIndex` passes those in).
_VENDORS = (
    "nvidia intel amd arm apple google microsoft meta amazon aws ibm qualcomm samsung mediatek broadcom "
    "dell hp hpe lenovo asus acer supermicro cisco oracle redhat canonical debian ubuntu facebook openai "
    "anthropic mistral huggingface docker kubernetes mozilla adobe sony xilinx marvell"
)
KNOWN_VENDORS = frozenset(_VENDORS.split())
_QUALIFIER = re.compile(r"^(?P<head>.*?\S)\s*\((?P<q>[^()]*)\)$")
_COMPACT = re.compile(r"[\s\-_./·]+")
_BETWEEN_DIGITS = re.compile(r"(?<=\d)[\s\-_./·]+(?=\d)")
_EDGE_PUNCT = re.compile(r"^[\s\"'`“”‘’.,;:!?-]+|[\s\"'`“”‘’.,;:!?-]+$")
_CLOSER = {"(": ")", "[": "]", "{": "}"}


def balanced(text: str) -> bool:
    """Every bracket opened is closed, in order."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    for ch in text:
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs and (not stack or stack.pop() != pairs[ch]):
            return False
    return not stack


def name_like(name: str) -> bool:
    """A proper name, not a common word: several words opening with a capital or digit ("Widget Pro"),
    or one word with a digit or an inner capital ("Ryzen9", "HalOS", "AX-7")."""
    words = name.split()
    if not words or not (words[0][:1].isupper() or words[0][:1].isdigit()):
        return False
    if len(words) >= 2:
        return all(w[:1].isupper() or w[:1].isdigit() or not w[:1].isalpha() for w in words)
    w = words[0]
    return bool(re.search(r"\d", w) or re.search(r"[a-z][A-Z]", w) or (len(w) >= 2 and w.isupper()))


def strip_qualifier(name: str) -> str | None:
    """The name without a trailing qualifier in parentheses ("Foo-70B (two boxes)" -> "Foo-70B"), or None
    when there is none to drop: a value ("150 mm (W)"), a call ("f()"), or a head that is no name."""
    m = _QUALIFIER.match(name.strip())
    if not m or not m.group("q").strip() or len(m.group("q").split()) > 6:
        return None
    head = m.group("head").strip(" ,;:-")
    if not head or head[:1].isdigit() or head[:1] in "~≈<>±+-" or not balanced(head):
        return None
    return head if any(ch.isupper() or ch.isdigit() for ch in head) else None


def compact(key: str) -> str:
    """A canonical key without spaces and inner punctuation: "widget-pro", "widget pro" and "widget.pro" agree;
    numbers keep their separators ("1.5 kg" is not "15 kg", "zstd 1.5.1" is not "zstd 15.1")."""
    return _COMPACT.sub("", _BETWEEN_DIGITS.sub(":", key))


def vendor_split(name: str, known: frozenset[str] | set[str] = frozenset()) -> tuple[str, str] | None:
    """(vendor, product) when `name` is a vendor's name in front of a product's proper name
    ("NVIDIA DGX Spark" -> ("NVIDIA", "DGX Spark")), else None. A vendor is a known one or, given in `known`
    (casefolded), an entity the graph has by itself."""
    words = name.split()
    if len(words) < 2:
        return None
    vendor, product = words[0], " ".join(words[1:])
    v = vendor.casefold().strip(",.")
    if v not in KNOWN_VENDORS and v not in known:
        return None
    if not vendor[:1].isupper() or not name_like(product):
        return None
    if len(words) == 2 and not (re.search(r"\d", product) or re.search(r"[a-z][A-Z]|^[A-Z0-9-]{2,}$", product)):
        return None  # "Apple Watch" / "Watch": one plain word left is a common noun, not the product's name
    return vendor, product


def trim_edges(name: str) -> str:
    """Edge punctuation off; an edge bracket goes only when nothing inside closes or opens it, or it encloses
    the whole name ("(NPU)" -> "NPU"; "20 cores (10 big + 10 little)" keeps its parenthesis)."""
    while True:
        before = name
        name = _EDGE_PUNCT.sub("", name)
        if name[:1] in _CLOSER and name[-1:] == _CLOSER[name[0]] and balanced(name[1:-1]):
            name = name[1:-1]  # "(NPU)"
        elif name[:1] in ")]}" or (name[:1] in _CLOSER and not balanced(name)):
            name = name[1:]  # a closer first, or an opener nothing closes
        elif name[-1:] in _CLOSER or (name[-1:] in ")]}" and not balanced(name)):
            name = name[:-1]  # an opener last, or a closer nothing opened
        if name == before:
            return name
