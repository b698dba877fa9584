"""Entity merging: one node per real-world entity.

A surface name is first made canonical (`kg.canon.canonical_name`: markup, a leading instruction verb, a
lowercase article removed — "Use DGX Spark" is "DGX Spark"), then folded by a canonical key (Unicode NFKC,
case, whitespace, leading articles, possessives and edge punctuation), by user aliases, by the names and
acronyms a document defines ("Retrieval-Augmented Generation (RAG)": "RAG" is the expansion), by inner
punctuation ("Widget-Pro" / "Widget Pro"), by a trailing qualifier in parentheses ("Foo-70B (two boxes)" /
"Foo-70B"), by a vendor prefix ("NVIDIA DGX Spark" / "DGX Spark"; `kg.names` says when these are safe), by
initials ("IBM" and "International Business Machines") and by near-duplicate spelling (difflib ratio >=
threshold). Every change to a surface form is recorded, with the rule that made it.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections import defaultdict

from pydantic import BaseModel

from kg.canon import canonical_name
from kg.names import compact, strip_qualifier, trim_edges, vendor_split

_ARTICLES = re.compile(r"^(the|a|an)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(?:'s|’s)$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
# Names spelled exactly ("JCS_EXT_RGB" / "JCS_EXT_RGBA", "RGB" / "RGBA"): one letter apart is another thing.
_IDENTIFIER = re.compile(r"_|\b[A-Z]{2,}[a-z]?\b|[a-z][A-Z]")
_ACRONYM_STOP = {"of", "and", "the", "for", "in", "on", "at", "&"}


@functools.lru_cache(maxsize=1 << 16)
def clean_surface(name: str) -> str:
    """The display form: NFKC, collapsed whitespace, edge punctuation trimmed (case kept)."""
    name = unicodedata.normalize("NFKC", name)
    name = _SPACES.sub(" ", name)
    return trim_edges(name)


@functools.lru_cache(maxsize=1 << 16)
def canonical_key(name: str) -> str:
    """The identity of a name: two names with the same key are the same entity."""
    name = clean_surface(name).casefold()
    name = _POSSESSIVE.sub("", name)
    name = _ARTICLES.sub("", name)
    return trim_edges(name)


def acronym(name: str) -> str | None:
    """Initials of a multi-word name ("International Business Machines" -> "ibm"), else None."""
    words = [w for w in re.split(r"[\s-]+", canonical_key(name)) if w and w not in _ACRONYM_STOP]
    return "".join(w[0] for w in words) if len(words) >= 2 else None


class MergeRecord(BaseModel):
    """One fold of a surface form into an existing node."""

    surface: str
    into: str
    # markup | imperative | article | case-whitespace | punctuation | qualifier | vendor-prefix | alias |
    # defined-name | defined-acronym | acronym | near-duplicate
    # (a canonical-name rule and a fold together: "imperative, case-whitespace")
    reason: str
    score: float = 1.0


class EntityIndex:
    """Maps surface names to node ids; grows as names are added."""

    def __init__(
        self,
        aliases: dict[str, str] | None = None,
        threshold: float = 0.92,
        definitions: dict[str, str] | None = None,
    ) -> None:
        self.threshold = threshold
        # acronym -> expansion, as documents define them ("Neural Processing Unit (NPU)")
        self.definitions = {canonical_key(k): v for k, v in (definitions or {}).items()}
        self.by_key: dict[str, str] = {}
        self.by_acronym: dict[str, str] = {}
        # Keys below are compact (`kg.names.compact`: no spaces or inner punctuation).
        self.by_compact: dict[str, str] = {}  # any name -> node
        self.by_head: dict[str, str] = {}  # a name without its trailing qualifier -> node
        # a product's name -> the node named "<vendor> <product>" ("" when two vendors' products share it)
        self.by_product: dict[str, str] = {}
        self.words: set[str] = set()  # one-word names (casefolded): they may be vendors ("Acme" of "Acme Widget Pro")
        # (first two characters, length) -> [(key, its digits)]: the near-duplicate search's candidates
        self.blocks: dict[tuple[str, int], list[tuple[str, str]]] = defaultdict(list)
        self.aliases = {canonical_key(k): v for k, v in (aliases or {}).items()}

    def add_node(self, node_id: str, names: list[str]) -> None:
        for n in [node_id, *names]:
            self._index(canonical_key(n), node_id, n)
        acr = acronym(node_id)
        if acr and len(acr) >= 2:
            self.by_acronym.setdefault(acr, node_id)

    def _index(self, key: str, node_id: str, surface: str | None = None) -> None:
        if key and key not in self.by_key:
            self.by_key[key] = node_id
            self.blocks[(key[:2], len(key))].append((key, _digits(key)))
            if " " not in key:
                self.words.add(key)
        if key and len(compact(key)) >= 3:
            self.by_compact.setdefault(compact(key), node_id)
        if surface:
            head = strip_qualifier(clean_surface(surface))
            if head:
                self.by_head.setdefault(compact(canonical_key(head)), node_id)
            split = vendor_split(clean_surface(surface), self.words)
            if split:
                product = compact(canonical_key(split[1]))
                if self.by_product.setdefault(product, node_id) != node_id:
                    self.by_product[product] = ""  # two vendors' "X": the bare "X" names neither

    def _variant(self, name: str, key: str) -> tuple[str | None, str]:
        """The node a variant of `name` names (punctuation, qualifier, vendor prefix), and the rule."""
        c = compact(key)
        if len(c) >= 3 and c in self.by_compact:
            return self.by_compact[c], "punctuation"
        surface = clean_surface(name)
        head = strip_qualifier(surface)
        if head:
            hk = compact(canonical_key(head))
            node = self.by_compact.get(hk) or self.by_head.get(hk)
            if node:
                return node, "qualifier"
        if self.by_head.get(c):
            return self.by_head[c], "qualifier"
        split = vendor_split(surface, self.words)
        if split and compact(canonical_key(split[1])) in self.by_compact:
            return self.by_compact[compact(canonical_key(split[1]))], "vendor-prefix"
        if self.by_product.get(c):
            return self.by_product[c], "vendor-prefix"
        return None, ""

    def lookup(self, name: str, fuzzy: bool = True) -> tuple[str | None, str, float]:
        """(node id or None, reason, score) for a surface name, without changing the index; `fuzzy=False`
        leaves out initials and near-duplicate spelling (for phrases cut from a question)."""
        key = canonical_key(name)
        if not key:
            return None, "", 0.0
        if key in self.aliases:
            target = self.by_key.get(canonical_key(self.aliases[key]))
            return (target or clean_surface(self.aliases[key])), "alias", 1.0
        if key in self.definitions:
            target = self.by_key.get(canonical_key(self.definitions[key]))
            kind = "defined-acronym" if clean_surface(name).replace(".", "").isupper() else "defined-name"
            return (target or clean_surface(self.definitions[key])), kind, 1.0
        if key in self.by_key:
            return self.by_key[key], "case-whitespace", 1.0
        node, rule = self._variant(name, key)
        if node is not None:
            return node, rule, 1.0
        if not fuzzy:
            return None, "", 0.0
        compact = key.replace(".", "").replace(" ", "")
        if compact.isalpha() and 2 <= len(compact) <= 6 and clean_surface(name).replace(".", "").isupper():
            hit = self.by_acronym.get(compact)
            if hit:
                return hit, "acronym", 1.0
        acr = acronym(name)
        if acr and acr in self.by_key and clean_surface(self.by_key[acr]).replace(".", "").isupper():
            return self.by_key[acr], "acronym", 1.0
        if len(key) >= 5 and not _IDENTIFIER.search(clean_surface(name)):
            best, best_score = None, 0.0
            digits = _digits(key)
            matcher = difflib.SequenceMatcher(None, autojunk=False)
            matcher.set_seq2(key)  # difflib caches what it learns about seq2 across candidates
            tol = max(2, len(key) // 8)
            for length in range(len(key) - tol, len(key) + tol + 1):
                for other, other_digits in self.blocks.get((key[:2], length), ()):
                    if other_digits != digits:
                        continue
                    matcher.set_seq1(other)
                    if matcher.real_quick_ratio() < self.threshold or matcher.quick_ratio() < self.threshold:
                        continue
                    score = matcher.ratio()
                    if score > best_score:
                        best, best_score = other, score
            if best is not None and best_score >= self.threshold:
                return self.by_key[best], "near-duplicate", round(best_score, 3)
        return None, "", 0.0

    def resolve(self, name: str) -> tuple[str, MergeRecord | None]:
        """The node id for `name` (creating the identity when new) and the merge record, if any fold."""
        surface = clean_surface(name)
        canon, rule = canonical_name(surface)
        if not canon:
            canon, rule = surface, None
        node, reason, score = self.lookup(canon)
        if node is None:
            node, reason = canon, ""
            self.add_node(node, [])
        else:
            self._index(canonical_key(node), node, node)
            self._index(canonical_key(canon), node, canon)
        self._index(canonical_key(surface), node, surface)
        if surface == node:
            return node, None
        if canon == node:  # only the canonical-name rule changed it
            reason, score = rule or reason, 1.0
        elif rule:
            reason = f"{rule}, {reason}"
        return node, MergeRecord(surface=surface, into=node, reason=reason or "case-whitespace", score=score)


def _digits(s: str) -> str:
    """Names differing in numbers are different entities ("GPT-3" vs "GPT-4", "1.5 kg" vs "15 kg")."""
    return "|".join(re.findall(r"\d+(?:[.,]\d+)*", s))
