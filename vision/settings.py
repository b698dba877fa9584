"""Vision settings, read from the environment (prefix SPARK_AGENTS_VISION_).

The vision *endpoint* (URL, model, API key) belongs to `serving.settings.ServingSettings`
(`SPARK_AGENTS_VISION_URL`, `_MODEL`, `_API_KEY`); the fields here are named so they never collide with it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from serving.settings import ServingSettings

_ENDPOINT_FIELDS = {"url", "model", "api_key"}  # owned by ServingSettings: never add fields with these names


class VisionSettings(BaseSettings):
    """Limits for images we accept, how they are sent to the VLM, and how OCR runs."""

    model_config = SettingsConfigDict(env_prefix="SPARK_AGENTS_VISION_", extra="ignore")

    # --- what we accept ------------------------------------------------------------------------
    max_bytes: int = Field(20 * 1024 * 1024, gt=0, description="largest encoded image accepted, in bytes")
    max_pixels: int = Field(
        40_000_000, gt=0, description="largest decoded image accepted (width x height): decompression-bomb cap"
    )
    max_images: int = Field(8, gt=0, description="most images in one describe_image call")
    allowed_dirs: str | None = Field(
        None,
        description="when set (folders separated by the OS path separator, ':' on Linux), image paths must "
        "resolve inside one of them; recommended when the MCP server is exposed over HTTP",
    )

    # --- what we send to the VLM ---------------------------------------------------------------
    max_side: int = Field(1536, ge=64, description="images are downscaled so their longer side is at most this")
    send_format: Literal["auto", "png", "jpeg"] = Field(
        "auto", description="auto: PNG for lossless sources (screenshots, diagrams), JPEG for photos"
    )
    jpeg_quality: int = Field(90, ge=30, le=100)
    describe_max_tokens: int = Field(1024, gt=0, description="answer length cap for describe_image")
    describe_temperature: float = Field(0.0, ge=0.0, le=2.0)

    # --- OCR -----------------------------------------------------------------------------------
    ocr_det_side: int = Field(
        1280, ge=320, description="text detection runs with the longer side scaled to at most this"
    )
    ocr_min_confidence: float = Field(0.5, ge=0.0, le=1.0, description="drop recognised lines below this score")
    ocr_threads: int = Field(-1, description="onnxruntime intra-op threads for OCR (-1: onnxruntime's default)")
    # The model servers this package calls, read with it at the process's edge (not part of this package's env).
    serving: ServingSettings = Field(default_factory=ServingSettings, exclude=True, repr=False)

    def allowed_roots(self) -> list[Path] | None:
        if not self.allowed_dirs or not self.allowed_dirs.strip():
            return None
        return [Path(d).expanduser().resolve() for d in self.allowed_dirs.split(os.pathsep) if d.strip()]


assert not _ENDPOINT_FIELDS & set(VisionSettings.model_fields), "field name collides with ServingSettings"
