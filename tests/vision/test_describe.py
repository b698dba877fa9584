"""describe_images against the scripted OpenAI-compatible server: the exact multimodal payload, and errors."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from core.daemon import free_port
from tests.support.scripted_server import Reply, ScriptedServer, text
from tests.vision.imaging import animated_gif, encoded, jpeg_with_exif, text_image
from vision.describe import describe_images
from vision.errors import VisionInputError, VisionModelError, VisionModelUnavailable
from vision.images import load_image_bytes
from vision.settings import VisionSettings


@pytest.fixture
def vision_role(scripted: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    monkeypatch.setenv("SPARK_AGENTS_VISION_URL", scripted.url)
    monkeypatch.setenv("SPARK_AGENTS_VISION_MODEL", "qwen2.5-vl-test")
    return scripted


def decode_data_url(url: str) -> tuple[str, Image.Image]:
    header, b64 = url.split(",", 1)
    assert header.startswith("data:") and header.endswith(";base64")
    return header[5:-7], Image.open(io.BytesIO(base64.b64decode(b64, validate=True)))


def test_one_screenshot_payload(vision_role: ScriptedServer) -> None:
    vision_role.script(text("A terminal window showing a build log."))
    shot = load_image_bytes(encoded(text_image(["make all"], size=(3000, 1500))), "shot.png", VisionSettings())
    result = describe_images([shot], "What is on the screen?", VisionSettings())

    assert result.answer == "A terminal window showing a build log."
    assert result.model == "qwen2.5-vl-test"
    (request,) = vision_role.chat_requests
    assert request["model"] == "qwen2.5-vl-test"
    assert request["max_tokens"] == 1024 and request["temperature"] == 0
    assert not request.get("stream")
    (message,) = request["messages"]
    assert message["role"] == "user"
    image_part, text_part = message["content"]
    assert text_part == {"type": "text", "text": "What is on the screen?"}
    assert image_part["type"] == "image_url" and set(image_part["image_url"]) == {"url"}
    mime, sent = decode_data_url(image_part["image_url"]["url"])
    assert mime == "image/png"  # lossless source: lossless on the wire
    assert sent.format == "PNG" and sent.mode == "RGB"
    assert sent.size == (1536, 768)  # downscaled to the max side, aspect kept
    assert [(i.width, i.height, i.original_width, i.mime) for i in result.images] == [(1536, 768, 3000, "image/png")]


def test_several_images_rotated_and_max_side_configurable(
    vision_role: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPARK_AGENTS_VISION_MAX_SIDE", "300")
    vision_role.script(text("The photo is portrait; the GIF is red."))
    photo = load_image_bytes(jpeg_with_exif((1200, 600), orientation=6), "photo.jpg", VisionSettings())
    gif = load_image_bytes(animated_gif(("red", "blue")), "anim.gif", VisionSettings())
    result = describe_images([photo, gif], "Compare them.", VisionSettings())

    parts = vision_role.chat_requests[0]["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["image_url", "image_url", "text"]
    mime1, img1 = decode_data_url(parts[0]["image_url"]["url"])
    mime2, img2 = decode_data_url(parts[1]["image_url"]["url"])
    assert (mime1, img1.format, img1.size) == ("image/jpeg", "JPEG", (150, 300))  # EXIF rotation applied
    assert (mime2, img2.format, img2.size) == ("image/png", "PNG", (64, 48))  # small: not upscaled
    assert img2.convert("RGB").getpixel((5, 5)) == (255, 0, 0)  # first frame only
    assert result.notes == ["anim.gif: animated GIF with 2 frames: only the first frame is used"]


def test_local_profile_has_no_vision_role() -> None:
    shot = load_image_bytes(encoded(text_image(["x"], size=(50, 20))), "shot.png", VisionSettings())
    with pytest.raises(VisionModelUnavailable) as info:
        describe_images([shot], "What is this?", VisionSettings())
    message = str(info.value)
    assert "vision" in message and "not configured" in message
    assert "extract_text" in message and "image_info" in message and "SPARK_AGENTS_VISION_URL" in message


def test_vision_server_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_VISION_URL", f"http://127.0.0.1:{free_port()}/v1")
    shot = load_image_bytes(encoded(text_image(["x"], size=(50, 20))), "shot.png", VisionSettings())
    with pytest.raises(VisionModelUnavailable, match=r"vision model server is unavailable .*connection failed"):
        describe_images([shot], "What is this?", VisionSettings())


@pytest.mark.parametrize(("fault", "needle"), [("http_500", "HTTP 500"), ("garbage", "unexpected answer")])
def test_vision_server_errors(vision_role: ScriptedServer, fault: str, needle: str) -> None:
    vision_role.script(Reply(fault=fault))  # type: ignore[arg-type]
    shot = load_image_bytes(encoded(text_image(["x"], size=(50, 20))), "shot.png", VisionSettings())
    with pytest.raises(VisionModelError) as info:
        describe_images([shot], "What is this?", VisionSettings())
    assert needle in str(info.value) and "extract_text" in str(info.value)


def test_empty_answer_is_an_error(vision_role: ScriptedServer) -> None:
    vision_role.script(text(""))
    shot = load_image_bytes(encoded(text_image(["x"], size=(50, 20))), "shot.png", VisionSettings())
    with pytest.raises(VisionModelError, match="empty answer"):
        describe_images([shot], "What is this?", VisionSettings())


def test_request_checks(vision_role: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    shot = load_image_bytes(encoded(text_image(["x"], size=(50, 20))), "shot.png", VisionSettings())
    with pytest.raises(VisionInputError, match="Ask a question"):
        describe_images([shot], "  ", VisionSettings())
    with pytest.raises(VisionInputError, match="at least one image"):
        describe_images([], "What?", VisionSettings())
    monkeypatch.setenv("SPARK_AGENTS_VISION_MAX_IMAGES", "2")
    with pytest.raises(VisionInputError, match="more than the 2 allowed"):
        describe_images([shot] * 3, "What?", VisionSettings())
    assert vision_role.chat_requests == []  # nothing was sent
