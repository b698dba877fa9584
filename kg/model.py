"""The graph's data: the chunk text comes from and the triple extracted from it, with its provenance.

Extractors produce these and the store, merge and query code consume them; neither side needs the other.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from kg.errors import InvalidTriple
from kg.markup import strip_markup
from kg.merge import clean_surface

EntityType = Literal["PERSON", "ORG", "PLACE", "DATE", "WORK", "CONCEPT", "QUANTITY", "ENTITY"]
# QUANTITY: a measured value with its unit ("204 GB/s", "1.3 kg"), as spec tables state them.
ENTITY_TYPES: tuple[str, ...] = ("PERSON", "ORG", "PLACE", "DATE", "WORK", "CONCEPT", "QUANTITY", "ENTITY")


class Chunk(BaseModel):
    """A piece of text to extract from, with where it came from."""

    text: str
    source_id: str
    chunk_id: str
    title: str | None = None
    page: int | None = None
    # Section path where the chunk starts ("Guide > Install"): the subject of facts stated under a heading.
    heading: str | None = None
    # The header of a table this chunk continues from the previous chunk (its rows arrive without one).
    table_header: list[str] | None = None
    # The document's subject (its title entity, or what its opening sentence defines): what its tables and
    # lists describe when no heading names another entity. Set by `kg.structure.with_context`.
    subject: str | None = None


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

    @classmethod
    def found(
        cls, fact: tuple[str, str, str], types: tuple[str, str], chunk: Any, span: tuple[int, int], extractor: str
    ) -> Triple:
        """A fact found at `span` of `chunk`'s text (a kg Chunk), its evidence that stretch of the text."""
        s, r, o = fact
        return cls(
            subject=s,
            relation=r,
            object=o,
            subject_type=types[0],
            object_type=types[1],
            source_id=chunk.source_id,
            chunk_id=chunk.chunk_id,
            span=span,
            evidence=chunk.text[span[0] : span[1]].strip()[:300],
            extractor=extractor,
        )


def check_triple(t: Triple, max_chars: int) -> Triple:
    """Clean the fields; empty or oversized fields raise InvalidTriple (a sentence is not an entity)."""
    fields = {}
    for name in ("subject", "relation", "object"):
        value = clean_surface(getattr(t, name) or "")
        if name == "relation":
            value = strip_markup(value)  # a label never carries `|`, `**` or backticks
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
