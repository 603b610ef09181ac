"""Uploaded images: checked by content (not by name), turned upright, and a display copy without EXIF.

Originals are kept unchanged (private); what is shown on screen or in documents is the re-encoded copy, which
carries no EXIF (no GPS, no camera serial). Decompression bombs are refused.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from core.errors import InvalidInput

register_heif_opener()
Image.MAX_IMAGE_PIXELS = 80_000_000  # ~ a 9,000 × 9,000 photo; anything larger is refused, not decoded
DISPLAY_SIZE = 1600
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "HEIF": "image/heic", "HEIC": "image/heic"}
MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class CheckedImage:
    media_type: str
    width: int
    height: int
    display_jpeg: bytes


def check_and_prepare(data: bytes, *, max_bytes: int = MAX_BYTES) -> CheckedImage:
    if len(data) > max_bytes:
        raise InvalidInput(f"Foto terlalu besar ({len(data) / 1048576:.1f} MB); batasnya {max_bytes // 1048576} MB.",
                           code="photo_too_large", field="foto")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            image = Image.open(io.BytesIO(data))
            kind = image.format
            if kind not in FORMATS:
                raise InvalidInput("Berkas bukan foto JPEG, PNG atau HEIC.", code="photo_type", field="foto")
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((DISPLAY_SIZE, DISPLAY_SIZE))
            out = io.BytesIO()
            upright.convert("RGB").save(out, "JPEG", quality=85)  # no exif= : the copy carries no metadata
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise InvalidInput("Berkas tidak dapat dibaca sebagai foto (rusak, bukan gambar, atau terlalu besar).",
                           code="photo_unreadable", field="foto") from exc
    return CheckedImage(FORMATS[kind], image.width, image.height, out.getvalue())
