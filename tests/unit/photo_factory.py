"""Test images made here, with known EXIF written by exiftool, and exiftool as the independent oracle.

Plain helpers (not fixtures) shared by the photo, verification and photo-info tests:

- ``house_scene(seed)`` draws a realistic-looking picture (sky gradient, ground, a house with roof, door and
  windows, a little sensor noise): different seeds give different "houses", never pure noise, so perceptual
  hashes behave as they do on real photos;
- ``jpeg_bytes`` / ``png_bytes`` encode a picture; ``write_tags`` writes EXIF with exiftool (GPS, capture time,
  camera, software, orientation), ``exiftool_json`` reads a file back with ``exiftool -n -j`` — the oracle the
  tests compare Muskel's reading against;
- ``exif_with_raw_gps`` writes GPS tags exiftool refuses to write (a zero denominator, a missing reference) by
  building a Pillow ``Image.Exif`` with a GPSInfo IFD and saving with ``exif=`` (piexif is not installed here;
  Pillow writes the rationals exactly as given, which exiftool confirms by reading them back as undefined).
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageDraw, TiffImagePlugin

EXIFTOOL = shutil.which("exiftool") or "/usr/bin/exiftool"


def house_scene(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A house in front of a sky, with random colours, proportions and placement, plus a little noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    horizon = int(h * rng.uniform(0.45, 0.7))
    y = np.linspace(0, 1, h)[:, None, None]
    sky_top, sky_bottom = rng.uniform(40, 255, 3), rng.uniform(40, 255, 3)
    ground_a, ground_b = rng.uniform(20, 200, 3), rng.uniform(20, 200, 3)
    x = np.linspace(0, 1, w)[None, :, None]
    sky = sky_top * (1 - y) + sky_bottom * y + 0 * x
    ground = ground_a * (1 - x) + ground_b * x + 0 * y
    pixels = np.where(np.arange(h)[:, None, None] < horizon, sky, ground)
    img = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)

    def colour(lo=0, hi=255):
        return tuple(int(v) for v in rng.integers(lo, hi, 3))

    # The house: walls, roof, door, windows; sometimes a tree or a second building beside it.
    hw, hh = int(w * rng.uniform(0.25, 0.6)), int(h * rng.uniform(0.2, 0.4))
    left = int(rng.uniform(0.02, 0.95) * (w - hw))
    top = horizon - hh + int(rng.uniform(0, 0.15) * h)
    draw.rectangle([left, top, left + hw, top + hh], fill=colour())
    roof = int(hh * rng.uniform(0.3, 0.9))
    overhang = int(hw * rng.uniform(0, 0.15))
    draw.polygon([(left - overhang, top), (left + hw + overhang, top), (left + hw // 2, top - roof)], fill=colour())
    dw, dh = hw // 6, int(hh * 0.6)
    dx = left + int(rng.uniform(0.1, 0.8) * (hw - dw))
    draw.rectangle([dx, top + hh - dh, dx + dw, top + hh], fill=colour(0, 120))
    for _ in range(int(rng.integers(1, 4))):
        wx = left + int(rng.uniform(0.05, 0.8) * hw)
        wy = top + int(rng.uniform(0.1, 0.4) * hh)
        draw.rectangle([wx, wy, wx + hw // 8, wy + hh // 5], fill=colour(100, 255))
    for _ in range(int(rng.integers(0, 3))):
        cx, cy, r = int(rng.uniform(0, w)), int(rng.uniform(0, h)), int(rng.uniform(15, 70))
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour(0, 160))
    noise = rng.normal(0, 4, (h, w, 3))
    return Image.fromarray(np.clip(np.asarray(img, dtype=np.float64) + noise, 0, 255).astype(np.uint8), "RGB")


def jpeg_bytes(img: Image.Image, quality: int = 90, **kwargs) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, **kwargs)
    return buf.getvalue()


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def heif_bytes(img: Image.Image, **kwargs) -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    buf = io.BytesIO()
    img.save(buf, format="HEIF", quality=80, **kwargs)
    return buf.getvalue()


def write_tags(data: bytes, suffix: str = ".jpg", **tags) -> bytes:
    """Write EXIF tags with exiftool; ``tags`` are exiftool tag names (``GPSLatitude=6.2``). A name ending in
    ``_n`` is written numerically (``Orientation_n=6`` → ``-Orientation#=6``)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"photo{suffix}"
        path.write_bytes(data)
        args = [f"-{name[:-2]}#={value}" if name.endswith("_n") else f"-{name}={value}" for name, value in tags.items()]
        proc = subprocess.run([EXIFTOOL, "-overwrite_original", *args, str(path)], capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 0, proc.stderr
        return path.read_bytes()


def exiftool_json(data: bytes, suffix: str = ".jpg") -> dict:
    """``exiftool -n -j`` of the bytes (written to a temporary file): the oracle's numeric reading."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"photo{suffix}"
        path.write_bytes(data)
        proc = subprocess.run([EXIFTOOL, "-n", "-j", str(path)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)[0]


def gps_tags(lat: float, lon: float, **extra) -> dict:
    """exiftool tags for a signed coordinate: references from the sign, magnitudes positive."""
    return {"GPSLatitude": abs(lat), "GPSLatitudeRef": "S" if lat < 0 else "N",
            "GPSLongitude": abs(lon), "GPSLongitudeRef": "W" if lon < 0 else "E", **extra}


def tagged_jpeg(seed: int = 1, lat: float | None = -6.2001, lon: float | None = 106.8602,
                taken: str | None = "2026:11:15 10:20:00", offset: str | None = "+07:00", **extra) -> bytes:
    """A house photo with GPS, capture time and camera written by exiftool."""
    tags = {"Make": "Samsung", "Model": "Galaxy A14", **extra}
    if lat is not None:
        tags.update(gps_tags(lat, lon))
    if taken:
        tags["DateTimeOriginal"] = taken
    if offset:
        tags["OffsetTimeOriginal"] = offset
    return write_tags(jpeg_bytes(house_scene(seed)), **tags)


def exif_with_raw_gps(img: Image.Image, gps: dict) -> bytes:
    """A JPEG whose GPSInfo IFD holds exactly ``gps`` (tag id → value), for malformed values exiftool won't write.
    Rationals are ``TiffImagePlugin.IFDRational(num, den)``; a zero ``den`` is stored as written."""
    exif = Image.Exif()
    ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
    ifd.update(gps)
    exif[ExifTags.Base.Make] = "Xiaomi"
    return jpeg_bytes(img, exif=exif)


def rational(num: int, den: int) -> TiffImagePlugin.IFDRational:
    return TiffImagePlugin.IFDRational(num, den)
