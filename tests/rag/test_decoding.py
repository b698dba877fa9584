"""Text decoding never corrupts: each case from the issue, with the exact text that is indexed."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.decoding import NotText, decode
from rag.display import safe
from rag.library import Library
from rag.models import citation

WESTERN = "Café naïve résumé. Crème brûlée: « très bien », 20 € — voilà.\n"
GERMAN = "Größe und Maße: Die Straße ist 1,8 km lang; Übergänge für Fußgänger.\n"
RUSSIAN = "Съешь же ещё этих мягких французских булок, да выпей чаю. Широкая электрификация южных губерний.\n"
GREEK = "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Η γρήγορη καφέ αλεπού πηδά πάνω από το τεμπέλικο σκυλί.\n"


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [
        (WESTERN, "latin-1", None),  # without "€" and "—", which Latin-1 lacks
        (WESTERN, "cp1252", "cp1252"),
        (GERMAN, "latin-1", "cp1252"),  # Latin-1's printable range is the same in cp1252
        (GERMAN, "cp1252", "cp1252"),
        (RUSSIAN, "cp1251", "cp1251"),
        (RUSSIAN, "koi8-r", "koi8-r"),
        (GREEK, "cp1253", "cp1253"),
    ],
)
def test_legacy_code_pages_decode_to_the_exact_text(text: str, codec: str, expected: str | None) -> None:
    if expected is None:
        text = text.replace("€", "EUR").replace("—", "-")  # neither is in Latin-1
        expected = "cp1252"
    decoded = decode(text.encode(codec))
    assert decoded.text == text
    assert decoded.encoding == expected


def test_the_latin1_sample_from_the_issue_is_not_cp775() -> None:
    decoded = decode("Café naïve résumé".encode("latin-1"))
    assert decoded.text == "Café naïve résumé"
    assert decoded.encoding == "cp1252"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_and_utf32_without_a_bom(codec: str) -> None:
    decoded = decode(GERMAN.encode(codec))
    assert decoded.text == GERMAN
    assert (decoded.encoding, decoded.bom) == (codec, False)


@pytest.mark.parametrize(("codec", "name"), [("utf-16", "utf-16-le"), ("utf-32", "utf-32-le"), ("utf-8-sig", "utf-8")])
def test_with_a_bom(codec: str, name: str) -> None:
    decoded = decode(RUSSIAN.encode(codec))
    assert decoded.text == RUSSIAN and decoded.encoding == name and decoded.bom


def test_utf8_wins_and_binary_is_refused() -> None:
    assert decode(RUSSIAN.encode("utf-8")).encoding == "utf-8"
    assert decode(WESTERN.encode("utf-8")).note is None
    with pytest.raises(NotText, match="binary"):
        decode(b"\x00\x01\x02\x03\xff\xfe\x80" * 200 + bytes(range(256)) * 4)


def test_ingestion_indexes_the_exact_text_and_records_the_encoding(lib: Library, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "latin1.txt").write_bytes(GERMAN.encode("latin-1"))
    (docs / "utf16.txt").write_bytes(WESTERN.encode("utf-16-le"))
    (docs / "russian.txt").write_bytes(RUSSIAN.encode("cp1251"))
    (docs / "plain.md").write_text("# Plain\n\n" + WESTERN, encoding="utf-8")
    report = lib.ingest([docs])
    assert not report.skipped, report.skipped
    by_name = {Path(s.path).name: s for s in lib.sources()}
    assert {n: s.encoding for n, s in by_name.items()} == {
        "latin1.txt": "cp1252",
        "utf16.txt": "utf-16-le",
        "russian.txt": "cp1251",
        "plain.md": "utf-8",
    }
    assert by_name["plain.md"].notes == []
    assert by_name["utf16.txt"].notes == ["not UTF-8: decoded as utf-16-le (by its byte pattern)"]
    texts = {n: "\n".join(c.text for c in lib.chunks(s.id)) for n, s in by_name.items()}
    assert texts["latin1.txt"] == GERMAN.strip()
    assert texts["utf16.txt"] == WESTERN.strip()
    assert texts["russian.txt"] == RUSSIAN.strip()
    assert lib.search("Fußgänger Übergänge", k=1)[0].path.endswith("latin1.txt")


def test_bidi_and_invisible_characters_are_escaped_where_names_are_shown(lib: Library, tmp_path: Path) -> None:
    name = "invoice\u202etxt.exe"  # displays as "invoiceexe.txt" when printed raw
    (tmp_path / name).write_text("The invoice total is 420 euros, due in March.\n", encoding="utf-8")
    report = lib.ingest([tmp_path])
    source = report.added[0]
    assert source.path.endswith(name)  # stored exactly
    hit = lib.search("invoice total", k=1)[0]
    assert "\u202e" not in hit.citation and "invoice\\u202etxt.exe" in hit.citation
    assert safe("a\u200bb\u2066c\u2069\ufeff") == "a\\u200bb\\u2066c\\u2069\\ufeff"
    assert safe("Größe ✓ 東京") == "Größe ✓ 東京"  # visible non-ASCII stays as it is
    assert citation("T\u202eitle", "/x/y.md", None, "Sec\u200ftion") == "T\\u202eitle (y.md), § Sec\\u200ftion"
