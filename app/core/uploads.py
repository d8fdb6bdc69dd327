"""Photos uploaded by residents and staff (tickets, wish milestones): checked and stored once, one way.

An upload is trusted for nothing it declares: Pillow must decode it as JPEG, PNG or WebP (anything
else, HTML, SVG or an executable named .png included, is refused), its pixel count is capped before
decoding (decompression bombs), and only the decoded pixels are kept: the photo is re-encoded in its
own format, turned upright by its EXIF orientation first, so EXIF (GPS included), XMP, comments and any
bytes hidden after the image are never stored. Stored photos are served by `send_photo` with their
image type, `nosniff` and a sandboxing CSP, so a browser never treats one as a page.
"""

from __future__ import annotations

import io
import secrets
from pathlib import Path
from typing import Any

from flask import Response, send_file
from PIL import Image, ImageOps

from app.core.errors import NotFound, ValidationFailed

PHOTO_TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTO_PIXELS = 40_000_000  # most phone photos are 12 MP; a 5 MB PNG can claim billions (a bomb)
BAD_PHOTO = "请上传 JPG、PNG 或 WebP 图片"
TOO_MANY_PIXELS = "图片尺寸过大，请缩小后再上传"

# Pillow's name of a decoded format -> (the format it is stored as, its extension). MPO is how Pillow
# names the multi-picture JPEGs many phone cameras write; its first picture is stored as a JPEG.
_FORMATS = {"JPEG": ("JPEG", ".jpg"), "MPO": ("JPEG", ".jpg"), "PNG": ("PNG", ".png"), "WEBP": ("WEBP", ".webp")}
_SAVE_OPTIONS = {"JPEG": {"quality": 85, "optimize": True}, "PNG": {"optimize": True}, "WEBP": {"quality": 85}}
_SERVED_TYPES = {suffix: mimetype for mimetype, suffix in PHOTO_TYPES.items()}


def save_photo(upload: Any, folder: Path, prefix: str) -> str:
    """Check an uploaded file (JPEG, PNG or WebP up to 5 MB), re-encode it under folder; its new file name."""
    if upload is None or not getattr(upload, "filename", None) or upload.mimetype not in PHOTO_TYPES:
        raise ValidationFailed(BAD_PHOTO, code="bad_photo")
    data = upload.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise ValidationFailed("图片不能超过 5MB", code="photo_too_large")
    encoded, suffix = reencode(data)
    name = f"{prefix}-{secrets.token_hex(8)}{suffix}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(encoded)
    return name


def reencode(data: bytes) -> tuple[bytes, str]:
    """The photo's pixels, upright, re-encoded in its own format without any metadata; and its extension.

    Refused (bad_photo) unless Pillow decodes the bytes as JPEG, PNG or WebP of at most MAX_PHOTO_PIXELS.
    """
    try:
        # Pillow itself refuses more than 2 x Image.MAX_IMAGE_PIXELS at open (DecompressionBombError); the
        # tighter cap below is checked on the header's size, before any pixel is decoded.
        with Image.open(io.BytesIO(data), formats=("JPEG", "PNG", "WEBP")) as image:
            if image.format not in _FORMATS:
                raise ValidationFailed(BAD_PHOTO, code="bad_photo")
            if image.width * image.height > MAX_PHOTO_PIXELS:
                raise ValidationFailed(TOO_MANY_PIXELS, code="bad_photo")
            image.load()  # decodes every pixel: a truncated or corrupt image fails here
            fmt, suffix = _FORMATS[image.format]
            upright = ImageOps.exif_transpose(image)  # a new, upright image (its info is cleared below)
    except ValidationFailed:
        raise
    except Image.DecompressionBombError as exc:
        raise ValidationFailed(TOO_MANY_PIXELS, code="bad_photo") from exc
    except Exception as exc:  # hostile bytes may break a decoder in any way: each is a bad photo, never a 500
        raise ValidationFailed(BAD_PHOTO, code="bad_photo") from exc
    clean = _for_format(upright, fmt)
    clean.info = {}  # no EXIF, XMP, ICC, text chunks or comments reach the encoder
    out = io.BytesIO()
    clean.save(out, fmt, **_SAVE_OPTIONS[fmt])
    return out.getvalue(), suffix


def _for_format(image: Image.Image, fmt: str) -> Image.Image:
    """The image in a mode its format stores faithfully (transparency on white for JPEG)."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if fmt == "JPEG":
        if image.mode in ("L", "RGB"):
            return image
        if has_alpha:
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return image.convert("RGB")  # CMYK, YCbCr, 1, I, F ...
    if fmt == "PNG" and image.mode in ("1", "L", "RGB", "RGBA", "I;16"):
        return image
    if fmt == "WEBP" and image.mode in ("RGB", "RGBA"):
        return image
    return image.convert("RGBA" if has_alpha else "RGB")  # P (palette moves into pixels), LA, CMYK, I, F ...


def send_photo(path: Path) -> Response:
    """Serve a stored photo: its image type by extension, never sniffed, never run as a page."""
    mimetype = _SERVED_TYPES.get(path.suffix.lower())
    if mimetype is None:
        raise NotFound("没有这张图片", code="photo_not_found")
    response = send_file(path, mimetype=mimetype)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
