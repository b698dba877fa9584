"""Vision errors: one line each, written for the user, saying what to do."""

from __future__ import annotations

from core.errors import SparkAgentsError
from serving.errors import ModelServerError, ModelServerUnavailable

FALLBACK_HINT = (
    "use extract_text (offline OCR; CLI: spark-agents vision ocr) and image_info instead, "
    "or set SPARK_AGENTS_VISION_URL to an OpenAI-compatible VLM server"
)


class VisionInputError(SparkAgentsError):
    """The image (or request) given cannot be used as it is."""


class InvalidImage(VisionInputError):
    """Empty, corrupt, truncated, not base64, or not found."""


class UnsupportedImage(VisionInputError):
    """A format we do not decode (HEIC, SVG, PDF, ...)."""


class PathNotAllowed(VisionInputError):
    """The path is outside SPARK_AGENTS_VISION_ALLOWED_DIRS."""


class ImageTooLarge(VisionInputError):
    """Over the byte cap or the pixel cap (decompression bombs land here, not in a MemoryError)."""


class VisionModelUnavailable(ModelServerUnavailable):
    """The vision role is not configured or cannot be reached; the message names the fallback tools."""

    def __init__(self, url: str | None, reason: str) -> None:
        super().__init__("vision", url, reason)
        self.args = (f"{self.args[0]}; {FALLBACK_HINT}",)


class VisionModelError(ModelServerError):
    """The vision model server answered with an error or something that is not an answer."""

    def __init__(self, url: str | None, reason: str) -> None:
        super().__init__("vision", url, reason)
        self.args = (f"{self.args[0]}; {FALLBACK_HINT}",)
