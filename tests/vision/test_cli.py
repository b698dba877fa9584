"""The vision commands in a real subprocess (`python -m cli.vision`, the same `register(app)`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.scripted_server import ScriptedServer, text
from tests.vision.imaging import encoded, jpeg_with_exif, text_image


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "cli.vision", "vision", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_ocr_info_and_describe(tmp_path: Path, scripted: ScriptedServer) -> None:
    page = tmp_path / "page.png"
    page.write_bytes(encoded(text_image(["Command line OCR"], size=(700, 130))))
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg_with_exif())

    out = cli("ocr", str(page))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Command line OCR"

    out = cli("info", str(photo))
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["format"] == "JPEG" and info["has_gps"] and "GPSInfo" not in info["exif"]
    assert "GPSInfo" in json.loads(cli("info", str(photo), "--gps").stdout)["exif"]

    scripted.script(text("A page that says Command line OCR."))
    env = {"SPARK_AGENTS_VISION_URL": scripted.url}
    out = cli("describe", str(page), "-q", "What does it say?", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "A page that says Command line OCR."
    assert scripted.chat_requests[0]["messages"][0]["content"][-1]["text"] == "What does it say?"


def test_errors_are_one_line(tmp_path: Path) -> None:
    out = cli("describe", str(tmp_path / "x.png"))
    assert (
        out.returncode == 1
        and out.stderr.strip() == f"error: Image {tmp_path / 'x.png'} does not exist; check the path."
    )
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    out = cli("ocr", str(empty))
    assert out.returncode == 1 and "empty (0 bytes)" in out.stderr and "Traceback" not in out.stderr
    page = tmp_path / "page.png"
    page.write_bytes(encoded(text_image(["x"], size=(60, 30))))
    out = cli("describe", str(page))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "vision model server is unavailable" in out.stderr and "spark-agents vision ocr" in out.stderr
