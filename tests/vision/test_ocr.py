"""Offline OCR (RapidOCR, models inside the wheel) on images rendered by Pillow in the test."""

from __future__ import annotations

from PIL import Image, ImageDraw

from tests.vision.imaging import font, text_image
from vision.ocr import ocr_image, ocr_text
from vision.settings import VisionSettings


def test_ocr_reads_rendered_text_in_reading_order() -> None:
    img = text_image(["Hello Spark Agents", "Invoice 4711 total 42.50"])
    result = ocr_image(img, VisionSettings())
    assert result.text.splitlines() == ["Hello Spark Agents", "Invoice 4711 total 42.50"]
    assert ocr_text(img, VisionSettings()) == result.text
    assert (result.width, result.height) == img.size
    assert result.engine.startswith("rapidocr-onnxruntime")
    first = result.lines[0]
    assert first.text == "Hello Spark Agents" and first.confidence > 0.8
    xs, ys = [x for x, _ in first.box], [y for _, y in first.box]
    assert 0 <= min(xs) < 60 and 0 <= min(ys) < 60 and max(ys) < 120  # where we drew it


def test_ocr_of_a_scanned_page_without_text_layer() -> None:
    """What RAG ingestion hands over: a grayscale page at 150 dpi (A4 width, top third) with body-size text."""
    lines = [
        "Quarterly report for the Spark cluster",
        "Revenue grew by 12 percent in March",
        "The board met on 4 April 2025",
        "Contact: ops@example.com",
    ]
    page = Image.new("L", (1240, 620), 255)
    draw = ImageDraw.Draw(page)
    for i, line in enumerate(lines):
        draw.text((120, 150 + i * 60), line, fill=0, font=font(30))
    assert ocr_text(page, VisionSettings()).splitlines() == lines


def test_ocr_of_a_blank_image_is_empty_and_modes_are_accepted() -> None:
    assert ocr_text(Image.new("RGB", (300, 100), "white"), VisionSettings()) == ""
    assert ocr_text(Image.new("L", (1, 1)), VisionSettings()) == ""
    gray = text_image(["Grayscale 123"], size=(600, 130)).convert("L")
    assert ocr_text(gray, VisionSettings()) == "Grayscale 123"
    rgba = text_image(["With alpha"], size=(600, 130)).convert("RGBA")
    assert ocr_text(rgba, VisionSettings()) == "With alpha"


def test_engine_is_loaded_lazily_and_once() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, mcp_servers.vision, vision.ocr as o; "
        "print('rapidocr_onnxruntime' in sys.modules, 'cv2' in sys.modules, 'onnxruntime' in sys.modules, "
        "len(o._engines))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "False", "False", "0"]  # importing the server loads no OCR model

    from vision import ocr

    ocr.ocr_text(Image.new("RGB", (40, 40), "white"), VisionSettings())
    engines = dict(ocr._engines)
    ocr.ocr_text(Image.new("RGB", (40, 40), "white"), VisionSettings())
    assert len(engines) == 1 and ocr._engines == engines  # the same engine object is reused
