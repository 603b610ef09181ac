"""`muskel photo-info` (core.cli.cmd_photo_info) run as a real subprocess against the SQLite test database.

The JSON contract support staff rely on: one object per file in the order given, the documented keys, values
equal to exiftool's reading of a file tagged here; unreadable and missing files reported with `unreadable`
(exit 0, no traceback); with --as, the stored photos of other families the file duplicates; an unknown --as
account is refused with exit 3.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import select

from core import db, evidence, register, verification
from core.demo_register import generate, to_csv
from core.models import Family
from tests.unit.photo_factory import exiftool_json, house_scene, jpeg_bytes, tagged_jpeg

ROOT = Path(__file__).resolve().parents[2]
KEL = "31.75.01.1003"
KEYS = {"file", "sha256", "width", "height", "format", "latitude", "longitude", "altitude", "accuracy", "taken_at",
        "camera", "software", "flags"}


def photo_info(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli", "photo-info", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def test_json_matches_exiftool_in_given_order(sqlite_only, tmp_path):
    """Guards the --json contract: a list in the order given, the documented keys, and GPS, altitude, accuracy,
    capture time (ISO 8601 with offset), camera and software equal to exiftool's reading."""
    tagged = tmp_path / "rumah.jpg"
    tagged.write_bytes(tagged_jpeg(seed=51, lat=-6.2001, lon=106.8602, taken="2026:11:15 10:20:00", offset="+07:00",
                                   GPSAltitude=7.25, GPSHPositioningError=3.5, Software="Adobe Photoshop 25.0"))
    plain = tmp_path / "tanpa_exif.jpg"
    plain.write_bytes(jpeg_bytes(house_scene(52)))
    proc = photo_info(str(plain), str(tagged), "--json")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert isinstance(report, list) and [r["file"] for r in report] == [str(plain), str(tagged)]
    for item in report:
        assert KEYS <= set(item), KEYS - set(item)
    oracle = exiftool_json(tagged.read_bytes())
    item = report[1]
    assert item["sha256"] == hashlib.sha256(tagged.read_bytes()).hexdigest()
    assert (item["width"], item["height"], item["format"]) == (oracle["ImageWidth"], oracle["ImageHeight"], "JPEG")
    assert item["latitude"] == pytest.approx(oracle["GPSLatitude"], abs=1e-6) and item["latitude"] < 0
    assert item["longitude"] == pytest.approx(oracle["GPSLongitude"], abs=1e-6)
    assert item["altitude"] == pytest.approx(oracle["GPSAltitude"], abs=1e-6)
    assert item["accuracy"] == pytest.approx(oracle["GPSHPositioningError"], abs=1e-6)
    expected = datetime.strptime(oracle["DateTimeOriginal"] + oracle["OffsetTimeOriginal"].replace(":", ""),
                                 "%Y:%m:%d %H:%M:%S%z")
    assert datetime.fromisoformat(item["taken_at"]) == expected
    assert item["taken_at"].endswith("+07:00")
    assert item["camera"] == f"{oracle['Make']} {oracle['Model']}"
    assert item["software"] == oracle["Software"]
    assert "edited" in item["flags"] and "gps_missing" not in item["flags"]
    assert set(report[0]["flags"]) == {"gps_missing", "time_missing"}
    assert report[0]["latitude"] is None and report[0]["taken_at"] is None


def test_unreadable_and_missing_files_are_reported(sqlite_only, tmp_path):
    """Guards bad input on the command line: a text file named .jpg, a truncated JPEG and a missing file each
    get an object with `unreadable`; the command exits 0 and never prints a traceback."""
    text = tmp_path / "bukan_foto.jpg"
    text.write_text("ini bukan foto\n" * 50)
    whole = jpeg_bytes(house_scene(53))
    truncated = tmp_path / "terpotong.jpg"
    truncated.write_bytes(whole[: len(whole) // 2])
    missing = tmp_path / "tidak_ada.jpg"
    good = tmp_path / "baik.jpg"
    good.write_bytes(whole)
    proc = photo_info(str(text), str(missing), str(truncated), str(good), "--json")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert [r["file"] for r in report] == [str(text), str(missing), str(truncated), str(good)]
    assert [("unreadable" in r["flags"]) for r in report] == [True, True, True, False]
    human = photo_info(str(text), str(missing))
    assert human.returncode == 0 and "Traceback" not in human.stderr
    assert human.stdout.count("temuan: unreadable") == 2


def _stored_photo(engine, make_account, data: bytes) -> int:
    """Store ``data`` as a photo of a Kayu Manis family through the real services; returns the family id."""
    operator = make_account(engine, "operator.km", "operator", KEL)
    petugas = make_account(engine, "petugas.km", "petugas", KEL)
    with db.session_scope(engine) as session:
        result = register.import_extract(to_csv(generate(KEL, 3, seed=9)), "dtsen.csv", KEL, actor=operator,
                                         session=session)
        assert result.imported
        fid = session.exec(select(Family.id).where(Family.kelurahan_kode == KEL).order_by(Family.id)).first()
    with db.session_scope(engine) as session:
        [a] = verification.assign(KEL, "petugas.km", family_ids=[fid], actor=operator, session=session)
    with db.session_scope(engine) as session:
        visit = verification.start_visit(a["id"], actor=petugas, session=session)
    with db.session_scope(engine) as session:
        evidence.add_photo(visit["id"], data, "depan.jpg", "depan", actor=petugas, session=session)
    return fid


def test_as_operator_lists_duplicates(sqlite_only, make_account, tmp_path):
    """Guards `duplicates` with --as: the exact file and a resized copy both point at the stored photo's family
    (exact true/false); an unrelated photo has none."""
    scene = house_scene(54, (800, 600))
    original = jpeg_bytes(scene)
    fid = _stored_photo(sqlite_only, make_account, original)
    same, copy, other = tmp_path / "sama.jpg", tmp_path / "kecil.jpg", tmp_path / "lain.jpg"
    same.write_bytes(original)
    copy.write_bytes(jpeg_bytes(scene.resize((400, 300)), quality=70))
    other.write_bytes(jpeg_bytes(house_scene(55)))
    proc = photo_info(str(same), str(copy), str(other), "--as", "operator.km", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [(d["family_id"], d["exact"], d["kelurahan"]) for d in report[0]["duplicates"]] == [
        (fid, True, "Kayu Manis")]
    assert [(d["family_id"], d["exact"]) for d in report[1]["duplicates"]] == [(fid, False)]
    assert report[2]["duplicates"] == []
    plain = photo_info(str(same), "--json")
    assert "duplicates" not in json.loads(plain.stdout)[0]


def test_unknown_as_account_is_refused(sqlite_only, tmp_path):
    """Guards --as: an unknown account is refused with exit 3 and a message, not a traceback."""
    path = tmp_path / "rumah.jpg"
    path.write_bytes(jpeg_bytes(house_scene(56)))
    proc = photo_info(str(path), "--as", "tidak.ada", "--json")
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr and "GAGAL" in proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["code"] == "unknown_account"
