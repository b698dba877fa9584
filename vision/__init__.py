"""Vision: load and normalize images safely, OCR them offline, ask the vision role's VLM about them.

The public API is named here. Errors and settings are imported now (cheap); the rest loads on first
attribute access, so `import vision` pulls in neither Pillow, onnxruntime, OpenCV nor the OpenAI client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports
from vision.errors import (
    ImageTooLarge,
    InvalidImage,
    PathNotAllowed,
    UnsupportedImage,
    VisionInputError,
    VisionModelError,
    VisionModelUnavailable,
)
from vision.settings import VisionSettings

if TYPE_CHECKING:
    from vision.describe import Description, describe_images
    from vision.images import LoadedImage, load_any, load_image, load_image_base64, load_image_bytes, normalize
    from vision.metadata import ImageInfo, image_info
    from vision.ocr import OcrLine, OcrResult, ocr_image, ocr_text

_LAZY = {
    "LoadedImage": "vision.images",
    "load_any": "vision.images",
    "load_image": "vision.images",
    "load_image_base64": "vision.images",
    "load_image_bytes": "vision.images",
    "normalize": "vision.images",
    "ImageInfo": "vision.metadata",
    "image_info": "vision.metadata",
    "OcrLine": "vision.ocr",
    "OcrResult": "vision.ocr",
    "ocr_image": "vision.ocr",
    "ocr_text": "vision.ocr",
    "Description": "vision.describe",
    "describe_images": "vision.describe",
}

__all__ = [
    "Description",
    "ImageInfo",
    "ImageTooLarge",
    "InvalidImage",
    "LoadedImage",
    "OcrLine",
    "OcrResult",
    "PathNotAllowed",
    "UnsupportedImage",
    "VisionInputError",
    "VisionModelError",
    "VisionModelUnavailable",
    "VisionSettings",
    "describe_images",
    "image_info",
    "load_any",
    "load_image",
    "load_image_base64",
    "load_image_bytes",
    "normalize",
    "ocr_image",
    "ocr_text",
]


__getattr__ = lazy_exports(__name__, _LAZY)
