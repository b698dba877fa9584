"""What an image is, without sending it anywhere: format, size, frames and JSON-safe EXIF.

Kept apart from loading (`vision.images`) because it is about reporting, and GPS is personal data:
it is hidden unless asked for.
"""

from __future__ import annotations

from typing import Any

from PIL import ExifTags, Image
from pydantic import BaseModel, Field

from vision.images import DECODE_ERRORS, LoadedImage

_SKIP_TAGS = {ExifTags.Base.ExifOffset, ExifTags.Base.GPSInfo, ExifTags.Base.MakerNote, 0xA005}  # 0xA005: interop


def _clean(value: Any) -> Any:
    """A JSON-safe, bounded form of one EXIF value (camera firmware writes odd bytes and huge blobs)."""
    if isinstance(value, bytes):
        stripped = value.rstrip(b"\x00")
        if len(stripped) <= 64 and all(32 <= b < 127 for b in stripped):
            return stripped.decode("ascii")
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return value.rstrip("\x00").strip()[:500]
    if isinstance(value, tuple | list):
        return [_clean(v) for v in value[:32]]
    if isinstance(value, bool | int):
        return value
    try:
        f = float(value)  # IFDRational and friends
    except (TypeError, ValueError, ZeroDivisionError):
        return str(value)[:200]
    return None if f != f else f  # NaN (0/0 rationals) as null


def exif_data(img: Image.Image, include_gps: bool = False) -> tuple[dict[str, Any], bool]:
    """EXIF as {tag name: JSON-safe value} (base IFD + Exif IFD), and whether GPS data is present.

    GPS is left out unless `include_gps`: a photo's location is personal data.
    """
    try:
        exif = img.getexif()
    except DECODE_ERRORS:
        return {}, False
    out: dict[str, Any] = {}
    has_gps = ExifTags.Base.GPSInfo in exif
    try:
        items = list(exif.items()) + list(exif.get_ifd(ExifTags.IFD.Exif).items())
    except DECODE_ERRORS:
        items = list(exif.items())
    for tag, value in items:
        if tag in _SKIP_TAGS:
            continue
        out[ExifTags.TAGS.get(tag, f"0x{tag:04x}")] = _clean(value)
    if has_gps and include_gps:
        try:
            gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        except DECODE_ERRORS:
            gps = {}
        out["GPSInfo"] = {ExifTags.GPSTAGS.get(k, f"0x{k:04x}"): _clean(v) for k, v in gps.items()}
    return out, has_gps


class ImageInfo(BaseModel):
    """What an image is, without sending it anywhere."""

    source: str
    format: str = Field(description="detected from the content, not the file name")
    mime: str
    size_bytes: int
    width: int = Field(description="as stored")
    height: int = Field(description="as stored")
    upright_width: int = Field(description="after applying the EXIF orientation")
    upright_height: int = Field(description="after applying the EXIF orientation")
    mode: str = Field(description="Pillow mode: RGB, RGBA, L, P, CMYK, ...")
    frames: int
    animated: bool
    exif: dict[str, Any] = Field(description="EXIF tags by name; GPS only when asked for")
    has_gps: bool = Field(description="the image carries a GPS location (shown only with include_gps)")
    notes: list[str] = Field(default_factory=list)


def image_info(img: LoadedImage, include_gps: bool = False) -> ImageInfo:
    """The facts about `img`, with the upright size (EXIF orientations 5-8 swap width and height)."""
    exif, has_gps = exif_data(img.image, include_gps)
    orientation = exif.get("Orientation")
    swapped = orientation in (5, 6, 7, 8)
    notes = list(img.notes)
    if has_gps and not include_gps:
        notes.append("GPS location present but not shown (ask with include_gps to see it)")
    return ImageInfo(
        source=img.source,
        format=img.format,
        mime=img.mime,
        size_bytes=img.size_bytes,
        width=img.width,
        height=img.height,
        upright_width=img.height if swapped else img.width,
        upright_height=img.width if swapped else img.height,
        mode=img.image.mode,
        frames=img.frames,
        animated=img.animated,
        exif=exif,
        has_gps=has_gps,
        notes=notes,
    )
