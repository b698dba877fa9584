"""Bytes to text without silent corruption: which encoding a text file is in, and why we think so.

Order of evidence, strongest first:
1. a byte-order mark (UTF-8, UTF-16, UTF-32);
2. the NUL pattern of UTF-16/32 without a BOM (ASCII-range text in UTF-16LE has a NUL in every odd byte);
3. strict UTF-8 (random legacy bytes almost never form valid UTF-8);
4. Windows-1252 (a superset of Latin-1's printable range) when the decoded text looks like Western
   prose: few non-ASCII letters, inside words of ASCII letters. charset-normalizer alone ranks rare
   code pages too high on short texts ("Café" came out as cp775 "Cafķ");
5. otherwise the most plausible of charset-normalizer's guesses and the common legacy code pages
   (Cyrillic, Greek, Central European, CJK...): letters of one script with natural casing; else
   Latin-1 when the result has no control characters; else the file is refused.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass

log = logging.getLogger(__name__)

_BOMS: tuple[tuple[bytes, str, str], ...] = (  # longest first: UTF-32LE's BOM starts with UTF-16LE's
    (b"\xef\xbb\xbf", "utf-8-sig", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32", "utf-32-be"),
    (b"\xff\xfe", "utf-16", "utf-16-le"),
    (b"\xfe\xff", "utf-16", "utf-16-be"),
)
# Non-ASCII characters Western prose uses besides letters: typographic quotes, dashes, currency, symbols.
_WESTERN_PUNCT = set("‘’‚“”„–—…•€£¥¢©®™°±×÷§¶·«»¿¡ ")


class NotText(ValueError):
    """The bytes are binary data or no encoding we know fits them; the message says which."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # the codec's canonical name: utf-8, utf-16-le, cp1252, cp1251...
    bom: bool = False
    guessed: bool = False  # chosen by heuristics rather than by a BOM or strict UTF-8

    @property
    def note(self) -> str | None:
        """What `sources list` and the ingestion report say about a text that is not plain UTF-8."""
        if self.encoding == "utf-8":
            return None
        how = "with a byte-order mark" if self.bom else ("by its byte pattern" if not self.guessed else "guessed")
        return f"not UTF-8: decoded as {self.encoding} ({how})"


def decode(data: bytes) -> Decoded:
    """The text of `data` and the encoding it was decoded with; NotText for binary data."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(codec), name, bom=True)
            except UnicodeDecodeError:
                raise NotText(f"starts with a {name} byte-order mark but is not valid {name}") from None
    wide = _wide_unicode(data)
    if wide is not None:
        return wide
    if b"\x00" in data[:8192]:
        raise NotText("is binary data, not text")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    western = _western(data)
    if western is not None:
        return western
    guessed = _legacy(data)
    if guessed is not None:
        return guessed
    latin = data.decode("latin-1")
    if _controls(latin) <= 0.01 * min(len(latin), 10000):
        return Decoded(latin, "latin-1", guessed=True)
    raise NotText("is neither UTF-8 nor any text encoding we can recognise; convert it to UTF-8")


def _wide_unicode(data: bytes) -> Decoded | None:
    """UTF-32 or UTF-16 without a BOM, recognised by where the NUL bytes fall."""
    head = data[:8192]
    if len(head) < 8:
        return None
    for width, codecs in ((4, ("utf-32-le", "utf-32-be")), (2, ("utf-16-le", "utf-16-be"))):
        usable = len(head) - len(head) % width
        if usable < width * 4:
            continue
        units = usable // width
        zeros = [sum(1 for i in range(pos, usable, width) if head[i] == 0) for pos in range(width)]
        if width == 4:  # LE: bytes 1-3 of each unit NUL for text below U+0100; BE: bytes 0-2
            candidates = [
                (codecs[0], min(zeros[1:]) / units, zeros[0] / units),
                (codecs[1], min(zeros[:3]) / units, zeros[3] / units),
            ]
        else:
            candidates = [
                (codecs[0], zeros[1] / units, zeros[0] / units),
                (codecs[1], zeros[0] / units, zeros[1] / units),
            ]
        for codec, high_nul, low_nul in candidates:
            if high_nul < 0.3 or low_nul > 0.1:
                continue
            cut = len(data) - len(data) % width
            try:
                text = data[:cut].decode(codec)
            except UnicodeDecodeError:
                continue
            if _controls(text) <= 0.01 * min(len(text), 10000):
                return Decoded(text, codec)
    return None


def _western(data: bytes) -> Decoded | None:
    """Windows-1252 (or Latin-1 where cp1252 leaves a byte undefined) when the result reads as Western text."""
    try:
        text, codec = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, codec = data.decode("latin-1"), "latin-1"
    high = [c for c in text if ord(c) > 127]
    if not high:
        return None
    letters = sum(1 for c in text if c.isalpha())
    high_letters = [c for c in high if c.isalpha()]
    plausible = sum(1 for c in high if c.isalpha() or c in _WESTERN_PUNCT)
    if plausible < 0.95 * len(high) or len(high_letters) > 0.3 * max(1, letters):
        return None  # e.g. Cyrillic in cp1251 reads as runs of "Ðóññêèé": letters, but words of nothing else
    if not _inside_words(text):
        return None
    if _controls(text) > 0.01 * min(len(text), 10000):
        return None
    return Decoded(text, codec, guessed=True)


def _inside_words(text: str) -> bool:
    """Most non-ASCII letters sit next to an ASCII letter, as accents do in French, German, Spanish..."""
    total = inside = 0
    for i, c in enumerate(text):
        if ord(c) > 127 and c.isalpha():
            total += 1
            before = text[i - 1] if i else ""
            after = text[i + 1] if i + 1 < len(text) else ""
            if (before.isascii() and before.isalpha()) or (after.isascii() and after.isalpha()):
                inside += 1
    return total == 0 or inside >= 0.6 * total


# Single-byte code pages tried besides charset-normalizer's guesses: it ranks KOI8-R below Shift_JIS.
_LEGACY = ("cp1251", "koi8-r", "cp1253", "cp1250", "cp1254", "cp1257", "cp1255", "cp1256", "iso8859-5")


def _legacy(data: bytes) -> Decoded | None:
    """The most plausible reading among charset-normalizer's guesses and the common legacy code pages:
    letters of one script, no case flips inside words (KOI8-R read as cp1251 gives "уНЕЬЭ")."""
    from charset_normalizer import from_bytes

    guesses = [m.encoding for m in from_bytes(data)]
    best: tuple[float, str, str] | None = None
    for rank, codec in enumerate(dict.fromkeys([*guesses, *_LEGACY])):
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        if _controls(text) > 0.01 * min(len(text), 10000):
            continue
        score = _plausibility(text) - 0.001 * rank  # on a tie, charset-normalizer's order
        if best is None or score > best[0]:
            best = (score, codec, text)
    if best is None or best[0] < 0.8:
        return None
    name = best[1].replace("_", "-")
    log.info("decoded as %s (plausibility %.2f)", name, best[0])
    return Decoded(best[2], name, guessed=True)


def _plausibility(text: str) -> float:
    """1.0 for non-ASCII letters all of one script with natural casing; less for mixed scripts and case flips."""
    scripts: dict[str, int] = {}
    for c in text[:20000]:
        if ord(c) > 127 and c.isalpha():
            script = _script(c)
            scripts[script] = scripts.get(script, 0) + 1
    total = sum(scripts.values())
    if not total:
        return 0.0
    dominant, count = max(scripts.items(), key=lambda kv: kv[1])
    purity = 0.0 if dominant == "HALFWIDTH" else count / total
    words = text[:20000].split()
    flips = sum(1 for w in words if any(a.islower() and b.isupper() for a, b in zip(w, w[1:], strict=False)))
    return purity - 2 * flips / max(1, len(words))


def _script(c: str) -> str:
    first = unicodedata.name(c, "UNKNOWN").split(" ", 1)[0]
    return "CJK" if first in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL") else first


def _controls(text: str) -> int:
    return sum(1 for c in text[:10000] if unicodedata.category(c) == "Cc" and c not in "\n\r\t\f")
