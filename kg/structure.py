"""The layout of a chunk: headings, tables, "Key: value" lists, definition lists, and the prose between.

Documents built like spec sheets keep their facts in this layout, not in sentences. The parser reads the
text the RAG readers produce: Markdown as written (pipe tables with a `|---|` rule, `#` headings), DOCX
tables as `cell | cell` lines (first row = header), HTML and DOCX headings as `#` lines. Every block keeps
its character span in the chunk, so facts drawn from it keep true provenance.

`with_context` carries what a chunk cannot see by itself from the chunks before it: the heading path
in force where it starts, and the header of a table it continues.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from kg.markup import strip_markup
from kg.model import Chunk


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_SETEXT = re.compile(r"^[ ]{0,3}(=+|-{3,})[ \t]*$")  # "Title\n=====" (level 1), "Section\n-------" (level 2)
_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_BULLET_PAIR = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+(.+)$")
_DEF_LINE = re.compile(r"^\s*:\s+(.+)$")
_KEY_VALUE = re.compile(r"^([^:]{1,48}?)\s*:\s+(.+)$")
_REF_DEF = re.compile(r"^[ ]{0,3}\[[^\]\n]+\]:\s*\S+")  # "[zlib]: https://www.zlib.net/": markup, not a fact
_NOT_KEYS = {"note", "warning", "tip", "important", "caution", "example", "see", "step", "q", "a", "why", "how"}


@dataclass
class Row:
    cells: list[str]
    start: int
    end: int


@dataclass
class Block:
    """One layout unit with its [start, end) span in the chunk text."""

    kind: Literal["heading", "table", "pairs", "prose"]
    start: int
    end: int
    level: int = 0  # heading level
    text: str = ""  # heading text (markup stripped)
    header: list[str] = field(default_factory=list)  # table header (markup stripped); [] when continued
    rows: list[Row] = field(default_factory=list)  # table rows or key/value pairs ([key, value])


def split_row(line: str) -> list[str]:
    """The raw cells of a pipe-table line (escaped pipes kept inside cells)."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", body)]


def _is_row(line: str) -> bool:
    return "|" in line and len(split_row(line)) >= 2 and not _HEADING.match(line)


def _pair(line: str) -> tuple[str, str] | None:
    """("key", "value") of a "Key: value" list item, markup stripped; None for prose that has a colon."""
    m = _BULLET_PAIR.match(line)
    if m and re.fullmatch(r"\s*(\*\*|__)[^*_\n]+\1\s*(?:<br\s*/?>)?\s*", m.group(1)):
        return None  # "- **libjpeg API: SmartScale**<br>": a named item, its text follows; no key and value
    body = strip_markup(m.group(1) if m else line)
    kv = _KEY_VALUE.match(body)
    if not kv:
        return None
    key, value = kv.group(1).strip(), kv.group(2).strip()
    if not key or key.lower() in _NOT_KEYS or len(key.split()) > 5 or re.search(r"[.!?]", key):
        return None
    if not m and (len(key.split()) > 3 or len(value) > 80 or len(value.split()) > 10 or value.endswith(".")):
        return None  # a plain line (no bullet) counts only when short: "Price: 90 EUR", not a sentence
    return key, value


def _setext_title(line: str, opens: bool) -> bool:
    """Whether a line underlined with `===`/`---` is a heading: a short line that opens its paragraph and
    is not a list item, table row or sentence."""
    body = line.strip()
    return (
        opens
        and bool(body)
        and len(body.split()) <= 12
        and not _BULLET_PAIR.match(line)
        and "|" not in body
        and not body.endswith((".", ",", ";"))
    )


def parse(text: str) -> list[Block]:
    """The blocks of `text` in order; anything not a heading, table or pair list is prose."""
    lines: list[tuple[int, int, str]] = []
    pos = 0
    for raw in text.split("\n"):
        lines.append((pos, pos + len(raw), raw))
        pos += len(raw) + 1
    blocks: list[Block] = []
    prose_start: int | None = None

    def close_prose(end: int) -> None:
        nonlocal prose_start
        if prose_start is not None and text[prose_start:end].strip():
            blocks.append(Block("prose", prose_start, end))
        prose_start = None

    i = 0
    while i < len(lines):
        a, b, line = lines[i]
        h = _HEADING.match(line)
        if h:
            close_prose(a)
            blocks.append(Block("heading", a, b, level=len(h.group(1)), text=strip_markup(h.group(2))))
            i += 1
            continue
        if _REF_DEF.match(line):
            close_prose(a)
            i += 1
            continue
        under = _SETEXT.match(lines[i + 1][2]) if i + 1 < len(lines) else None
        if under and _setext_title(line, i == 0 or not lines[i - 1][2].strip()):
            close_prose(a)
            level = 1 if under.group(1).startswith("=") else 2
            blocks.append(Block("heading", a, lines[i + 1][1], level=level, text=strip_markup(line)))
            i += 2
            continue
        if _is_row(line):
            j = i
            while j < len(lines) and (_is_row(lines[j][2]) or _RULE.match(lines[j][2])):
                j += 1
            table = lines[i:j]
            has_rule = len(table) > 1 and _RULE.match(table[1][2]) is not None
            data = [ln for ln in table if not _RULE.match(ln[2])]
            widths = {len(split_row(ln[2])) for ln in data}
            bare = not line.lstrip().startswith("|")
            if has_rule or (bare and len(data) >= 2 and len(widths) == 1) or (not bare and len(data) >= 1):
                close_prose(a)
                header = [strip_markup(c) for c in split_row(data[0][2])] if has_rule or bare else []
                body = data[1:] if header else data
                rows = [Row(split_row(ln[2]), ln[0], ln[1]) for ln in body]
                blocks.append(Block("table", a, table[-1][1], header=header, rows=rows))
                i = j
                continue
        pairs: list[Row] = []
        j = i
        # A plain "Key: value" line must open its paragraph; a wrapped sentence with a colon must not count.
        opens = i == 0 or not lines[i - 1][2].strip() or _BULLET_PAIR.match(line) is not None
        while opens and j < len(lines):
            la, lb, ln = lines[j]
            nxt = lines[j + 1][2] if j + 1 < len(lines) else ""
            d = _DEF_LINE.match(nxt)
            if ln.strip() and not ln.lstrip().startswith(":") and d and len(ln.split()) <= 6:  # "Term\n: definition"
                pairs.append(Row([strip_markup(ln), strip_markup(d.group(1))], la, lines[j + 1][1]))
                j += 2
                after = j + 2 < len(lines) and _DEF_LINE.match(lines[j + 2][2]) is not None
                if j + 1 < len(lines) and not lines[j][2].strip() and after:
                    j += 1  # a blank line between two definitions
                continue
            kv = _pair(ln) if ln.strip() else None
            if kv is None:
                break
            pairs.append(Row([kv[0], kv[1]], la, lb))
            j += 1
        if pairs:
            close_prose(a)
            blocks.append(Block("pairs", a, pairs[-1].end, rows=pairs))
            i = j
            continue
        if prose_start is None:
            prose_start = a
        i += 1
    close_prose(len(text))
    return blocks


# --- headings as subjects ------------------------------------------------------------------------------------
_GENERIC = _words(
    "system reference specifications specification specs spec sheet datasheet data overview introduction "
    "summary details detail features feature hardware software ports port connectivity requirements "
    "performance user guide manual documentation reference faq notes getting started quick start setup "
    "installation install configuration usage supported models model table tables appendix contents "
    "at a glance and the of for in on with key facts general technical information info about options "
    "power memory storage networking network display audio dimensions physical environmental"
)


_CONNECTORS = _words("of and for de & the von van der")
_QUESTION = _words("how why what when where who which can does do is are should")


def names_entity(heading: str) -> bool:
    """Whether a heading names a thing ("H4 system-on-chip", "DGX Spark") rather than a topic ("Ports")."""
    words = heading.split()
    if not words or all(w.lower().strip(":,") in _GENERIC for w in words):
        return False
    lower = [w for w in words[1:] if w[:1].islower() and w not in _CONNECTORS]
    if len(words) > 6 or len(lower) >= 2 or words[0].lower() in _QUESTION or heading.rstrip().endswith("?"):
        return False  # a title that is a sentence ("How Halcyon came to build the Aurora") names no one thing
    for i, w in enumerate(words):
        core = w.strip("()[],:;")
        if re.search(r"\d", core) or (len(core) >= 2 and core.isupper()):
            return True
        if re.search(r"[a-z][A-Z]", core):  # HalOS, iPhone
            return True
        if i > 0 and core[:1].isupper() and core.lower() not in _GENERIC:
            return True
    return False


def heading_subject(heading: str) -> str | None:
    """The entity a heading names, with trailing topic words cut ("Aurora AX-7 system reference" ->
    "Aurora AX-7"); None for a topic heading."""
    words = strip_markup(heading).split()
    while len(words) > 1 and words[-1].lower().strip(":,") in _GENERIC:
        words.pop()
    name = " ".join(words).strip(" :,")
    return name if name and names_entity(name) else None


def path_subject(path: list[str]) -> str | None:
    """The innermost heading of a path that names an entity."""
    for heading in reversed(path):
        subject = heading_subject(heading)
        if subject:
            return subject
    return None


def split_path(heading: str | None) -> list[str]:
    """A section path "A > B > C" as its headings."""
    return [p.strip() for p in (heading or "").split(" > ") if p.strip()]


def enter_heading(path: list[str], level: int, text: str) -> list[str]:
    """The path after a heading of `level` (1-based): deeper headings nest, shallower ones replace."""
    return [*path[: max(level - 1, 0)], text]


_STOP_SUBJECTS = _words("this that it there here these those which what who each every one some all any")
_DEFINES = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][\w.+/-]*(?:\s+[A-Z0-9][\w.+/-]*){0,4})"
    r"(?:\s*,\s*or\s+[^,]{1,40},)?\s+(?:is|are)\s+(?:a|an|the)\s+\S"
)


def defined_subject(prose: str) -> str | None:
    """The name the opening sentence of a text defines ("libjpeg-turbo is a JPEG image codec" ->
    "libjpeg-turbo"; "Zstandard, or zstd as short version, is a ..." -> "Zstandard"), else None."""
    for sentence in re.split(r"(?<=[.!?])\s+", strip_markup(prose).strip())[:2]:
        m = _DEFINES.match(sentence)
        if m and m.group("name").split()[0].lower() not in _STOP_SUBJECTS:
            return m.group("name")
    return None


def document_subject(text: str, title: str | None = None) -> str | None:
    """What a document is about: its first level-1 heading that names an entity, else its title's entity,
    else the name its opening prose defines."""
    blocks = parse(text)
    for blk in blocks:
        if blk.kind == "heading" and blk.level == 1:
            subject = heading_subject(blk.text)
            if subject:
                return subject
    if title and heading_subject(title):
        return heading_subject(title)
    prose = next((blk for blk in blocks if blk.kind == "prose"), None)
    return defined_subject(text[prose.start : prose.end]) if prose else None


def with_context(chunks: list[Chunk]) -> list[Chunk]:
    """The chunks of one document in order, each with the heading path in force where it starts (kept
    when the chunk already has one, as RAG chunks do), the header of a table it continues, and the
    document's subject (`document_subject` of its first chunk that has one)."""
    out: list[Chunk] = []
    path: list[str] = []
    last_source: str | None = None
    carried: list[str] | None = None
    subject: str | None = None
    for chunk in chunks:
        update: dict[str, object] = {}
        if chunk.source_id != last_source:
            path, carried, last_source = [], None, chunk.source_id
            subject = chunk.subject or document_subject(chunk.text, chunk.title)
        if subject and not chunk.subject:
            update["subject"] = subject
        if chunk.heading:
            path = split_path(chunk.heading)
        elif path:
            update["heading"] = " > ".join(path)
        blocks = parse(chunk.text)
        first_table = next((blk for blk in blocks if blk.kind != "heading"), None)
        if carried and first_table is not None and first_table.kind == "table" and not first_table.header:
            update["table_header"] = carried
        for blk in blocks:
            if blk.kind == "heading":
                path = enter_heading(path, blk.level, blk.text)
        last = blocks[-1] if blocks else None
        if last is not None and last.kind == "table":
            carried = last.header or update.get("table_header") or carried  # type: ignore[assignment]
        else:
            carried = None
        out.append(chunk.model_copy(update=update) if update else chunk)
    return out
