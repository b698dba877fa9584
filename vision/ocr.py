"""Offline OCR with RapidOCR (PaddleOCR's PP-OCRv4 models run by onnxruntime, shipped inside the wheel).

The engine is created once per process, on first use, and shared (calls are serialized: onnxruntime
already uses every core for one image). Entry points:

- `ocr_text(image, settings) -> str`: the text in reading order (lines top to bottom, boxes on one line left to right).
- `ocr_image(image, settings) -> OcrResult`: the same text plus each detected box with its confidence.
"""

from __future__ import annotations

import threading
import time
from importlib import metadata
from typing import Any

from PIL import Image
from pydantic import BaseModel, Field

from vision.errors import ImageTooLarge, InvalidImage
from vision.images import to_rgb
from vision.settings import VisionSettings

_engines: dict[tuple[int, int], Any] = {}
_lock = threading.Lock()


class OcrLine(BaseModel):
    """One detected text box."""

    text: str
    confidence: float = Field(ge=0.0, le=1.0)
    box: list[tuple[int, int]] = Field(description="4 corners (x, y) in pixels, clockwise from top-left")


class OcrResult(BaseModel):
    text: str = Field(description="all text in reading order, one visual line per line")
    lines: list[OcrLine] = Field(description="every detected box, in reading order")
    width: int
    height: int
    engine: str
    elapsed_ms: float


def engine_name() -> str:
    try:
        version = metadata.version("rapidocr-onnxruntime")
    except metadata.PackageNotFoundError:  # pragma: no cover - it is a dependency
        version = "?"
    return f"rapidocr-onnxruntime {version} (PP-OCRv4)"


def _engine(settings: VisionSettings) -> Any:
    key = (settings.ocr_det_side, settings.ocr_threads)
    engine = _engines.get(key)
    if engine is None:
        from rapidocr_onnxruntime import RapidOCR  # heavy (onnxruntime, OpenCV): only when OCR is used

        engine = RapidOCR(
            det_limit_type="max",  # the default ("min", 736) upscales wide images 4x and is ~6x slower
            det_limit_side_len=settings.ocr_det_side,
            intra_op_num_threads=settings.ocr_threads,
        )
        _engines[key] = engine
    return engine


def warm_up(settings: VisionSettings) -> None:
    """Load the OCR models now (about a second) instead of on the first request."""
    with _lock:
        _engine(settings)


def ocr_image(image: Image.Image, settings: VisionSettings) -> OcrResult:
    """Read the text in `image` (any mode; used as given, so apply EXIF rotation first if it matters)."""
    import numpy as np

    if not isinstance(image, Image.Image):
        raise InvalidImage(f"OCR needs a PIL image, not {type(image).__name__}.")
    w, h = image.size
    if w * h > settings.max_pixels:
        raise ImageTooLarge(
            f"Image of {w}x{h} pixels is over the {settings.max_pixels:,}-pixel OCR limit; downscale it or raise "
            "SPARK_AGENTS_VISION_MAX_PIXELS."
        )
    if w < 2 or h < 2:
        return OcrResult(text="", lines=[], width=w, height=h, engine=engine_name(), elapsed_ms=0.0)
    bgr = np.ascontiguousarray(np.asarray(to_rgb(image))[:, :, ::-1])
    start = time.perf_counter()
    with _lock:
        raw, _ = _engine(settings)(bgr)
    elapsed = (time.perf_counter() - start) * 1000
    boxes = []
    for box, text, score in raw or []:
        text = str(text).strip()
        if text and float(score) >= settings.ocr_min_confidence:
            corners = [(round(float(x)), round(float(y))) for x, y in box]
            boxes.append(OcrLine(text=text, confidence=round(float(score), 4), box=corners))
    rows = _reading_order(boxes)
    ordered = [b for row in rows for b in row]
    text = "\n".join(" ".join(b.text for b in row) for row in rows)
    return OcrResult(text=text, lines=ordered, width=w, height=h, engine=engine_name(), elapsed_ms=round(elapsed, 1))


def ocr_text(image: Image.Image, settings: VisionSettings) -> str:
    """The text in `image`, in reading order ("" when there is none). For RAG: pages without a text layer."""
    return ocr_image(image, settings).text


def _reading_order(boxes: list[OcrLine]) -> list[list[OcrLine]]:
    """Group boxes into visual lines (vertical centres within half a box height), each sorted left to right."""

    def top(b: OcrLine) -> float:
        return min(y for _, y in b.box)

    def bottom(b: OcrLine) -> float:
        return max(y for _, y in b.box)

    def left(b: OcrLine) -> float:
        return min(x for x, _ in b.box)

    rows: list[list[OcrLine]] = []
    for b in sorted(boxes, key=lambda b: (top(b) + bottom(b)) / 2):
        centre, height = (top(b) + bottom(b)) / 2, max(1.0, bottom(b) - top(b))
        if rows:
            row = rows[-1]
            r_top, r_bottom = min(top(x) for x in row), max(bottom(x) for x in row)
            r_centre, r_height = (r_top + r_bottom) / 2, max(1.0, r_bottom - r_top)
            if abs(centre - r_centre) <= 0.5 * min(height, r_height):
                row.append(b)
                continue
        rows.append([b])
    return [sorted(row, key=left) for row in rows]
