"""Helpers the pages share: where uploads go, safe file names, and turning failures into banners."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from agents.capabilities import CAPABILITIES
from core.errors import SparkAgentsError
from core.files import atomic_write
from serving.settings import ServingSettings

log = logging.getLogger(__name__)
T = TypeVar("T")

IMAGE_TYPES = ["png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff"]
DOCUMENT_TYPES = ["pdf", "md", "markdown", "txt", "text", "rst", "html", "htm", "docx", "csv", "json"]
AGENT_LABELS = {"auto": "Auto (the supervisor decides)"} | {c.name: c.label for c in CAPABILITIES.values()}


class UploadRejected(SparkAgentsError):
    """An uploaded file cannot be used (wrong type, empty)."""


def uploads_dir(kind: str) -> Path:
    """`<data dir>/uploads/<kind>`, created on demand."""
    path = ServingSettings().home / "uploads" / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_image(name: str, data: bytes) -> Path:
    """Store an attached image under a generated name (the uploaded name is never used as a path)."""
    ext = Path(name).suffix.lower().lstrip(".")
    if ext not in IMAGE_TYPES:
        raise UploadRejected(f"{safe_name(name)!r} is not an image this app accepts ({', '.join(IMAGE_TYPES)}).")
    if not data:
        raise UploadRejected(f"{safe_name(name)!r} is empty.")
    path = uploads_dir("images") / f"{uuid.uuid4().hex}.{ext}"
    atomic_write(path, data, fsync=False)
    return path


def safe_name(name: str, default: str = "document") -> str:
    """The upload's base name, reduced to letters, digits and `._-() ` (no separators, no leading dot)."""
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[^\w.\-() ]+", "_", base).strip(" .")
    if len(base) > 120:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 110 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else base[:120]
    return base or default


def save_document(name: str, data: bytes) -> Path:
    """Store an uploaded document as `uploads/documents/<generated id>/<sanitised name>`.

    The directory is generated, so two uploads never collide and a name cannot escape the folder; the
    base name is kept (sanitised) because it becomes the source's title and citation.
    """
    folder = uploads_dir("documents") / uuid.uuid4().hex
    folder.mkdir()
    path = folder / safe_name(name)
    atomic_write(path, data, fsync=False)
    return path


def guarded(what: str, fn: Callable[[], T]) -> T | None:
    """Run `fn`; a project error becomes an `st.error` banner, anything else a banner naming the bug."""
    try:
        return fn()
    except SparkAgentsError as e:
        st.error(f"{what}: {e}", icon="⚠️")
    except Exception as e:  # noqa: BLE001 - shown to the user and logged with its traceback
        log.exception("%s failed", what)
        st.error(f"{what} failed unexpectedly ({type(e).__name__}: {e}). The server log has the details.", icon="🐞")
    return None


def unavailable(feature: str, error: BaseException, hint: str) -> None:
    """A page whose library is missing or broken says so instead of crashing."""
    st.warning(f"{feature} unavailable: {type(error).__name__}: {error}. {hint}", icon="🚧")


def session_default(key: str, factory: Callable[[], Any]) -> Any:
    if key not in st.session_state:
        st.session_state[key] = factory()
    return st.session_state[key]
