"""Uploaded files under `<home>/uploads/<kind>/`: generated folders and names, so an upload's name can never
become a path, two uploads never collide, and the sanitised base name survives as a document's title."""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

from core.errors import SparkAgentsError
from core.files import atomic_write

IMAGE_TYPES = ["png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff"]


class UploadRejected(SparkAgentsError):
    """An uploaded file cannot be used (wrong type, empty)."""


def uploads_dir(kind: str, home: Path) -> Path:
    """`<data dir>/uploads/<kind>`, created on demand."""
    path = home / "uploads" / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def safe_name(name: str, default: str = "document") -> str:
    """The upload's base name, reduced to letters, digits and `._-() ` (no separators, no leading dot)."""
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[^\w.\-() ]+", "_", base).strip(" .")
    if len(base) > 120:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 110 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else base[:120]
    return base or default


def save_document(name: str, data: bytes, home: Path) -> Path:
    """Store an uploaded document as `uploads/documents/<generated id>/<sanitised name>`."""
    folder = uploads_dir("documents", home) / uuid.uuid4().hex
    folder.mkdir()
    path = folder / safe_name(name)
    atomic_write(path, data, fsync=False)
    return path


def discard_document(path: Path) -> None:
    """Remove an uploaded document `save_document` stored (its generated folder holds only it)."""
    shutil.rmtree(path.parent, ignore_errors=True)


def save_image(name: str, data: bytes, home: Path) -> Path:
    """Store an attached image under a generated name (the uploaded name is never used as a path)."""
    ext = Path(name).suffix.lower().lstrip(".")
    if ext not in IMAGE_TYPES:
        raise UploadRejected(f"{safe_name(name)!r} is not an image this app accepts ({', '.join(IMAGE_TYPES)}).")
    if not data:
        raise UploadRejected(f"{safe_name(name)!r} is empty.")
    path = uploads_dir("images", home) / f"{uuid.uuid4().hex}.{ext}"
    atomic_write(path, data, fsync=False)
    return path
