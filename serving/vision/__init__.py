"""Vision: load and normalize images safely, OCR them offline, ask the vision role's VLM about them.

Heavy libraries (onnxruntime, OpenCV, the OpenAI client) load on first use, not on import.
"""

from serving.vision.errors import (
    ImageTooLarge,
    InvalidImage,
    PathNotAllowed,
    UnsupportedImage,
    VisionInputError,
    VisionModelError,
    VisionModelUnavailable,
)
from serving.vision.settings import VisionSettings

__all__ = [
    "ImageTooLarge",
    "InvalidImage",
    "PathNotAllowed",
    "UnsupportedImage",
    "VisionInputError",
    "VisionModelError",
    "VisionModelUnavailable",
    "VisionSettings",
]
