"""Images sent in a chat request (`image_url` parts with `data:` URLs), saved for the vision agent.

Remote URLs are refused, not fetched: the service would otherwise make requests on a client's behalf.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from api.errors import ApiError
from core.files import atomic_write
from serving.settings import ServingSettings

DATA_URL_RE = re.compile(r"^data:image/([a-zA-Z0-9.+-]+);base64,(.*)$", re.S)


def save_images(urls: list[str], settings: ServingSettings) -> list[str]:
    """Write `data:image/...;base64,` URLs under `<home>/uploads/` (named by content hash); return paths."""
    paths = []
    for url in urls:
        m = DATA_URL_RE.match(url)
        if not m:
            raise ApiError(400, "image_url must be a data:image/...;base64 URL (remote URLs are not fetched)")
        try:
            data = base64.b64decode(m.group(2), validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(400, "image_url holds invalid base64", code="bad_image") from None
        ext = {"jpeg": "jpg", "svg+xml": "svg"}.get(m.group(1).lower(), m.group(1).lower())
        folder = settings.home / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}.{ext}"
        if not path.exists():
            atomic_write(path, data, fsync=False)
        paths.append(str(path))
    return paths
