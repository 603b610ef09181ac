"""What a photo says about itself: GPS, capture time, camera and software, read from EXIF defensively.

Phones and browsers produce every kind of EXIF: zero denominators, missing N/S or E/W references, (0, 0)
coordinates, garbage values. Each of those means "not known", never a crash. South latitudes and west
longitudes are negative (Jakarta is about 6.2° S, 106.8° E).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from PIL import ExifTags, Image

WIB_OFFSET = timezone(timedelta(hours=7))
EDITORS = re.compile(r"photoshop|lightroom|gimp|snapseed|picsart|canva|pixlr|affinity|meitu|facetune|vsco",
                     re.I)


@dataclass(frozen=True)
class ExifFacts:
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    accuracy: float | None = None  # metres (GPSHPositioningError)
    taken_at: datetime | None = None  # aware
    offset_assumed: bool = False  # no offset in the file: WIB (+07:00) assumed
    camera: str = ""
    software: str = ""

    @property
    def edited(self) -> bool:
        return bool(self.software and EDITORS.search(self.software))


def _ratio(value) -> float | None:
    try:
        if isinstance(value, tuple) and len(value) == 2:
            num, den = value
            return None if not den else float(num) / float(den)
        number = float(value)
        return None if number != number else number  # NaN (a zero denominator in Pillow's IFDRational)
    except (TypeError, ValueError, ZeroDivisionError):
        return None


def _degrees(parts, ref) -> float | None:
    if not isinstance(parts, (tuple, list)) or len(parts) != 3 or ref is None:
        return None
    values = [_ratio(p) for p in parts]
    if any(v is None for v in values):
        return None
    d, m, s = values
    if not (0 <= m <= 60 and 0 <= s <= 60):  # exiftool writes 106.8° as 106° 47' 60"
        return None
    result = round(d + m / 60 + s / 3600, 7)
    ref = ref.decode(errors="ignore") if isinstance(ref, bytes) else str(ref)
    ref = ref.strip("\x00 ").upper()
    if ref in ("S", "W"):
        return -result
    if ref in ("N", "E"):
        return result
    return None


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode(errors="ignore")
    return str(value or "").strip("\x00 ").strip()


def _time(text: str, offset: str) -> tuple[datetime | None, bool]:
    try:
        naive = datetime.strptime(text.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None, False
    match = re.fullmatch(r"([+-])(\d\d):?(\d\d)", offset.strip("\x00 ")) if offset else None
    if match:
        sign = 1 if match.group(1) == "+" else -1
        tz = timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
        return naive.replace(tzinfo=tz), False
    return naive.replace(tzinfo=WIB_OFFSET), True


def read(image: Image.Image) -> ExifFacts:
    try:
        exif = image.getexif()
    except Exception:  # noqa: BLE001 - unreadable EXIF is no EXIF
        return ExifFacts()
    try:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo) or {}
        details = exif.get_ifd(ExifTags.IFD.Exif) or {}
    except Exception:  # noqa: BLE001
        gps, details = {}, {}
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef))
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef))
    if lat is None or lon is None or (lat == 0 and lon == 0) or abs(lat) > 90 or abs(lon) > 180:
        lat = lon = None
    altitude = _ratio(gps.get(ExifTags.GPS.GPSAltitude)) if gps.get(ExifTags.GPS.GPSAltitude) is not None else None
    if altitude is not None and gps.get(ExifTags.GPS.GPSAltitudeRef) in (1, b"\x01"):
        altitude = -altitude
    accuracy = _ratio(gps.get(ExifTags.GPS.GPSHPositioningError)) \
        if gps.get(ExifTags.GPS.GPSHPositioningError) is not None else None
    original = _text(details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime))
    offset = _text(details.get(ExifTags.Base.OffsetTimeOriginal) or details.get(ExifTags.Base.OffsetTime))
    taken_at, assumed = _time(original, offset) if original else (None, False)
    camera = " ".join(x for x in (_text(exif.get(ExifTags.Base.Make)), _text(exif.get(ExifTags.Base.Model))) if x)
    return ExifFacts(lat, lon, altitude, accuracy, taken_at, assumed, camera, _text(exif.get(ExifTags.Base.Software)))
