"""Readers: bytes in, text with structure out. The type comes from the content (magic bytes), not the name.

Which parser and why:
- PDF: `pypdf` (pure Python, per-page text so citations carry page numbers, handles encryption flags);
  pages with no text layer go to OCR (`vision.ocr.ocr_text`) when that module is importable.
- DOCX: `python-docx` (reads paragraph styles, so Word headings become section headings).
- HTML: BeautifulSoup with lxml (tolerant of broken markup; headings kept, scripts and styles dropped).
- Markdown and plain text: read natively (they already are text; headings are kept as `#` lines).
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from rag.errors import DocumentError

if TYPE_CHECKING:
    from vision.settings import VisionSettings

log = logging.getLogger(__name__)

DocType = Literal["pdf", "docx", "html", "markdown", "text"]
SUPPORTED = "PDF, Word (.docx), HTML, Markdown and plain text"

# Signatures of common formats we do not read, for a message that names what the file really is.
_BINARY_MAGIC: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"RIFF", "a RIFF media file (WebP/WAV/AVI)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Office file (.doc/.xls/.ppt); save it as .docx"),
    (b"{\\rtf", "an RTF document; save it as .docx or .txt"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"OggS", "an Ogg media file"),
    (b"ID3", "an MP3 file"),
    (b"%!PS", "a PostScript file"),
]

_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>])", re.I | re.S)
_HTML_TAGS = re.compile(r"<(p|div|h[1-6]|table|body|article|section|ul|ol|li|span|a)[\s>]", re.I)


@dataclass
class Page:
    """Text of one page (PDF) or of the whole document (page None); headings are Markdown `#` lines."""

    text: str
    number: int | None = None


@dataclass
class ParsedDocument:
    doc_type: DocType
    title: str
    pages: list[Page]
    page_count: int | None = None  # None for formats without pages
    notes: list[str] = field(default_factory=list)  # e.g. "decoded as cp1252", "OCR on pages 2-3"
    encoding: str | None = None  # the text encoding of a text/HTML/Markdown file; None for PDF and Word


def detect_type(data: bytes, name: str) -> DocType:
    """The real type of `data`, from its bytes. `name` only breaks the tie between Markdown and text."""
    head = data[:4096]
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
        except zipfile.BadZipFile:
            raise DocumentError(name, "looks like a ZIP file but is corrupt") from None
        if "word/document.xml" in names:
            return "docx"
        if any(n.startswith("xl/") for n in names):
            kind = "an Excel workbook (.xlsx)"
        elif any(n.startswith("ppt/") for n in names):
            kind = "a PowerPoint deck (.pptx)"
        elif "mimetype" in names:
            kind = "an OpenDocument/EPUB file"
        else:
            kind = "a ZIP archive"
        raise DocumentError(name, f"is {kind}, which is not supported; supported: {SUPPORTED}")
    for magic, kind in _BINARY_MAGIC:
        if head.startswith(magic):
            raise DocumentError(name, f"is {kind}, not a document; supported: {SUPPORTED}")
    if _HTML_START.match(head):
        return "html"
    text_head = head.decode("utf-8", errors="ignore")
    suffix = Path(name).suffix.lower()
    if suffix in (".htm", ".html", ".xhtml") and _HTML_TAGS.search(text_head):
        return "html"
    if suffix in (".md", ".markdown", ".mdx", ".rst"):
        return "markdown"
    return "text"


def decode_text(data: bytes, name: str) -> tuple[str, str, str | None]:
    """Text from bytes (see `rag.decoding` for the order of evidence): text, encoding, and a note when it
    was not UTF-8. Binary data is refused with a DocumentError."""
    from rag.decoding import NotText, decode

    try:
        decoded = decode(data)
    except NotText as e:
        reason = str(e)
        raise DocumentError(name, f"{reason}; supported: {SUPPORTED}" if "binary" in reason else reason) from None
    if decoded.note:
        log.info("%s: %s", name, decoded.note)
    return decoded.text, decoded.encoding, decoded.note


def read_document(data: bytes, name: str, ocr: VisionSettings | None = None) -> ParsedDocument:
    """Parse `data` (the bytes of the file called `name`) into text pages. Raises DocumentError."""
    if not data.strip():
        raise DocumentError(name, "is empty (no text to index)")
    doc_type = detect_type(data, name)
    stem = Path(name).stem or name
    if doc_type == "pdf":
        doc = _read_pdf(data, name, stem, ocr)
    elif doc_type == "docx":
        doc = _read_docx(data, name, stem)
    elif doc_type == "html":
        text, encoding, note = decode_text(data, name)
        doc = _read_html(text, stem)
        doc.encoding = encoding
        if note:
            doc.notes.append(note)
    else:
        text, encoding, note = decode_text(data, name)
        title = stem
        if doc_type == "markdown":
            m = re.search(r"^#\s+(.+)$", text, re.M)
            title = m.group(1).strip() if m else stem
        doc = ParsedDocument(doc_type, title, [Page(_clean(text))], encoding=encoding)
        if note:
            doc.notes.append(note)
    if not any(p.text.strip() for p in doc.pages):
        raise DocumentError(name, f"has no text to index (a {doc_type} file with no words in it)")
    return doc


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r"\n[ \t]+", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _read_pdf(data: bytes, name: str, stem: str, ocr: VisionSettings | None) -> ParsedDocument:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = bool(reader.decrypt(""))
            except Exception:  # noqa: BLE001 - any failure here means we cannot open it
                ok = False
            if not ok:
                raise DocumentError(
                    name, "is an encrypted PDF that needs a password; save an unencrypted copy and ingest that"
                )
        n_pages = len(reader.pages)
    except DocumentError:
        raise
    except FileNotDecryptedError:
        raise DocumentError(name, "is an encrypted PDF that needs a password; save an unencrypted copy") from None
    except (PdfReadError, Exception) as e:  # noqa: BLE001 - pypdf raises many types on broken files
        raise DocumentError(name, f"is a corrupt PDF that cannot be read ({type(e).__name__}: {e})") from None
    if n_pages == 0:
        raise DocumentError(name, "is a PDF with no pages")
    title = stem
    try:
        meta_title = reader.metadata.title if reader.metadata else None
        if meta_title and str(meta_title).strip():
            title = str(meta_title).strip()
    except Exception:  # noqa: BLE001 - broken metadata is not worth failing the document
        pass
    pages: list[Page] = []
    empty: list[int] = []
    for i, page in enumerate(reader.pages, start=1):
        try:
            text = page.extract_text() or ""
        except Exception as e:  # noqa: BLE001
            raise DocumentError(name, f"is a corrupt PDF: page {i} cannot be read ({type(e).__name__})") from None
        text = _clean(text)
        if not text:
            empty.append(i)
        pages.append(Page(text, i))
    doc = ParsedDocument("pdf", title, pages, page_count=n_pages)
    if empty:
        _ocr_pages(reader, pages, empty, name, doc, ocr)
    return doc


def _ocr_pages(
    reader: object, pages: list[Page], empty: list[int], name: str, doc: ParsedDocument, ocr: VisionSettings | None
) -> None:
    all_empty = len(empty) == len(pages)
    if ocr is None:
        if all_empty:
            raise DocumentError(name, "is a PDF with no text layer (a scan?) and OCR is turned off; skipped")
        doc.notes.append(f"pages {_ranges(empty)} have no text layer (OCR off)")
        return
    try:
        from vision.ocr import ocr_text
    except Exception as e:  # noqa: BLE001 - ImportError or a broken optional dependency
        if all_empty:
            raise DocumentError(
                name,
                f"is a PDF with no text layer (a scan?) and OCR is not available ({type(e).__name__}: {e}); skipped",
            ) from None
        doc.notes.append(f"pages {_ranges(empty)} have no text layer and OCR is not available")
        return
    done = []
    for number in empty:
        page = reader.pages[number - 1]  # type: ignore[attr-defined]
        texts = []
        try:
            images = list(page.images)
        except Exception:  # noqa: BLE001
            images = []
        for img in images:
            try:
                texts.append(ocr_text(img.image, ocr))
            except Exception as e:  # noqa: BLE001 - one bad image should not sink the page
                log.warning("%s page %d: OCR failed on an image: %s", name, number, e)
        text = _clean("\n".join(t for t in texts if t))
        if text:
            pages[number - 1].text = text
            done.append(number)
    if done:
        doc.notes.append(f"OCR on pages {_ranges(done)}")
    if not done and all_empty:
        raise DocumentError(name, "is a PDF with no text layer, and OCR found no text in it; skipped")


def _ranges(numbers: list[int]) -> str:
    out: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:] + [None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


def _read_docx(data: bytes, name: str, stem: str) -> ParsedDocument:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - python-docx raises KeyError, ValueError, XML errors...
        raise DocumentError(name, f"is a corrupt Word file ({type(e).__name__}); re-save it as .docx") from None
    lines: list[str] = []
    first_heading = None
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells = [c.text.strip() for c in row.cells]
                if any(cells):
                    lines.append(" | ".join(cells))
            lines.append("")
            continue
        text = block.text.strip()
        if not text:
            continue
        style = (block.style.name if block.style is not None else "") or ""
        m = re.match(r"Heading (\d)", style)
        if m or style == "Title":
            level = int(m.group(1)) if m else 1
            lines.append(f"\n{'#' * min(level, 6)} {text}\n")
            first_heading = first_heading or text
        else:
            lines.append(text + "\n")
    title = (document.core_properties.title or "").strip() or first_heading or stem
    return ParsedDocument("docx", title, [Page(_clean("\n".join(lines)))])


_BLOCKS = ["p", "div", "br", "tr", "li", "pre", "blockquote", "section", "article", "table", "dd", "dt", "ul", "ol"]


def _read_html(text: str, stem: str) -> ParsedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "lxml")
    for tag in soup(["script", "style", "noscript", "template", "svg"]):
        tag.decompose()
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    for tag in soup.find_all("a", class_="headerlink"):  # Sphinx's ¶ permalinks
        tag.decompose()
    for table in soup.find_all("table"):  # as Markdown rows: cells stay apart, and the graph reads the rows
        rows: list[str] = []
        for tr in table.find_all("tr"):
            cells = [c.get_text(" ", strip=True).replace("|", "/") for c in tr.find_all(["th", "td"])]
            if cells:
                rows.append("| " + " | ".join(cells) + " |")
                if len(rows) == 1 and tr.find("th"):
                    rows.append("|" + "---|" * len(cells))
        table.replace_with(f"\n\n{chr(10).join(rows)}\n\n")
    first_h1 = None
    for h in soup.find_all(re.compile(r"^h[1-6]$")):
        heading = h.get_text(" ", strip=True)
        first_h1 = first_h1 or (heading if h.name == "h1" else None)
        h.replace_with(f"\n\n{'#' * int(h.name[1])} {heading}\n\n")
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    body = soup.body or soup
    if soup.head is not None:
        soup.head.decompose()
    out = _clean(body.get_text())
    return ParsedDocument("html", title or first_h1 or stem, [Page(out)])
