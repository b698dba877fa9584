"""Loading and normalizing images, and every bad input the issue lists: each a clear VisionInputError."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from PIL import Image

from serving.settings import ServingSettings
from tests.vision.imaging import (
    HEIC_HEADER,
    SVG_WITH_SCRIPT,
    animated_gif,
    encoded,
    jpeg_with_exif,
    png_bomb,
    text_image,
)
from vision.errors import ImageTooLarge, InvalidImage, PathNotAllowed, UnsupportedImage, VisionInputError
from vision.images import (
    load_any,
    load_image,
    load_image_base64,
    load_image_bytes,
    normalize,
    sniff_format,
)
from vision.metadata import image_info
from vision.settings import VisionSettings


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def fails(path: Path, error: type[VisionInputError], *needles: str) -> str:
    """Loading `path` raises `error` with a one-line message containing `needles`; the file is untouched."""
    before = path.read_bytes()
    with pytest.raises(error) as info:
        load_image(path, VisionSettings())
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle.lower() in message.lower(), message
    assert path.read_bytes() == before
    return message


# --- good inputs ----------------------------------------------------------------------------------------


def test_png_from_path_bytes_and_base64_agree(tmp_path: Path) -> None:
    data = encoded(text_image(["abc"], size=(320, 200)))
    p = write(tmp_path, "shot.png", data)
    a = load_image(p, VisionSettings())
    b = load_image_bytes(data, "shot.png", VisionSettings())
    c = load_image_base64(base64.b64encode(data).decode(), VisionSettings())
    d = load_image_base64("data:image/png;base64," + base64.b64encode(data).decode(), VisionSettings())
    for img in (a, b, c, d):
        assert (img.format, img.width, img.height, img.frames, img.notes) == ("PNG", 320, 200, 1, [])
    assert a.source == str(p)
    assert list(a.image.getdata()) == list(d.image.getdata())


def test_exif_rotation_rgb_and_downscale() -> None:
    loaded = load_image_bytes(jpeg_with_exif((400, 200), orientation=6), "photo.jpg", VisionSettings())
    assert (loaded.width, loaded.height) == (400, 200)  # as stored
    upright = normalize(loaded, max_side=100)
    assert upright.mode == "RGB"
    assert upright.size == (50, 100)  # rotated to portrait, longer side 100, aspect kept
    # The red band was on the stored left; orientation 6 means "rotate 90° clockwise": it ends on top.
    r, g, b = upright.getpixel((25, 5))
    assert r > 200 and g < 60 and b < 60
    assert normalize(loaded).size == (200, 400)  # no max side: never upscaled or shrunk


def test_transparency_composited_on_white_and_16_bit_scaled() -> None:
    rgba = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert normalize(rgba).getpixel((0, 0)) == (255, 255, 255)
    deep = Image.new("I;16", (4, 4), 65535)
    assert normalize(deep).getpixel((0, 0)) == (255, 255, 255)
    gray = Image.new("L", (4, 4), 100)
    assert normalize(gray).getpixel((0, 0)) == (100, 100, 100)


def test_image_info_hides_gps_unless_asked() -> None:
    loaded = load_image_bytes(jpeg_with_exif(), "photo.jpg", VisionSettings())
    info = image_info(loaded)
    assert (info.format, info.mime, info.mode) == ("JPEG", "image/jpeg", "RGB")
    assert (info.width, info.height, info.upright_width, info.upright_height) == (400, 200, 200, 400)
    assert info.exif["Make"] == "TestCam" and info.exif["Orientation"] == 6
    assert "GPSInfo" not in info.exif and info.has_gps
    assert any("GPS location present" in n for n in info.notes)
    with_gps = image_info(loaded, include_gps=True)
    assert with_gps.exif["GPSInfo"]["GPSLatitude"] == [48.0, 8.0, 30.0]
    assert with_gps.exif["GPSInfo"]["GPSLatitudeRef"] == "N"
    info.model_dump_json()  # JSON-safe


def test_settings_do_not_collide_with_the_vision_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_VISION_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("SPARK_AGENTS_VISION_MODEL", "some-vlm")
    monkeypatch.setenv("SPARK_AGENTS_VISION_MAX_SIDE", "777")
    assert VisionSettings().max_side == 777
    endpoints = ServingSettings()
    assert (endpoints.vision_url, endpoints.vision_model) == ("http://127.0.0.1:9/v1", "some-vlm")


# --- bad inputs -----------------------------------------------------------------------------------------


def test_decompression_bomb_is_refused_from_the_header(tmp_path: Path) -> None:
    p = write(tmp_path, "bomb.png", png_bomb(30_000))
    assert p.stat().st_size < 1_000_000  # tiny on disk, 900 Mpx decoded
    message = fails(p, ImageTooLarge, "900,000,000 pixels", "SPARK_AGENTS_VISION_MAX_PIXELS")
    assert "decompression bomb" in message
    # Under Pillow's own limit, our cap decides, from the header: 10000x10000 = 100 Mpx > 40 Mpx default.
    mid = write(tmp_path, "mid.png", png_bomb(10_000))
    fails(mid, ImageTooLarge, "10000x10000 = 100,000,000 pixels", "40,000,000-pixel limit")
    with pytest.raises(ImageTooLarge, match="200x200"):
        load_image_bytes(encoded(Image.new("RGB", (200, 200))), "x.png", VisionSettings(max_pixels=10_000))


def test_truncated_png(tmp_path: Path) -> None:
    data = encoded(text_image(["truncated"], size=(600, 400)), compress_level=0)
    p = write(tmp_path, "cut.png", data[: len(data) // 2])
    fails(p, InvalidImage, "truncated or corrupt PNG")
    header_only = write(tmp_path, "header.png", data[:20])
    fails(header_only, InvalidImage, "corrupt PNG")


def test_truncated_jpeg(tmp_path: Path) -> None:
    data = encoded(text_image(["truncated"], size=(600, 400)), "JPEG", quality=95)
    p = write(tmp_path, "cut.jpg", data[: len(data) // 2])
    fails(p, InvalidImage, "truncated or corrupt JPEG")


def test_lying_extension_is_read_by_content(tmp_path: Path) -> None:
    p = write(tmp_path, "scan.png", encoded(text_image(["x"], size=(64, 32)), "JPEG"))
    loaded = load_image(p, VisionSettings())
    assert loaded.format == "JPEG" and loaded.mime == "image/jpeg"
    assert any("says .png but the content is JPEG" in n for n in loaded.notes)
    text = write(tmp_path, "notes.jpg", b"just some text, not a picture\n" * 10)
    fails(text, UnsupportedImage, "not a recognised image", "PNG, JPEG")


def test_zero_byte_file(tmp_path: Path) -> None:
    fails(write(tmp_path, "empty.png", b""), InvalidImage, "empty (0 bytes)")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidImage, match="does not exist"):
        load_image(tmp_path / "nope.png", VisionSettings())
    with pytest.raises(InvalidImage, match="not a regular file"):
        load_image(tmp_path, VisionSettings())


def test_50_mb_image_hits_the_size_cap_which_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    noise = Image.frombytes("RGB", (4096, 4096), os.urandom(4096 * 4096 * 3))
    p = write(tmp_path, "huge.png", encoded(noise, compress_level=0))
    assert p.stat().st_size > 50_000_000
    fails(p, ImageTooLarge, "over the 20.0 MB limit", "SPARK_AGENTS_VISION_MAX_BYTES")
    with pytest.raises(ImageTooLarge, match="over the 20.0 MB limit"):  # refused before base64-decoding it
        load_image_base64("A" * 60_000_000, VisionSettings())
    small = write(tmp_path, "small.png", encoded(text_image(["x"], size=(200, 100))))
    assert load_image(small, VisionSettings()).format == "PNG"
    monkeypatch.setenv("SPARK_AGENTS_VISION_MAX_BYTES", "500")
    fails(small, ImageTooLarge, "over the 500 bytes limit")
    monkeypatch.setenv("SPARK_AGENTS_VISION_MAX_BYTES", str(64 * 1024 * 1024))
    assert load_image(p, VisionSettings()).size_bytes == p.stat().st_size  # a raised cap lets the 50 MB image through


def test_animated_gif_uses_the_first_frame_and_says_so(tmp_path: Path) -> None:
    loaded = load_image(write(tmp_path, "anim.gif", animated_gif(("red", "lime", "blue"))), VisionSettings())
    assert loaded.frames == 3 and loaded.animated
    assert loaded.notes == ["animated GIF with 3 frames: only the first frame is used"]
    assert normalize(loaded).getpixel((10, 10)) == (255, 0, 0)
    info = image_info(loaded)
    assert info.frames == 3 and info.animated


def test_heic_is_refused_clearly(tmp_path: Path) -> None:
    assert sniff_format(HEIC_HEADER) == "HEIF"
    fails(write(tmp_path, "IMG_0001.HEIC", HEIC_HEADER), UnsupportedImage, "HEIC/HEIF", "convert it to JPEG")


def test_svg_with_scripts_is_never_rendered(tmp_path: Path) -> None:
    fails(write(tmp_path, "logo.svg", SVG_WITH_SCRIPT), UnsupportedImage, "SVG", "scripts", "export it to PNG")
    fails(write(tmp_path, "innocent.png", SVG_WITH_SCRIPT), UnsupportedImage, "SVG")  # lying extension too


def test_pdf_is_pointed_at_ingestion(tmp_path: Path) -> None:
    fails(write(tmp_path, "scan.png", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), UnsupportedImage, "PDF", "ingest")


@pytest.mark.parametrize("text", ["this is not base64!!!", "iVBORw0KGgo=garbage===", "data:image/png,rawbytes", "   "])
def test_base64_that_is_not_base64(text: str) -> None:
    with pytest.raises(InvalidImage) as info:
        load_image_base64(text, VisionSettings())
    assert "base64" in str(info.value) or "empty" in str(info.value)


def test_base64_of_something_that_is_not_an_image() -> None:
    with pytest.raises(UnsupportedImage, match="not a recognised image"):
        load_image_base64(base64.b64encode(b"hello world, definitely text").decode(), VisionSettings())


def test_exactly_one_source() -> None:
    with pytest.raises(InvalidImage, match="exactly one image"):
        load_any(settings=VisionSettings())
    with pytest.raises(InvalidImage, match="exactly one image"):
        load_any(path="a.png", image_base64="AAAA", settings=VisionSettings())


def test_bmp_webp_tiff_load() -> None:
    img = text_image(["x"], size=(40, 30))
    from PIL import features

    for fmt in ("BMP", "WEBP", "TIFF", "GIF") + (("AVIF",) if features.check("avif") else ()):
        loaded = load_image_bytes(encoded(img, fmt), f"x.{fmt.lower()}", VisionSettings())
        assert loaded.format == fmt and (loaded.width, loaded.height) == (40, 30)


def test_allowed_dirs_confine_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    inside.mkdir()
    outside.mkdir()
    good = write(inside, "a.png", encoded(text_image(["x"], size=(20, 10))))
    secret = write(outside, "b.png", encoded(text_image(["x"], size=(20, 10))))
    (inside / "link.png").symlink_to(secret)
    monkeypatch.setenv("SPARK_AGENTS_VISION_ALLOWED_DIRS", str(inside))
    assert load_image(good, VisionSettings()).format == "PNG"
    for path in (secret, inside / "link.png", inside / ".." / "outside" / "b.png", outside / "missing.png"):
        with pytest.raises(PathNotAllowed, match="outside the folders this server may read"):
            load_image(path, VisionSettings())


def test_multi_page_tiff_uses_the_first_page() -> None:
    import io

    pages = [Image.new("RGB", (30, 20), c) for c in ("white", "black")]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    loaded = load_image_bytes(buf.getvalue(), "scan.tiff", VisionSettings())
    assert loaded.frames == 2 and loaded.notes == ["multi-page TIFF with 2 frames: only the first frame is used"]
    assert normalize(loaded).getpixel((0, 0)) == (255, 255, 255)
