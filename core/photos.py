"""Photo evidence: one pass over an uploaded photo gives everything Muskel keeps and concludes about it.

The content is checked (not the name), the orientation fixed, a display copy and a thumbnail made without EXIF
(so no GPS or camera serial leaks through what is shown), the perceptual hash computed for near-duplicate
search, and the file-level flags decided. JPEG decoding uses Pillow's ``draft`` so a 12-megapixel photo is
decoded at the reduced size the copies need.
"""

from __future__ import annotations

import hashlib
import io
import math
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import imagehash
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from core import photo_exif
from core.photo_exif import ExifFacts

register_heif_opener()
Image.MAX_IMAGE_PIXELS = 80_000_000  # larger images are refused as decompression bombs, never decoded

DISPLAY_SIZE = 1600
THUMB_SIZE = 320
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "HEIF": "image/heic", "HEIC": "image/heic"}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# Jakarta as two boxes: the mainland and the Thousand Islands (Kepulauan Seribu). A coarse but honest test.
DKI_BOXES = ((-6.40, -6.08, 106.65, 107.00), (-5.95, -5.10, 106.30, 106.95))

FLAG_TEXT = {
    "unreadable": "Berkas tidak dapat dibaca sebagai foto (rusak, bukan gambar, atau terlalu besar).",
    "gps_missing": "Foto tanpa koordinat GPS. Tetapkan lokasi di peta atau ketik koordinat beserta alasannya.",
    "gps_outside_dki": "Koordinat foto berada di luar DKI Jakarta.",
    "time_missing": "Foto tanpa waktu pengambilan.",
    "time_future": "Waktu pengambilan foto di masa depan (jam ponsel salah?).",
    "edited": "Foto pernah diolah aplikasi penyunting ({software}).",
}


@dataclass
class PhotoAnalysis:
    sha256: str
    size: int
    format: str = ""
    media_type: str = ""
    width: int = 0
    height: int = 0
    exif: ExifFacts = field(default_factory=ExifFacts)
    phash: int | None = None
    display_jpeg: bytes = b""
    thumb_jpeg: bytes = b""
    flags: list[str] = field(default_factory=list)
    messages: dict[str, str] = field(default_factory=dict)

    @property
    def readable(self) -> bool:
        return "unreadable" not in self.flags

    def as_dict(self) -> dict:
        """The ``muskel photo-info`` view of a file."""
        e = self.exif
        return {"sha256": self.sha256, "width": self.width, "height": self.height, "format": self.format,
                "latitude": e.latitude, "longitude": e.longitude, "altitude": e.altitude, "accuracy": e.accuracy,
                "taken_at": e.taken_at.isoformat() if e.taken_at else None, "offset_assumed": e.offset_assumed,
                "camera": e.camera, "software": e.software, "flags": list(self.flags)}


def in_dki(lat: float, lon: float) -> bool:
    return any(lo_lat <= lat <= hi_lat and lo_lon <= lon <= hi_lon for lo_lat, hi_lat, lo_lon, hi_lon in DKI_BOXES)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    r = 6_371_000
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def identify(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) of an image read from its content alone, or None when it is not a readable image."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt, (width, height) = (probe.format or "").upper(), probe.size
            probe.verify()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        return None
    return fmt, width, height


def analyse(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, now: datetime | None = None) -> PhotoAnalysis:
    """Everything about one upload; an unreadable file gets the ``unreadable`` flag, never an exception."""
    result = PhotoAnalysis(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    if len(data) > max_bytes:
        return _unreadable(result, f"Foto terlalu besar ({len(data) / 1048576:.1f} MB); batasnya "
                                   f"{max_bytes // 1048576} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                return _unreadable(result, "Berkas bukan foto JPEG, PNG atau HEIC.")
            result.format, result.media_type = image.format, FORMATS[image.format]
            result.width, result.height = image.size
            result.exif = photo_exif.read(image)
            if image.format == "JPEG":
                # Decode at 1/2, 1/4 or 1/8 scale when that still covers the display copy.
                scale = DISPLAY_SIZE / max(image.size)
                image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        return _unreadable(result, FLAG_TEXT["unreadable"])
    upright.thumbnail((DISPLAY_SIZE, DISPLAY_SIZE), reducing_gap=2.0)
    result.display_jpeg = _jpeg(upright, 85)
    thumb = upright.copy()
    thumb.thumbnail((THUMB_SIZE, THUMB_SIZE), reducing_gap=2.0)
    result.thumb_jpeg = _jpeg(thumb, 80)
    result.phash = int(str(imagehash.phash(thumb)), 16)
    _file_flags(result, now or datetime.now(timezone.utc))
    return result


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)  # saved without exif=: the copy carries no metadata
    return out.getvalue()


def _unreadable(result: PhotoAnalysis, message: str) -> PhotoAnalysis:
    result.flags = ["unreadable"]
    result.messages = {"unreadable": message}
    return result


def _file_flags(result: PhotoAnalysis, now: datetime) -> None:
    e = result.exif
    flags: dict[str, str] = {}
    if e.latitude is None:
        flags["gps_missing"] = FLAG_TEXT["gps_missing"]
    elif not in_dki(e.latitude, e.longitude):
        flags["gps_outside_dki"] = FLAG_TEXT["gps_outside_dki"] + f" ({e.latitude:.5f}, {e.longitude:.5f})"
    if e.taken_at is None:
        flags["time_missing"] = FLAG_TEXT["time_missing"]
    elif e.taken_at > now + timedelta(minutes=10):  # a little grace for phone clocks running fast
        flags["time_future"] = FLAG_TEXT["time_future"]
    if e.edited:
        flags["edited"] = FLAG_TEXT["edited"].format(software=e.software)
    result.flags = list(flags)
    result.messages = flags


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def hash_chunks(phash: int) -> list[int]:
    """The 64-bit hash as four 16-bit chunks, the keys of the near-duplicate index."""
    return [(phash >> (16 * i)) & 0xFFFF for i in range(4)]


def probe_values(chunk: int) -> list[int]:
    """A chunk and its 16 one-bit neighbours. Two hashes within 7 bits differ in at most one bit in at least one
    of the four chunks (pigeonhole), so probing these finds every near duplicate through the index."""
    return [chunk] + [chunk ^ (1 << bit) for bit in range(16)]


NEAR_DUPLICATE_BITS = 7


