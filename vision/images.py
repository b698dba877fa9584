"""Load images safely from a path, bytes or base64, and normalize them for the VLM and OCR.

Metadata (EXIF, `image_info`) lives in `vision.metadata`; this module only reads, decodes and encodes.

Safety first: the format is detected from the bytes (never the file name), only raster formats on an
allow-list are decoded, the byte size is capped before reading, and the pixel count is checked from the
header before any pixel is decoded, so a decompression bomb is a clear `ImageTooLarge`, not a MemoryError.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import struct
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from PIL import Image, ImageOps, features

from vision.errors import ImageTooLarge, InvalidImage, PathNotAllowed, UnsupportedImage
from vision.settings import VisionSettings

MIME = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "AVIF": "image/avif",
}
LOSSLESS = {"PNG", "GIF", "BMP", "TIFF"}
EXTENSIONS = {
    "PNG": {".png"},
    "JPEG": {".jpg", ".jpeg", ".jpe", ".jfif"},
    "GIF": {".gif"},
    "WEBP": {".webp"},
    "BMP": {".bmp", ".dib"},
    "TIFF": {".tif", ".tiff"},
    "AVIF": {".avif"},
}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w=.+-]+)*;base64,", re.IGNORECASE)
# What a broken file can make Pillow raise while decoding (shared with vision.metadata).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError, TypeError)


def supported_formats() -> list[str]:
    """The raster formats decoded here (AVIF only when this Pillow build has it)."""
    return [f for f in MIME if f != "AVIF" or features.check("avif")]


def sniff_format(data: bytes) -> str | None:
    """The format the bytes really are, from their magic numbers; None when unrecognised.

    Returns a Pillow format name for rasters, or "HEIF", "SVG", "PDF", "XML", "HTML" for things we refuse.
    """
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:2] == b"BM" and len(data) > 26:
        return "BMP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[4:8] == b"ftyp":
        box_len = int.from_bytes(head[:4], "big")
        brands = {data[8:12]} | {data[i : i + 4] for i in range(16, min(box_len, 256), 4)}
        if brands & _AVIF_BRANDS:
            return "AVIF"
        if brands & _HEIF_BRANDS:
            return "HEIF"
        return None
    if head.startswith(b"%PDF"):
        return "PDF"
    text = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<"):
        if b"<svg" in text:
            return "SVG"
        return "HTML" if b"<html" in text or b"<!doctype html" in text else "XML"
    return None


def _unsupported(fmt: str | None, label: str) -> UnsupportedImage:
    allowed = ", ".join(supported_formats())
    reasons = {
        "HEIF": "is HEIC/HEIF, which is not decoded here (no HEIF decoder installed); convert it to JPEG or PNG",
        "AVIF": "is AVIF, which this Pillow build cannot decode; convert it to PNG or JPEG",
        "SVG": "is SVG, a vector document that can carry scripts and external references; it is not rendered "
        "here: export it to PNG",
        "PDF": "is a PDF, not an image; ingest it as a document (pages without a text layer are OCRed there)",
        "HTML": "is HTML, not an image",
        "XML": "is XML, not an image",
    }
    reason = reasons.get(fmt or "", "is not a recognised image")
    return UnsupportedImage(f"Image {label} {reason} (supported: {allowed}).")


@dataclass
class LoadedImage:
    """A decoded, validated image: `image` is its first frame, loaded, as stored (not yet normalized)."""

    image: Image.Image
    format: str
    size_bytes: int
    source: str
    frames: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def mime(self) -> str:
        return MIME[self.format]

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    @property
    def animated(self) -> bool:
        return self.frames > 1


# --- reading the bytes ----------------------------------------------------------------------------------


def read_path(path: str | Path, settings: VisionSettings) -> bytes:
    """The file's bytes, refusing disallowed, missing, non-regular, empty and over-cap files before reading."""
    p = Path(path).expanduser()
    roots = settings.allowed_roots()
    if roots is not None:  # checked first, so nothing is revealed about files outside the roots
        real = p.resolve()
        if not any(real.is_relative_to(root) for root in roots):
            raise PathNotAllowed(
                f"Image {p} is outside the folders this server may read ({os.pathsep.join(map(str, roots))}); "
                "move it there or change SPARK_AGENTS_VISION_ALLOWED_DIRS."
            )
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InvalidImage(f"Image {p} does not exist; check the path.") from None
    except OSError as e:
        raise InvalidImage(f"Image {p} cannot be read ({e.strerror or e}).") from None
    if not p.is_file():
        raise InvalidImage(f"Image {p} is not a regular file; give the path of an image file.")
    _check_size(st.st_size, str(p), settings)
    try:
        with p.open("rb") as f:
            data = f.read(settings.max_bytes + 1)  # bounded, even if the file grew since stat
    except OSError as e:
        raise InvalidImage(f"Image {p} cannot be read ({e.strerror or e}).") from None
    _check_size(len(data), str(p), settings)
    return data


def decode_base64(text: str, settings: VisionSettings, label: str = "(base64)") -> bytes:
    """Strict base64 (optionally a `data:image/...;base64,` URL, whitespace allowed) to bytes."""
    if not isinstance(text, str):
        raise InvalidImage(f"Image {label} must be a base64 string.")
    body = text.strip()
    m = _DATA_URL.match(body)
    if m:
        body = body[m.end() :]
    elif body.lower().startswith("data:"):
        raise InvalidImage(f"Image {label} is a data URL without ';base64,'; send the image base64-encoded.")
    # Refuse an over-cap payload before touching it (base64 is 4 characters per 3 bytes; the margin is for
    # line breaks, counted exactly below once they are stripped).
    if len(body) * 3 // 4 > settings.max_bytes * 1.05 + 4096:
        _check_size(len(body) * 3 // 4, label, settings)
    body = re.sub(r"\s+", "", body)
    _check_size(len(body) * 3 // 4, label, settings)
    if not body:
        raise InvalidImage(f"Image {label} is empty (0 bytes); send a non-empty image.")
    try:
        data = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        try:  # URL-safe alphabet is common from browsers and some clients
            if not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", body):
                raise ValueError
            data = base64.urlsafe_b64decode(body)
        except (binascii.Error, ValueError):
            raise InvalidImage(
                f"Image {label} is not valid base64; send the file's bytes base64-encoded (or a path)."
            ) from None
    _check_size(len(data), label, settings)
    return data


def _check_size(size: int, label: str, settings: VisionSettings) -> None:
    if size == 0:
        raise InvalidImage(f"Image {label} is empty (0 bytes); give a real image file.")
    if size > settings.max_bytes:
        raise ImageTooLarge(
            f"Image {label} is {_mb(size)}, over the {_mb(settings.max_bytes)} limit; shrink it or raise "
            "SPARK_AGENTS_VISION_MAX_BYTES."
        )


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"


# --- decoding -------------------------------------------------------------------------------------------


def load_image_bytes(data: bytes, source: str, settings: VisionSettings) -> LoadedImage:
    """Detect the real format, check the caps, decode the first frame; every failure is a VisionInputError."""
    _check_size(len(data), source, settings)
    fmt = sniff_format(data)
    if fmt not in supported_formats():
        raise _unsupported(fmt, source)
    notes: list[str] = []
    suffix = Path(source).suffix.lower() if not source.startswith("(") else ""
    if suffix and suffix not in EXTENSIONS[fmt] and any(suffix in exts for exts in EXTENSIONS.values()):
        notes.append(f"the name says {suffix} but the content is {fmt}; read it as {fmt}")
    with warnings.catch_warnings():
        # Our own pixel cap below decides; Pillow's warning would only be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=[fmt])
        except Image.DecompressionBombError as e:  # over twice Pillow's own limit: refused in the header too
            raise _too_many_pixels(source, None, settings, _why(e)) from None
        except DECODE_ERRORS + (Image.UnidentifiedImageError,) as e:
            raise InvalidImage(f"Image {source} is a corrupt {fmt} ({_why(e)}); re-export or re-download it.") from None
        w, h = img.size
        if w <= 0 or h <= 0:
            raise InvalidImage(f"Image {source} has no pixels ({w}x{h}).")
        if w * h > settings.max_pixels:
            raise _too_many_pixels(source, (w, h), settings)
        try:
            frames = int(getattr(img, "n_frames", 1) or 1)
            if frames > 1:
                img.seek(0)
            img.load()
        except Image.DecompressionBombError:
            raise _too_many_pixels(source, (w, h), settings) from None
        except DECODE_ERRORS as e:
            raise InvalidImage(
                f"Image {source} is a truncated or corrupt {fmt} ({_why(e)}); re-export or re-download it."
            ) from None
        except MemoryError:
            raise _too_many_pixels(source, (w, h), settings) from None
    if frames > 1:
        kind = f"multi-page {fmt}" if fmt == "TIFF" else f"animated {fmt}"
        notes.append(f"{kind} with {frames} frames: only the first frame is used")
    return LoadedImage(image=img, format=fmt, size_bytes=len(data), source=source, frames=frames, notes=notes)


def _why(e: BaseException) -> str:
    return (str(e) or type(e).__name__).splitlines()[0][:160]


def _too_many_pixels(
    source: str, size: tuple[int, int] | None, settings: VisionSettings, pillow_says: str = ""
) -> ImageTooLarge:
    if size:
        dims = f"{size[0]}x{size[1]} = {size[0] * size[1]:,} pixels"
    else:
        m = re.search(r"\((\d+) pixels\)", pillow_says)
        dims = f"{int(m.group(1)):,} pixels" if m else "too many pixels"
    return ImageTooLarge(
        f"Image {source} is {dims}, over the {settings.max_pixels:,}-pixel limit (a decompression bomb or a huge "
        "scan); downscale it or raise SPARK_AGENTS_VISION_MAX_PIXELS."
    )


def load_image(path: str | Path, settings: VisionSettings) -> LoadedImage:
    """Load an image file (format detected from its content, not its extension)."""
    return load_image_bytes(read_path(path, settings), str(Path(path).expanduser()), settings)


def load_image_base64(text: str, settings: VisionSettings, label: str = "(base64)") -> LoadedImage:
    """Load an image from base64 or a `data:` URL."""
    return load_image_bytes(decode_base64(text, settings, label), label, settings)


def load_any(
    path: str | Path | None = None,
    image_base64: str | None = None,
    *,
    settings: VisionSettings,
) -> LoadedImage:
    """Exactly one of `path` or `image_base64`."""
    if (path is None or path == "") == (image_base64 is None or image_base64 == ""):
        raise InvalidImage("Give exactly one image: either a path or image_base64.")
    if path:
        return load_image(path, settings)
    return load_image_base64(image_base64 or "", settings)


# --- normalizing ----------------------------------------------------------------------------------------


def to_rgb(img: Image.Image) -> Image.Image:
    """RGB, with transparency composited on white and 16-bit/float images scaled to 8 bits."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        img = img.point(lambda v: v / 257) if img.mode != "F" else img.point(lambda v: v * 255)
        return img.convert("L").convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def normalize(img: Image.Image | LoadedImage, max_side: int | None = None) -> Image.Image:
    """Upright (EXIF orientation applied), RGB, longer side at most `max_side` (aspect kept; never upscaled)."""
    if isinstance(img, LoadedImage):
        img = img.image
    upright = ImageOps.exif_transpose(img) or img
    rgb = to_rgb(upright)
    if max_side and max(rgb.size) > max_side:
        scale = max_side / max(rgb.size)
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    return rgb


SendFormat = Literal["auto", "png", "jpeg"]


def encode(img: Image.Image, fmt: str = "PNG", jpeg_quality: int = 90) -> bytes:
    """The (normalized) image as PNG or JPEG bytes, ready for `data_url`."""
    buf = io.BytesIO()
    if fmt.upper() == "JPEG":
        img.convert("RGB").save(buf, "JPEG", quality=jpeg_quality, optimize=True)
    else:
        img.save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def send_format_for(source_format: str, choice: SendFormat = "auto") -> str:
    """PNG for lossless sources (screenshots, diagrams keep crisp text), JPEG for photos."""
    if choice == "png":
        return "PNG"
    if choice == "jpeg":
        return "JPEG"
    return "PNG" if source_format in LOSSLESS else "JPEG"


def data_url(data: bytes, fmt: str) -> str:
    """A `data:` URL, the form OpenAI-compatible servers take images in."""
    return f"data:{MIME[fmt.upper()]};base64,{base64.b64encode(data).decode('ascii')}"
