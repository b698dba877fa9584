"""The vision MCP server: describe_image (VLM), extract_text (offline OCR), image_info (metadata).

A thin adapter over the `vision` library. Images come as a file path or base64 (a `data:` URL works too).
Its settings are read once as a session opens (the lifespan); the OCR engine is `vision.ocr`'s lazy
per-process cache.
Run: `python -m mcp_servers.vision` (stdio) or `python -m mcp_servers.vision --http [--port 8814]`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import anyio.to_thread
from pydantic import Field

from core.errors import SparkAgentsError
from mcp_servers.base import ServerSettings, SparkMCP
from mcp_servers.common import READS, serve
from mcp_servers.sdk import ToolError
from vision import (
    Description,
    ImageInfo,
    OcrResult,
    VisionSettings,
    describe_images,
    load_any,
    load_image,
    normalize,
    ocr_image,
)
from vision import image_info as read_image_info

SETTINGS = ServerSettings(VisionSettings)
mcp = SparkMCP(
    "vision",
    lifespan=SETTINGS.lifespan,
    instructions=(
        "Tools for images given as a file path or base64. describe_image asks the vision model (VLM) a "
        "question about one or several images. extract_text reads the text in an image offline (OCR) and "
        "image_info reports format, size and EXIF; both work without the VLM, so use them when "
        "describe_image says the vision role is unavailable."
    ),
)

T = TypeVar("T")

PathArg = Annotated[str | None, Field(description="path of an image file on this machine")]
Base64Arg = Annotated[str | None, Field(description="the image bytes, base64-encoded (a data: URL is accepted)")]


async def _run(fn: Callable[[], T]) -> T:
    """Library code off the event loop; its errors reach the client as one-line tool errors (SDK 2.x shows
    only "Error executing tool" for any other exception)."""
    try:
        return await anyio.to_thread.run_sync(fn)
    except SparkAgentsError as e:
        raise ToolError(str(e)) from e


class TextResult(OcrResult):
    source: str
    notes: list[str] = Field(default_factory=list)


@mcp.tool(annotations=READS)
async def describe_image(
    question: Annotated[str, Field(description="what to ask about the image(s)")] = "Describe this image.",
    path: PathArg = None,
    image_base64: Base64Arg = None,
    more_paths: Annotated[
        list[str] | None, Field(description="further image paths, sent together with the first (compare, etc.)")
    ] = None,
) -> Description:
    """Answer a question about one or several images with the vision model (VLM).

    Images are rotated upright, converted to RGB and downscaled before sending. Fails with a clear error
    naming the vision role when no VLM is configured or it is down: then use extract_text and image_info.
    """

    settings = SETTINGS.get()

    def run() -> Description:
        images = [load_any(path, image_base64, settings=settings)]
        images += [load_image(p, settings) for p in more_paths or []]
        return describe_images(images, question, settings)

    return await _run(run)


@mcp.tool(annotations=READS)
async def extract_text(path: PathArg = None, image_base64: Base64Arg = None) -> TextResult:
    """Read the text in an image offline (OCR, no VLM needed): full text in reading order plus each box.

    Works for screenshots, photos of documents and scanned pages. The image is rotated upright first.
    """

    settings = SETTINGS.get()

    def run() -> TextResult:
        img = load_any(path, image_base64, settings=settings)
        result = ocr_image(normalize(img), settings)
        return TextResult(**result.model_dump(), source=img.source, notes=img.notes)

    return await _run(run)


@mcp.tool(annotations=READS)
async def image_info(
    path: PathArg = None,
    image_base64: Base64Arg = None,
    include_gps: Annotated[bool, Field(description="also return the GPS location (personal data)")] = False,
) -> ImageInfo:
    """Describe the image file itself: real format (from its content), size, mode, frames and EXIF.

    GPS coordinates are left out unless include_gps is true.
    """

    settings = SETTINGS.get()

    def run() -> ImageInfo:
        return read_image_info(load_any(path, image_base64, settings=settings), include_gps)

    return await _run(run)


if __name__ == "__main__":
    serve(mcp)
