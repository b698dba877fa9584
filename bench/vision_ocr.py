"""OCR latency and accuracy per image type, for the engine settings we ship and RapidOCR's defaults.

`python -m bench vision_ocr`. Images are rendered with Pillow (DejaVu Sans when installed), so the
ground truth is known; accuracy is difflib's character ratio between the OCR text and the truth.
"""

from __future__ import annotations

import difflib
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from PIL import Image, ImageDraw, ImageFont

WORDS = [
    "spark",
    "agents",
    "vision",
    "model",
    "server",
    "memory",
    "budget",
    "retrieval",
    "citation",
    "graph",
    "entity",
    "invoice",
    "total",
    "quarter",
    "revenue",
    "report",
    "meeting",
    "April",
    "March",
    "cluster",
    "node",
    "latency",
    "token",
    "context",
    "window",
]


def _font(size: int) -> Any:
    path = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    return ImageFont.truetype(path, size) if os.path.exists(path) else ImageFont.load_default(size=size)


def _lines(n: int, words: int, seed: int) -> list[str]:
    out = []
    for i in range(n):
        picked = [WORDS[(seed * 7 + i * 5 + j * 3) % len(WORDS)] for j in range(words)]
        out.append(" ".join(picked).capitalize() + f" {seed + i * 13}")
    return out


def _render(size: tuple[int, int], lines: list[str], font_size: int, mode: str = "RGB") -> Image.Image:
    img = Image.new(mode, size, "white")
    draw = ImageDraw.Draw(img)
    f = _font(font_size)
    for i, line in enumerate(lines):
        draw.text((int(size[0] * 0.06), int(size[1] * 0.05) + i * int(font_size * 1.8)), line, fill="black", font=f)
    return img


def cases() -> list[tuple[str, Image.Image, list[str]]]:
    label = ["Invoice 4711 total 42.50"]
    shot = _lines(14, 6, 3)
    page = _lines(28, 7, 11)
    photo = _lines(10, 4, 5)
    return [
        ("label 600x120", _render((600, 120), label, 40), label),
        ("screenshot 1280x800", _render((1280, 800), shot, 22), shot),
        ("scanned A4 page 150 dpi 1240x1754", _render((1240, 1754), page, 26, "L"), page),
        ("photo-size 4000x3000, large text", _render((4000, 3000), photo, 110), photo),
    ]


def _run(engine: Any, image: Image.Image) -> str:
    import numpy as np

    from vision.images import to_rgb
    from vision.ocr import OcrLine, _reading_order

    raw, _ = engine(np.ascontiguousarray(np.asarray(to_rgb(image))[:, :, ::-1]))
    boxes = [
        OcrLine(text=str(t).strip(), confidence=float(s), box=[(round(x), round(y)) for x, y in b])
        for b, t, s in raw or []
        if str(t).strip() and float(s) >= 0.5
    ]
    return "\n".join(" ".join(b.text for b in row) for row in _reading_order(boxes))


def _time(fn: Callable[[], str], runs: int) -> tuple[float, float, str]:
    """Median wall ms, median process CPU ms (all threads; steadier on a shared machine), last output."""
    wall, cpu, out = [], [], ""
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu), out


def main() -> None:
    from rapidocr_onnxruntime import RapidOCR

    from vision.ocr import engine_name

    runs = int(os.environ.get("BENCH_RUNS", "2"))
    configs: list[tuple[str, dict[str, Any]]] = [
        ("shipped (det max side 1280)", {"det_limit_type": "max", "det_limit_side_len": 1280}),
        ("RapidOCR default (det min side 736)", {}),
    ]
    load = os.getloadavg()[0]
    print(f"engine: {engine_name()}; {os.cpu_count()} CPUs, load {load:.1f}; median of {runs} warm runs\n")
    print("| configuration | image | lines | chars | char accuracy | wall ms | CPU ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, kwargs in configs:
        start = time.perf_counter()
        engine = RapidOCR(**kwargs)
        load_ms = (time.perf_counter() - start) * 1000
        for label, image, truth in cases():
            _run(engine, image)  # warm-up (first run allocates)
            ms, cpu, got = _time(lambda engine=engine, image=image: _run(engine, image), runs)
            expected = "\n".join(truth)
            accuracy = difflib.SequenceMatcher(None, got, expected).ratio()
            row = f"| {name} | {label} | {len(truth)} | {len(expected)} | {accuracy:.3f} | {ms:.0f} | {cpu:.0f} |"
            print(row, flush=True)
        print(f"| {name} | (engine load) | | | | {load_ms:.0f} | |", flush=True)


if __name__ == "__main__":
    main()
