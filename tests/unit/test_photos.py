"""core.photos.analyse against an independent oracle, without a database.

Every image is made here (a drawn house scene with a little noise, see ``photo_factory``); GPS, capture time,
camera and software are written with exiftool and read back with ``exiftool -n -j``, and Muskel's reading must
agree. Covers the sign of southern/western coordinates, time offsets (assumed WIB when missing), the DKI check,
orientation, EXIF-free copies, HEIC, hostile input (never an exception, always ``unreadable``), malformed GPS
(zero denominators and missing references, written with Pillow's ``Image.Exif`` because exiftool refuses to)
and the perceptual hash used for near-duplicate search.
"""

from __future__ import annotations

import io
import itertools
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from PIL import ExifTags, Image, ImageEnhance

from core import photos

WIB = timezone(timedelta(hours=7))  # "now" in these tests: the evening of the given day in Jakarta
from tests.unit.photo_factory import (exif_with_raw_gps, exiftool_json, gps_tags, heif_bytes, house_scene,
                                      jpeg_bytes, rational, tagged_jpeg, write_tags)

WIB = timezone(timedelta(hours=7))


def test_south_and_west_are_negative_like_exiftool():
    """Guards the hemisphere sign: S latitudes and W longitudes must come out negative (Jakarta is 6.2° S)."""
    data = write_tags(jpeg_bytes(house_scene(1)), **gps_tags(-33.9012, -18.4123), GPSAltitude=3.5,
                      GPSAltitudeRef_n=1, GPSHPositioningError=4.5)
    oracle = exiftool_json(data)
    result = photos.analyse(data)
    e = result.exif
    assert oracle["GPSLatitude"] < 0 and oracle["GPSLongitude"] < 0
    assert e.latitude == pytest.approx(oracle["GPSLatitude"], abs=1e-6)
    assert e.longitude == pytest.approx(oracle["GPSLongitude"], abs=1e-6)
    assert e.altitude == pytest.approx(oracle["GPSAltitude"], abs=1e-6)  # below sea level: negative
    assert e.accuracy == pytest.approx(oracle["GPSHPositioningError"], abs=1e-6)
    assert "gps_missing" not in result.flags and "gps_outside_dki" in result.flags


def test_jakarta_coordinate_matches_exiftool():
    """Guards the reading of a typical Jakarta photo: negative latitude, values equal to exiftool's."""
    data = tagged_jpeg(lat=-6.2001, lon=106.8602)
    oracle = exiftool_json(data)
    e = photos.analyse(data, now=datetime(2026, 11, 20, 23, 59, tzinfo=WIB)).exif
    assert (e.latitude, e.longitude) == (pytest.approx(oracle["GPSLatitude"], abs=1e-6),
                                         pytest.approx(oracle["GPSLongitude"], abs=1e-6))
    assert e.latitude < 0


@pytest.mark.parametrize("lat, lon", [(-6.2, 106.8), (-33.9, -18.4), (-6.9, 107.6), (-5.6, 106.55)])
def test_rounded_seconds_of_sixty_are_accepted(lat, lon):
    """Guards coordinates whose DMS seconds were rounded up to 60 by the writer (exiftool does it): the value
    exiftool reads must also be what Muskel reads, not 'no GPS'."""
    data = write_tags(jpeg_bytes(house_scene(2)), **gps_tags(lat, lon))
    oracle = exiftool_json(data)
    e = photos.analyse(data).exif
    assert e.latitude == pytest.approx(oracle["GPSLatitude"], abs=1e-6)
    assert e.longitude == pytest.approx(oracle["GPSLongitude"], abs=1e-6)


def test_capture_time_with_offset_is_aware():
    """Guards the capture time: DateTimeOriginal + OffsetTimeOriginal → an aware datetime with that offset."""
    data = tagged_jpeg(taken="2026:11:15 10:20:00", offset="+08:00")
    oracle = exiftool_json(data)
    e = photos.analyse(data, now=datetime(2026, 11, 20, 23, 59, tzinfo=WIB)).exif
    expected = datetime.strptime(oracle["DateTimeOriginal"] + oracle["OffsetTimeOriginal"].replace(":", ""),
                                 "%Y:%m:%d %H:%M:%S%z")
    assert e.taken_at == expected
    assert e.taken_at.utcoffset() == timedelta(hours=8)
    assert e.offset_assumed is False


def test_capture_time_without_offset_assumes_wib():
    """Guards the WIB assumption: no OffsetTimeOriginal → +07:00 and offset_assumed says so."""
    data = tagged_jpeg(taken="2026:11:15 10:20:00", offset=None)
    assert "OffsetTimeOriginal" not in exiftool_json(data)
    e = photos.analyse(data, now=datetime(2026, 11, 20, 23, 59, tzinfo=WIB)).exif
    assert e.taken_at == datetime(2026, 11, 15, 10, 20, tzinfo=WIB)
    assert e.taken_at.utcoffset() == timedelta(hours=7)
    assert e.offset_assumed is True


def test_camera_and_editor_software():
    """Guards camera make+model and the soft `edited` flag for an image editor in the Software tag."""
    data = tagged_jpeg(Software="Adobe Photoshop 25.0", Make="Canon", Model="EOS 80D")
    oracle = exiftool_json(data)
    result = photos.analyse(data, now=datetime(2026, 11, 20, 23, 59, tzinfo=WIB))
    assert result.exif.camera == f"{oracle['Make']} {oracle['Model']}" == "Canon EOS 80D"
    assert result.exif.software == oracle["Software"]
    assert "edited" in result.flags and "Adobe Photoshop 25.0" in result.messages["edited"]
    plain = photos.analyse(tagged_jpeg(Software="G998BXXU5CVDD"), now=datetime(2026, 11, 20, 23, 59, tzinfo=WIB))
    assert "edited" not in plain.flags


def test_photo_without_any_exif():
    """Guards a photo with no EXIF at all: gps_missing and time_missing, still readable."""
    data = jpeg_bytes(house_scene(5))
    oracle = exiftool_json(data)
    assert not any(k.startswith("GPS") or k == "DateTimeOriginal" for k in oracle)
    result = photos.analyse(data)
    assert result.readable and result.format == "JPEG"
    assert set(result.flags) == {"gps_missing", "time_missing"}


def test_null_island_is_no_gps():
    """Guards GPS (0, 0) — a phone without a fix — read as 'no GPS', not a point in the Gulf of Guinea."""
    data = write_tags(jpeg_bytes(house_scene(6)), GPSLatitude=0, GPSLatitudeRef="N", GPSLongitude=0,
                      GPSLongitudeRef="E", DateTimeOriginal="2026:11:15 10:20:00")
    assert exiftool_json(data)["GPSLatitude"] == 0
    result = photos.analyse(data, now=datetime(2026, 11, 20, 23, 59, tzinfo=WIB))
    assert result.exif.latitude is None and "gps_missing" in result.flags
    assert "gps_outside_dki" not in result.flags


@pytest.mark.parametrize("lat, lon, inside", [
    # Bandung (-6.9, 107.6) and Kepulauan Seribu (-5.6, 106.55), a few metres off the round values: exiftool
    # writes those with seconds = 60, which Muskel drops (see test_rounded_seconds_of_sixty_are_accepted).
    (-6.9001, 107.6001, False),  # Bandung
    (-5.6001, 106.5501, True),  # Kepulauan Seribu
    (-6.1754, 106.8272, True),  # Monas
    (6.1754, 106.8272, False),  # Monas with the sign error: north of the equator
])
def test_dki_boundary(lat, lon, inside):
    """Guards gps_outside_dki: Bandung and a sign-flipped Jakarta are outside; Kepulauan Seribu is inside."""
    data = write_tags(jpeg_bytes(house_scene(7)), **gps_tags(lat, lon))
    oracle = exiftool_json(data)
    result = photos.analyse(data)
    assert result.exif.latitude == pytest.approx(oracle["GPSLatitude"], abs=1e-6)
    assert ("gps_outside_dki" in result.flags) is (not inside)
    assert "gps_missing" not in result.flags


def test_future_capture_time():
    """Guards time_future: a capture date after today is flagged, a past one is not."""
    data = tagged_jpeg(taken="2026:11:15 10:20:00")
    assert "time_future" in photos.analyse(data, now=datetime(2026, 11, 10, 23, 59, tzinfo=WIB)).flags
    assert "time_future" not in photos.analyse(data, now=datetime(2026, 11, 15, 23, 59, tzinfo=WIB)).flags
    assert "time_future" not in photos.analyse(data, now=datetime(2026, 12, 1, 23, 59, tzinfo=WIB)).flags


def test_future_capture_time_early_morning_wib():
    """Guards time_future on the local (WIB) calendar: a photo dated tomorrow 06:00 +07:00 is in the future."""
    data = tagged_jpeg(taken="2026:11:15 06:00:00", offset="+07:00")
    assert "time_future" in photos.analyse(data, now=datetime(2026, 11, 14, 23, 59, tzinfo=WIB)).flags


def _mean_diff(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b.resize(a.size), dtype=np.int16)).mean())


def test_rotated_photo_comes_out_upright():
    """Guards orientation: EXIF Orientation 6 (rotate 90° CW) → the display copy is upright, sides swapped."""
    scene = house_scene(8)  # 640 × 480 as stored
    data = write_tags(jpeg_bytes(scene), Orientation_n=6)
    assert exiftool_json(data)["Orientation"] == 6
    result = photos.analyse(data)
    assert (result.width, result.height) == (640, 480)  # the stored pixels
    display = Image.open(io.BytesIO(result.display_jpeg))
    thumb = Image.open(io.BytesIO(result.thumb_jpeg))
    assert display.size == (480, 640)
    assert thumb.size[0] < thumb.size[1]
    upright = scene.transpose(Image.Transpose.ROTATE_270)  # what a viewer shows for orientation 6
    wrong = scene.transpose(Image.Transpose.ROTATE_90)
    assert _mean_diff(display.convert("RGB"), upright) < 8 < _mean_diff(display.convert("RGB"), wrong)


def test_display_and_thumbnail_carry_no_exif():
    """Guards privacy: the shown copies have no GPS, camera or capture time (exiftool on the written bytes)."""
    data = tagged_jpeg(Software="Adobe Photoshop 25.0", SerialNumber="R58M12345", Orientation_n=6)
    assert "GPSLatitude" in exiftool_json(data)
    result = photos.analyse(data)
    for copy in (result.display_jpeg, result.thumb_jpeg):
        assert copy[:2] == b"\xff\xd8"
        tags = exiftool_json(copy)
        leaked = [k for k in tags if k.startswith("GPS") or k in {"Make", "Model", "DateTimeOriginal", "Software",
                                                                   "SerialNumber", "Orientation", "OffsetTimeOriginal"}]
        assert leaked == []


def test_heic_is_readable():
    """Guards HEIC/HEIF uploads (iPhone): read through pillow-heif, with EXIF GPS and time like a JPEG."""
    data = heif_bytes(house_scene(9))
    plain = photos.analyse(data)
    assert plain.readable and plain.format in ("HEIF", "HEIC") and plain.media_type == "image/heic"
    assert (plain.width, plain.height) == (640, 480)
    assert set(plain.flags) == {"gps_missing", "time_missing"}
    assert Image.open(io.BytesIO(plain.display_jpeg)).size == (640, 480)
    tagged = write_tags(data, ".heic", **gps_tags(-6.2001, 106.8602), DateTimeOriginal="2026:11:15 10:20:00",
                        OffsetTimeOriginal="+07:00", Make="Apple", Model="iPhone 13")
    oracle = exiftool_json(tagged, ".heic")
    result = photos.analyse(tagged, now=datetime(2026, 11, 20, 23, 59, tzinfo=WIB))
    assert result.readable and result.flags == []
    assert result.exif.latitude == pytest.approx(oracle["GPSLatitude"], abs=1e-6)
    assert result.exif.longitude == pytest.approx(oracle["GPSLongitude"], abs=1e-6)
    assert result.exif.camera == "Apple iPhone 13"
    assert result.exif.taken_at == datetime(2026, 11, 15, 10, 20, tzinfo=WIB)


def _bomb_png() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buf, "PNG")  # 400 megapixels, a few tens of kB
    return buf.getvalue()


@pytest.mark.parametrize("case", ["text_as_jpg", "truncated_jpeg", "decompression_bomb", "over_size_cap",
                                  "empty", "gif"])
def test_bad_input_is_unreadable_never_an_exception(case):
    """Guards hostile uploads: not an image, truncated, a decompression bomb, too big, empty, an unsupported
    format → the `unreadable` flag with a message, never an exception, and no copies made."""
    jpeg = jpeg_bytes(house_scene(10))
    kwargs = {}
    if case == "text_as_jpg":
        data = "Ini bukan foto, hanya teks yang diberi nama rumah.jpg\n".encode() * 20
    elif case == "truncated_jpeg":
        data = jpeg[: len(jpeg) // 2]
    elif case == "decompression_bomb":
        data = _bomb_png()
        assert len(data) < 1_000_000
    elif case == "over_size_cap":
        data, kwargs = jpeg, {"max_bytes": len(jpeg) - 1}
        assert photos.analyse(jpeg, max_bytes=len(jpeg)).readable  # exactly at the cap is fine
    elif case == "empty":
        data = b""
    else:
        buf = io.BytesIO()
        house_scene(10).convert("P").save(buf, "GIF")
        data = buf.getvalue()
    result = photos.analyse(data, **kwargs)
    assert result.flags == ["unreadable"]
    assert result.messages["unreadable"]
    assert not result.readable and result.display_jpeg == b"" and result.thumb_jpeg == b""
    assert result.phash is None


@pytest.mark.parametrize("case", ["zero_denominator", "missing_latitude_ref", "latitude_over_90", "ref_garbage"])
def test_malformed_gps_is_missing(case):
    """Guards malformed GPS written the way broken phones do (Pillow Image.Exif GPSInfo, saved with exif=):
    a zero denominator, a missing N/S reference, a latitude over 90°, a garbage reference → gps_missing,
    never an exception and never a made-up coordinate."""
    lat = (rational(6, 1), rational(12, 1), rational(0, 1))
    gps = {ExifTags.GPS.GPSLatitudeRef: "S", ExifTags.GPS.GPSLatitude: lat,
           ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (rational(106, 1), rational(51, 1),
                                                                          rational(918, 25))}
    if case == "zero_denominator":
        gps[ExifTags.GPS.GPSLatitude] = (rational(6, 1), rational(12, 0), rational(0, 1))
    elif case == "missing_latitude_ref":
        del gps[ExifTags.GPS.GPSLatitudeRef]
    elif case == "latitude_over_90":
        gps[ExifTags.GPS.GPSLatitude] = (rational(95, 1), rational(0, 1), rational(0, 1))
    else:
        gps[ExifTags.GPS.GPSLatitudeRef] = "Q"
    data = exif_with_raw_gps(house_scene(11), gps)
    oracle = exiftool_json(data)
    if case == "zero_denominator":
        assert oracle["GPSLatitude"] in ("", "inf", "undef") or oracle["GPSLatitude"] == 0
    if case == "missing_latitude_ref":
        assert "GPSLatitudeRef" not in oracle and "GPSLongitudeRef" in oracle
    result = photos.analyse(data)
    assert result.readable
    assert result.exif.latitude is None and result.exif.longitude is None
    assert "gps_missing" in result.flags and "gps_outside_dki" not in result.flags


def test_well_formed_raw_gps_control():
    """Control for the malformed-GPS cases: the same Pillow-written GPS IFD, well formed, is read correctly
    (so gps_missing above is due to the defect, not to the way the file is written)."""
    gps = {ExifTags.GPS.GPSLatitudeRef: "S", ExifTags.GPS.GPSLatitude: (rational(6, 1), rational(12, 1),
                                                                        rational(1, 5)),
           ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: (rational(106, 1), rational(51, 1),
                                                                          rational(918, 25))}
    data = exif_with_raw_gps(house_scene(11), gps)
    oracle = exiftool_json(data)
    e = photos.analyse(data).exif
    assert e.latitude == pytest.approx(oracle["GPSLatitude"], abs=1e-6) and e.latitude < 0
    assert e.longitude == pytest.approx(oracle["GPSLongitude"], abs=1e-6)


def _phash(img: Image.Image, **kwargs) -> int:
    result = photos.analyse(jpeg_bytes(img, **kwargs))
    assert result.readable
    return result.phash


@pytest.mark.parametrize("seed", [21, 22, 23, 24])
def test_near_copies_are_within_threshold(seed):
    """Guards near-duplicate detection: a resized, a re-encoded (quality 60) and a slightly brightened copy stay
    within NEAR_DUPLICATE_BITS of the original's perceptual hash."""
    original = house_scene(seed, (1024, 768))
    base = _phash(original)
    copies = {"resized": _phash(original.resize((480, 360))), "reencoded": _phash(original, quality=60),
              "brighter": _phash(ImageEnhance.Brightness(original).enhance(1.08)),
              "png": photos.analyse(_png(original)).phash}
    distances = {k: photos.hamming(base, v) for k, v in copies.items()}
    assert all(d <= photos.NEAR_DUPLICATE_BITS for d in distances.values()), distances


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_different_houses_do_not_match():
    """Guards against false duplicates: photos of different houses (different random scenes with the same kind
    of layout) are further apart than NEAR_DUPLICATE_BITS, pair by pair."""
    hashes = {seed: _phash(house_scene(seed)) for seed in range(40, 52)}
    close = [(a, b, photos.hamming(hashes[a], hashes[b])) for a, b in itertools.combinations(hashes, 2)
             if photos.hamming(hashes[a], hashes[b]) <= photos.NEAR_DUPLICATE_BITS]
    assert close == []


def test_hash_chunks_find_every_near_hash():
    """Guards the index's pigeonhole argument: two 64-bit hashes within 7 bits have, at some position, chunks
    within one bit of each other (so probing a chunk's one-bit neighbours finds them), and the chunks reassemble
    the hash."""
    rng = np.random.default_rng(5)
    for _ in range(500):
        h = int(rng.integers(0, 2**63)) << 1 | int(rng.integers(0, 2))
        bits = rng.choice(64, size=photos.NEAR_DUPLICATE_BITS, replace=False)
        other = h
        for b in bits:
            other ^= 1 << int(b)
        a, c = photos.hash_chunks(h), photos.hash_chunks(other)
        assert any(y in photos.probe_values(x) for x, y in zip(a, c))
        assert sum(v << (16 * i) for i, v in enumerate(a)) == h
