"""Real test documents built on the fly: PDFs with a text layer, scanned PDFs, encrypted PDFs, DOCX, HTML."""

from __future__ import annotations

import io
from pathlib import Path


def _pdf_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A minimal but valid PDF with one text layer per page (Helvetica, one line per input line)."""
    objects: list[bytes] = []
    n_pages = len(pages)
    # 1: catalog, 2: pages, 3: font, then per page: page object, content stream
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, text in enumerate(pages):
        lines = text.split("\n")
        ops = ["BT", "/F1 11 Tf", "14 TL", "50 780 Td"]
        for line in lines:
            ops.append(f"({_pdf_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    info_ref = b""
    if title:
        objects.append(f"<< /Title ({_pdf_escape(title)}) >>".encode())
        info_ref = f" /Info {len(objects)} 0 R".encode()
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for num, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{num} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R".encode() + info_ref + b" >>\n")
    out.write(f"startxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def encrypted_pdf(pages: list[str], password: str = "s3cret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(pages))))
    writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def scanned_pdf(text: str) -> bytes:
    """A PDF whose only page is an image of `text` (no text layer), as a scanner would produce."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (900, 260), "white")
    draw = ImageDraw.Draw(img)
    try:
        font = ImageFont.load_default(size=44)
    except TypeError:  # pragma: no cover - old Pillow
        font = ImageFont.load_default()
    draw.text((30, 90), text, fill="black", font=font)
    buf = io.BytesIO()
    img.save(buf, format="PDF", resolution=100)
    return buf.getvalue()


def docx_bytes(title: str, sections: list[tuple[str, str]]) -> bytes:
    import docx

    d = docx.Document()
    d.add_heading(title, level=1)
    for heading, body in sections:
        d.add_heading(heading, level=2)
        d.add_paragraph(body)
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Part", "Torque"
    table.cell(1, 0).text, table.cell(1, 1).text = "wheel nut", "120 Nm"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


HTML = """<!DOCTYPE html>
<html><head><title>Espresso guide</title><style>body {color: red}</style></head>
<body><nav>Home | About</nav>
<h1>Espresso guide</h1>
<h2>Grind</h2><p>Grind the beans fine, about like table salt, just before brewing.</p>
<h2>Extraction</h2><p>Pull a double shot of 36 grams in 25 to 30 seconds at 9 bar.</p>
<script>console.log("never index this")</script>
</body></html>
"""

MARKDOWN = """# Greenhouse handbook

Notes for the community greenhouse.

## Watering

Water tomatoes deeply twice a week; the soil should dry to 3 cm between waterings.

## Pests

Aphids are controlled with ladybirds released in early June.
"""


def mixed_folder(root: Path) -> Path:
    """A folder of mixed documents, one of each supported type, with facts the tests search for."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "greenhouse.md").write_text(MARKDOWN, encoding="utf-8")
    (root / "espresso.html").write_text(HTML, encoding="utf-8")
    (root / "notes.txt").write_text(
        "The Zephyr-9 telescope mirror is 2.4 metres wide and made of ULE glass.\n", encoding="utf-8"
    )
    (root / "manual.pdf").write_bytes(
        text_pdf(
            [
                "Bicycle maintenance manual\nChapter 1: Chains\nOil the chain every 300 km with dry lube.",
                "Chapter 2: Brakes\nReplace the brake pads when they are thinner than 1.5 mm.",
            ],
            title="Bicycle maintenance manual",
        )
    )
    sub = root / "sub dir"
    sub.mkdir(exist_ok=True)
    (sub / "car.docx").write_bytes(
        docx_bytes(
            "Car service notes",
            [("Tyres", "Rotate the tyres every 10000 km."), ("Oil", "Change the engine oil every 15000 km.")],
        )
    )
    return root
