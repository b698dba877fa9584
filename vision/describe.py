"""Ask the vision role's VLM about one or several images (OpenAI-compatible chat, images as data URLs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from serving.errors import ModelServerError, ModelServerUnavailable
from serving.registry import Role, endpoint
from vision.errors import VisionInputError, VisionModelError, VisionModelUnavailable
from vision.images import LoadedImage, data_url, encode, normalize, send_format_for
from vision.settings import VisionSettings


class SentImage(BaseModel):
    """What was actually sent for one image (after EXIF rotation, RGB conversion and downscaling)."""

    source: str
    original_width: int
    original_height: int
    width: int
    height: int
    mime: str
    bytes: int


class Description(BaseModel):
    answer: str
    model: str
    images: list[SentImage]
    notes: list[str] = Field(default_factory=list, description="e.g. animated image: first frame used")


def prepare(images: Sequence[LoadedImage], settings: VisionSettings) -> tuple[list[dict[str, Any]], list[SentImage]]:
    """The `image_url` content parts (normalized, downscaled, encoded) and what each one is."""
    parts: list[dict[str, Any]] = []
    sent: list[SentImage] = []
    for img in images:
        upright = normalize(img, settings.max_side)
        fmt = send_format_for(img.format, settings.send_format)
        data = encode(upright, fmt, settings.jpeg_quality)
        parts.append({"type": "image_url", "image_url": {"url": data_url(data, fmt)}})
        sent.append(
            SentImage(
                source=img.source,
                original_width=img.width,
                original_height=img.height,
                width=upright.width,
                height=upright.height,
                mime=f"image/{fmt.lower()}",
                bytes=len(data),
            )
        )
    return parts, sent


def build_messages(question: str, image_parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One user message: the images first, then the question (the order Qwen2.5-VL is trained on)."""
    return [{"role": "user", "content": [*image_parts, {"type": "text", "text": question}]}]


def describe_images(
    images: Sequence[LoadedImage],
    question: str,
    settings: VisionSettings,
) -> Description:
    """Answer `question` about `images` with the vision role's model.

    Raises VisionModelUnavailable (role not configured, e.g. the local profile, or server down) and
    VisionModelError (the server answered with an error); both name the role and the offline fallbacks.
    """
    question = (question or "").strip()
    if not question:
        raise VisionInputError("Ask a question about the image (for example: 'Describe this image.').")
    if not images:
        raise VisionInputError("Give at least one image to describe.")
    if len(images) > settings.max_images:
        raise VisionInputError(
            f"{len(images)} images is more than the {settings.max_images} allowed in one request; "
            "split them or raise SPARK_AGENTS_VISION_MAX_IMAGES."
        )
    ep = endpoint(Role.VISION, settings.serving)
    if not ep.base_url:
        raise VisionModelUnavailable(None, "the vision role is not configured for the active profile")

    from serving.client import openai_client, translate

    parts, sent = prepare(images, settings)
    messages = build_messages(question, parts)
    try:
        client = openai_client(ep)
        response = client.chat.completions.create(
            model=ep.model,
            messages=messages,  # type: ignore[arg-type]
            max_tokens=settings.describe_max_tokens,
            temperature=settings.describe_temperature,
        )
        if isinstance(response, str) or not getattr(response, "choices", None):
            raise ValueError("no choices in the answer")
        answer = response.choices[0].message.content
    except Exception as e:  # noqa: BLE001 - every failure becomes a vision-role error
        err = translate(ep, e)
        if isinstance(err, ModelServerUnavailable):
            raise VisionModelUnavailable(ep.base_url, err.reason) from e
        if isinstance(err, ModelServerError):
            raise VisionModelError(ep.base_url, err.reason) from e
        raise
    if not answer or not answer.strip():
        raise VisionModelError(ep.base_url, "the model returned an empty answer")
    notes = [f"{img.source}: {note}" for img in images for note in img.notes]
    return Description(answer=answer.strip(), model=ep.model, images=sent, notes=notes)
