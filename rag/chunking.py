"""Structure-aware chunking with llama-index node parsers.

Each page (PDF) or whole document is split at Markdown headings (`MarkdownNodeParser`), then each
section into chunks of about `chunk_tokens` tokens on sentence boundaries (`SentenceSplitter`). Every
chunk keeps its page number and its section path ("Guide > Install > From source") as metadata; the
text that is embedded and indexed is prefixed with the document title and section path, so a chunk
that says "run make" is still found by a question about installing the product.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rag.readers import ParsedDocument


@dataclass
class Piece:
    text: str
    page: int | None
    heading: str | None


@lru_cache(maxsize=8)
def _parsers(chunk_tokens: int, overlap: int):  # type: ignore[no-untyped-def]
    from llama_index.core.node_parser import MarkdownNodeParser, SentenceSplitter

    return MarkdownNodeParser(), SentenceSplitter(
        chunk_size=chunk_tokens, chunk_overlap=min(overlap, chunk_tokens // 2)
    )


def _heading(header_path: str, text: str) -> str | None:
    parts = [p for p in header_path.strip("/").split("/") if p]
    first = text.lstrip().split("\n", 1)[0]
    if first.startswith("#"):
        parts.append(first.lstrip("#").strip())
    return " > ".join(parts) or None


WINDOW_CHARS = 20_000


def _windows(text: str, limit: int = WINDOW_CHARS) -> list[str]:
    """A long section cut into windows of at most `limit` characters, at a line or sentence end where there
    is one. The sentence splitter's tokenizer (NLTK's punkt) runs its regular expressions over all it is
    given, under NLTK's 5 s time limit: a 9 MB log with no paragraph breaks failed to ingest."""
    out: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(". ", 0, limit) + 1)
        if cut <= limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        out.append(text[:cut])
        text = text[cut:]
    out.append(text)
    return out


def split(doc: ParsedDocument, chunk_tokens: int = 200, overlap: int = 30) -> list[Piece]:
    """The chunks of a parsed document, in reading order, with page and section metadata."""
    from llama_index.core import Document

    markdown, sentences = _parsers(chunk_tokens, overlap)
    pieces: list[Piece] = []
    for page in doc.pages:
        if not page.text.strip():
            continue
        sections = markdown.get_nodes_from_documents([Document(text=page.text)])
        for node in sections:
            text = node.get_content()
            if not text.strip():
                continue
            heading = _heading(node.metadata.get("header_path", "/"), text)
            for part in (p for window in _windows(text) for p in sentences.split_text(window)):
                part = part.strip()
                if part and not (part.startswith("#") and "\n" not in part and len(sections) > 1):
                    pieces.append(Piece(part, page.number, heading))
    return pieces


def index_text(title: str, piece: Piece) -> str:
    """What is embedded and indexed for a chunk: title and section path, then the chunk's text."""
    context = title if not piece.heading else f"{title} > {piece.heading}"
    return f"{context}\n{piece.text}"
