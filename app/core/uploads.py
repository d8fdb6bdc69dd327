"""Photos uploaded by residents and staff (tickets, wish milestones): checked and stored once, one way."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from app.core.errors import ValidationFailed

PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
MAX_PHOTO_BYTES = 5 * 1024 * 1024


def save_photo(upload: Any, folder: Path, prefix: str) -> str:
    """Check an uploaded file (JPEG, PNG or WebP up to 5 MB), store it under folder; its new file name."""
    if upload is None or not getattr(upload, "filename", None) or upload.mimetype not in PHOTO_TYPES:
        raise ValidationFailed("请上传 JPG、PNG 或 WebP 图片", code="bad_photo")
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationFailed("图片不能超过 5MB", code="photo_too_large")
    name = f"{prefix}-{secrets.token_hex(8)}{PHOTO_TYPES[upload.mimetype]}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return name
