"""Field verification (core.verification) and photo evidence (core.evidence) on SQLite and PostgreSQL.

Families come from the real register import of small generated extracts (Kayu Manis 31.75.01.1003 and
Palmeriam 31.75.01.1004), proposals from a real musyawarah. Photos are drawn here and tagged with exiftool
(``photo_factory``); stored bytes are checked against hashlib and exiftool, refused uploads against row and
file counts taken before and after, inside ``core.db.session_scope`` so its rollback cleanup runs.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from sqlmodel import select

from core import db, evidence, filestore, meetings, photos, proposals, register, verification
from core.demo_register import generate, to_csv
from core.errors import AccessDenied, InvalidInput, StaleEdit
from core.models import AuditEntry, Family, Flag, KotaSetting, PhotoHashChunk, StoredFile, VisitPhoto
from tests.unit.photo_factory import exiftool_json, house_scene, jpeg_bytes, tagged_jpeg

KEL = "31.75.01.1003"  # Kayu Manis
OTHER = "31.75.01.1004"  # Palmeriam
VISIT_DAY = date(2026, 11, 15)
HOME = (-6.2001, 106.8602)  # where the test family's photos are taken
REASON = "GPS ponsel mati saat kunjungan"


pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
def people(engine, make_account) -> dict:
    return {"operator": make_account(engine, "operator.km", "operator", KEL),
            "lurah": make_account(engine, "lurah.km", "lurah", KEL),
            "petugas": make_account(engine, "petugas.km", "petugas", KEL),
            "operator_pm": make_account(engine, "operator.pm", "operator", OTHER),
            "petugas_pm": make_account(engine, "petugas.pm", "petugas", OTHER)}


@pytest.fixture
def families(engine, people) -> dict[str, list[int]]:
    """Family ids per kelurahan, imported through core.register.import_extract (8 in Kayu Manis, 3 in Palmeriam)."""
    ids = {}
    for kode, actor, n, seed in ((KEL, people["operator"], 8, 7), (OTHER, people["operator_pm"], 3, 8)):
        with db.session_scope(engine) as session:
            result = register.import_extract(to_csv(generate(kode, n, seed=seed)), f"dtsen_{kode}.csv", kode,
                                             actor=actor, session=session)
            assert result.imported, result.blocking
            ids[kode] = list(session.exec(select(Family.id).where(Family.kelurahan_kode == kode)
                                          .order_by(Family.id)).all())
    return ids


def assign(engine, actor, officer: str, *, family_ids=(), proposal_ids=(), kode: str = KEL) -> list[dict]:
    with db.session_scope(engine) as session:
        return verification.assign(kode, officer, family_ids=list(family_ids), proposal_ids=list(proposal_ids),
                                   actor=actor, session=session)


def visit_for(engine, assigner, officer, family_id: int, *, kode: str = KEL, tanggal: date = VISIT_DAY) -> dict:
    """Assign the family to ``officer`` (an Actor) and start the visit as that officer."""
    [a] = assign(engine, assigner, officer.username, family_ids=[family_id], kode=kode)
    with db.session_scope(engine) as session:
        return verification.start_visit(a["id"], actor=officer, session=session, tanggal=tanggal)


def add_photo(engine, actor, visit_id: int, data: bytes, kind: str = "depan", name: str = "foto.jpg") -> dict:
    with db.session_scope(engine) as session:
        return evidence.add_photo(visit_id, data, name, kind, actor=actor, session=session)


def update(engine, actor, visit_id: int, changes: dict, version: int) -> dict:
    with db.session_scope(engine) as session:
        return verification.update_visit(visit_id, changes, expected_version=version, actor=actor, session=session)


def flags_of(engine, visit_id: int) -> list[dict]:
    with db.session_scope(engine) as session:
        return evidence.visit_flags(visit_id, session=session)


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in ("visitphoto", "storedfile", "photohashchunk")}


def stored_files() -> set:
    root = filestore.default_store().root
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def photo_at(seed: int, lat: float, lon: float, taken: str = "2026:11:15 10:20:00") -> bytes:
    return tagged_jpeg(seed=seed, lat=lat, lon=lon, taken=taken)


# --- assignments ------------------------------------------------------------------------------------------


def test_assignment_refuses_wrong_officer_and_petugas_assigner(engine, people, families):
    """Guards who may be assigned and who may assign: a petugas of another kelurahan is refused
    (officer_wrong_place) and a petugas cannot assign (AccessDenied); nothing is created either way."""
    fid = families[KEL][0]
    with pytest.raises(InvalidInput) as err:
        assign(engine, people["operator"], "petugas.pm", family_ids=[fid])
    assert err.value.code == "officer_wrong_place"
    with pytest.raises(AccessDenied):
        assign(engine, people["petugas"], "petugas.km", family_ids=[fid])
    with pytest.raises(InvalidInput) as err:
        assign(engine, people["operator"], "petugas.km", family_ids=[families[OTHER][0]])
    assert err.value.code == "family_outside_kelurahan"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM assignment")).scalar_one() == 0
    made = assign(engine, people["lurah"], "petugas.km", family_ids=[fid])
    assert [(a["family_id"], a["petugas"]) for a in made] == [(fid, "petugas.km")]


def test_petugas_sees_and_visits_only_own_assignments(engine, people, families):
    """Guards the petugas's confinement: they list only their own assignments and cannot start a visit on an
    assignment of someone else (AccessDenied), nor can a petugas of another kelurahan."""
    f1, f2, f3 = families[KEL][:3]
    with db.session_scope(engine) as session:
        mid = meetings.create_meeting(KEL, "2026-11", actor=people["operator"], session=session)["id"]
    with db.session_scope(engine) as session:
        p3 = proposals.add_from_register(mid, f3, jenis="baru", actor=people["operator"], session=session)["id"]
    mine = assign(engine, people["operator"], "petugas.km", family_ids=[f1], proposal_ids=[p3])
    theirs = assign(engine, people["operator"], "operator.km", family_ids=[f2])
    with db.session_scope(engine) as session:
        listed = verification.list_assignments(actor=people["petugas"], session=session)
        staff = verification.list_assignments(actor=people["lurah"], session=session)
    assert sorted(a["family_id"] for a in listed) == sorted([f1, f3])
    assert {a["proposal_id"] for a in listed} == {None, p3}
    assert sorted(a["family_id"] for a in staff) == sorted([f1, f2, f3])
    with pytest.raises(AccessDenied), db.session_scope(engine) as session:
        verification.start_visit(theirs[0]["id"], actor=people["petugas"], session=session)
    with pytest.raises(AccessDenied), db.session_scope(engine) as session:
        verification.start_visit(mine[0]["id"], actor=people["petugas_pm"], session=session)
    with db.session_scope(engine) as session:
        visit = verification.start_visit(mine[0]["id"], actor=people["petugas"], session=session)
    assert visit["officer"] == "petugas.km" and visit["status"] == "draft"
    with pytest.raises(AccessDenied), db.session_scope(engine) as session:
        verification.get_visit(visit["id"], actor=people["petugas_pm"], session=session)


def test_needs_verification_default_rule_and_kota_override(engine, people, families):
    """Guards the default rule: baru yes; perbaikan of alamat/anggota yes, of nama no; nonaktif meninggal and
    data_ganda no, pindah yes; prioritas_program no — and a per-kota setting overrides it."""
    op = people["operator"]
    with db.session_scope(engine) as session:
        mid = meetings.create_meeting(KEL, "2026-11", actor=op, session=session)["id"]
    cases = [
        ("baru", {}, True),
        ("perbaikan", {"perubahan": [{"field": "alamat", "lama": "Jl. Lama 1", "baru": "Jl. Baru 2"}]}, True),
        ("perbaikan", {"perubahan": [{"field": "nama", "lama": "SITI", "baru": "SITI AMINAH"}]}, False),
        ("nonaktif", {"alasan_nonaktif": "meninggal"}, False),
        ("nonaktif", {"alasan_nonaktif": "data_ganda"}, False),
        ("nonaktif", {"alasan_nonaktif": "pindah_dalam_negeri"}, True),
        ("prioritas_program", {"programs": ["PKH"]}, False),
        ("perbaikan", {"perubahan": [{"field": "anggota", "lama": "3 orang", "baru": "4 orang"}]}, True),
    ]
    with db.session_scope(engine) as session:
        for fid, (jenis, kwargs, _) in zip(families[KEL], cases):
            proposals.add_from_register(mid, fid, jenis=jenis, actor=op, session=session, **kwargs)
    with db.session_scope(engine) as session:
        items = proposals.list_proposals(mid, actor=op, session=session)
        rule = verification.rule_for(KEL, session=session)
    assert [verification.needs_verification(p, rule) for p in items] == [want for *_, want in cases]
    with db.session_scope(engine) as session:
        session.add(KotaSetting(kota_kode="31.75", settings=json.dumps({"verifikasi": {"baru": False,
                                                                                     "prioritas_program": True}})))
    with db.session_scope(engine) as session:
        rule = verification.rule_for(KEL, session=session)
    got = [verification.needs_verification(p, rule) for p in items]
    assert got[0] is False and got[6] is True and got[1] is True


# --- the visit form ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("changes, code", [
    ({"kondisi": {"lantai": "emas_murni"}}, "kondisi_invalid"),
    ({"kondisi": {"aset": ["kapal_pesiar"]}}, "aset_invalid"),
    ({"kriteria_bps": [1, 2, 15]}, "kriteria_invalid"),
    ({"tanggal": date.today() + timedelta(days=1)}, "date_invalid"),
    ({"hasil": "hilang"}, "hasil_invalid"),
    ({"rekomendasi": "mungkin"}, "rekomendasi_invalid"),
])
def test_update_visit_refuses_bad_values(engine, people, families, changes, code):
    """Guards the visit form's code lists: an unknown code, criterion 15, a future date… are refused with a
    stable code and change nothing (the version stays)."""
    visit = visit_for(engine, people["operator"], people["petugas"], families[KEL][0])
    with pytest.raises(InvalidInput) as err:
        update(engine, people["petugas"], visit["id"], changes, visit["version"])
    assert err.value.code == code
    with db.session_scope(engine) as session:
        again = verification.get_visit(visit["id"], actor=people["petugas"], session=session)
    assert again["version"] == visit["version"] and again["kondisi"] == {} and again["kriteria_bps"] == []


def test_update_visit_saves_and_detects_stale_edit(engine, people, families):
    """Guards lost updates: a save with the current version succeeds; a second save with the old version is
    refused with StaleEdit and does not overwrite."""
    visit = visit_for(engine, people["operator"], people["petugas"], families[KEL][0])
    saved = update(engine, people["petugas"], visit["id"],
                   {"kondisi": {"lantai": "tanah", "aset": ["sepeda_motor"]}, "kriteria_bps": [2, 1, 2],
                    "anggota_hadir": 3, "tanggal": VISIT_DAY}, visit["version"])
    assert saved["version"] == visit["version"] + 1 and saved["kriteria_bps"] == [1, 2]
    with pytest.raises(StaleEdit):
        update(engine, people["operator"], visit["id"], {"catatan": "ditimpa"}, visit["version"])
    with db.session_scope(engine) as session:
        again = verification.get_visit(visit["id"], actor=people["petugas"], session=session)
    assert again["catatan"] == "" and again["kondisi"]["lantai"] == "tanah"


def test_finish_visit_requires_hasil_and_rekomendasi(engine, people, families):
    """Guards finishing: no hasil → hasil_missing; ditemukan without rekomendasi → rekomendasi_missing;
    tidak_ditemukan needs no recommendation."""
    pet = people["petugas"]
    visit = visit_for(engine, people["operator"], pet, families[KEL][0])
    with pytest.raises(InvalidInput) as err, db.session_scope(engine) as session:
        verification.finish_visit(visit["id"], actor=pet, session=session)
    assert err.value.code == "hasil_missing"
    v = update(engine, pet, visit["id"], {"hasil": "ditemukan"}, visit["version"])
    with pytest.raises(InvalidInput) as err, db.session_scope(engine) as session:
        verification.finish_visit(visit["id"], actor=pet, session=session)
    assert err.value.code == "rekomendasi_missing"
    update(engine, pet, visit["id"], {"rekomendasi": "layak"}, v["version"])
    with db.session_scope(engine) as session:
        assert verification.finish_visit(visit["id"], actor=pet, session=session)["status"] == "selesai"
    other = visit_for(engine, people["operator"], pet, families[KEL][1])
    update(engine, pet, other["id"], {"hasil": "tidak_ditemukan"}, other["version"])
    with db.session_scope(engine) as session:
        assert verification.finish_visit(other["id"], actor=pet, session=session)["status"] == "selesai"


def test_targeting_hints(engine, people, families):
    """Guards the exclusion/inclusion hints: ≥ 9 BPS criteria with desil 7 → kandidat_exclusion_error; desil 1
    with a car → kandidat_inclusion_error; desil itself is never changed."""
    pet = people["petugas"]
    rich, poor = families[KEL][:2]
    with db.session_scope(engine) as session:
        for fid, desil in ((rich, 7), (poor, 1)):
            fam = session.get(Family, fid)
            fam.desil = desil
            session.add(fam)
    for fid, changes in ((rich, {"kriteria_bps": list(range(1, 10)), "rekomendasi": "perlu_dibahas"}),
                         (poor, {"kriteria_bps": [1, 2, 3, 4, 5], "kondisi": {"aset": ["mobil"]},
                                 "rekomendasi": "tidak_layak"})):
        visit = visit_for(engine, people["operator"], pet, fid)
        update(engine, pet, visit["id"], {"hasil": "ditemukan", **changes}, visit["version"])
        with db.session_scope(engine) as session:
            verification.finish_visit(visit["id"], actor=pet, session=session)
    with db.session_scope(engine) as session:
        hints = {(f.family_id, f.code) for f in session.exec(select(Flag).where(Flag.code.like("kandidat_%")))}
        desil = {fid: session.get(Family, fid).desil for fid in (rich, poor)}
    assert hints == {(rich, "kandidat_exclusion_error"), (poor, "kandidat_inclusion_error")}
    assert desil == {rich: 7, poor: 1}


# --- photos -----------------------------------------------------------------------------------------------


def test_add_photo_keeps_original_and_exif_free_copies(engine, people, families):
    """Guards storage: the original is kept byte for byte (sha256 equal to hashlib's of the upload, GPS still in
    it), the display and thumbnail copies carry no EXIF, and the EXIF reading is stored with the photo."""
    visit = visit_for(engine, people["operator"], people["petugas"], families[KEL][0])
    data = photo_at(31, *HOME)
    photo = add_photo(engine, people["petugas"], visit["id"], data, "depan", "IMG_0001.jpg")
    store = filestore.default_store()
    with db.session_scope(engine) as session:
        row = session.get(VisitPhoto, photo["id"])
        original = session.get(StoredFile, row.original_id)
        copies = [session.get(StoredFile, row.display_id), session.get(StoredFile, row.thumb_id)]
    assert original.sha256 == row.sha256 == hashlib.sha256(data).hexdigest()
    assert store.get(original.sha256) == data
    assert original.original_name == "IMG_0001.jpg" and original.media_type == "image/jpeg"
    assert exiftool_json(store.get(original.sha256))["GPSLatitude"] == pytest.approx(HOME[0])
    for copy in copies:
        tags = exiftool_json(store.get(copy.sha256))
        assert not [k for k in tags if k.startswith("GPS") or k in ("Make", "Model", "DateTimeOriginal")]
    assert (row.latitude, row.longitude) == (pytest.approx(HOME[0]), pytest.approx(HOME[1]))
    assert row.camera == "Samsung Galaxy A14" and row.offset_assumed is False
    assert photo["display_sha256"] == copies[0].sha256 and photo["thumb_sha256"] == copies[1].sha256
    assert "gps_missing" not in photo["flags"] and "time_missing" not in photo["flags"]


@pytest.mark.parametrize("bad", ["text", "truncated"])
def test_unreadable_upload_leaves_no_row_and_no_file(engine, people, families, bad):
    """Guards 'nothing half-stored': an unreadable upload raises InvalidInput (code unreadable) and leaves no
    VisitPhoto/StoredFile row and no new file in the store."""
    visit = visit_for(engine, people["operator"], people["petugas"], families[KEL][0])
    good = jpeg_bytes(house_scene(32))
    data = b"bukan foto\n" * 300 if bad == "text" else good[: len(good) // 2]
    before_rows, before_files = counts(engine), stored_files()
    with pytest.raises(InvalidInput) as err:
        add_photo(engine, people["petugas"], visit["id"], data, "depan", "rumah.jpg")
    assert err.value.code == "unreadable" and "rumah.jpg" in err.value.message
    assert counts(engine) == before_rows
    assert stored_files() == before_files


def test_upload_failing_half_way_removes_its_files(engine, people, families, monkeypatch):
    """Guards a failure after the files were written (here: the audit write fails): the transaction rolls back
    and session_scope removes the three files the upload wrote; no rows remain."""
    visit = visit_for(engine, people["operator"], people["petugas"], families[KEL][0])
    data = photo_at(33, *HOME)
    before_rows, before_files = counts(engine), stored_files()
    real = evidence.audit.record

    def failing(session, actor, action, **kwargs):
        if action == "verification.photo_added":
            raise RuntimeError("disk penuh")
        return real(session, actor, action, **kwargs)

    monkeypatch.setattr(evidence.audit, "record", failing)
    with pytest.raises(RuntimeError):
        add_photo(engine, people["petugas"], visit["id"], data)
    assert counts(engine) == before_rows
    assert stored_files() == before_files


def test_duplicates_across_families_and_wilayah(engine, people, families):
    """Guards dup_exact/dup_near: the same photo for another family is dup_exact naming Kel. Kayu Manis, a
    resized copy is dup_near, and for a user outside Kayu Manis the message names only the kelurahan (no KK,
    no RT/RW, no family id)."""
    op, pet = people["operator"], people["petugas"]
    a, b, c = families[KEL][:3]
    original = jpeg_bytes(house_scene(34, (800, 600)))
    resized = jpeg_bytes(house_scene(34, (800, 600)).resize((400, 300)))
    first = add_photo(engine, pet, visit_for(engine, op, pet, a)["id"], original)
    assert not {"dup_exact", "dup_near"} & set(first["flags"])
    exact = add_photo(engine, pet, visit_for(engine, op, pet, b)["id"], original)
    assert "dup_exact" in exact["flags"] and "Kel. Kayu Manis" in exact["flags"]["dup_exact"]
    with db.session_scope(engine) as session:
        kk_a = session.get(Family, a).no_kk
    assert kk_a[-4:] in exact["flags"]["dup_exact"]  # inside the user's wilayah the family is named
    near = add_photo(engine, pet, visit_for(engine, op, pet, c)["id"], resized)
    assert "dup_near" in near["flags"] and "dup_exact" not in near["flags"]
    assert "Kel. Kayu Manis" in near["flags"]["dup_near"]
    outsider = people["petugas_pm"]
    far = add_photo(engine, outsider,
                    visit_for(engine, people["operator_pm"], outsider, families[OTHER][0], kode=OTHER)["id"],
                    original)
    message = far["flags"]["dup_exact"]
    assert "Kel. Kayu Manis" in message
    assert "KK" not in message and "RT" not in message and kk_a[-4:] not in message
    with db.session_scope(engine) as session:
        found = evidence.find_duplicates(hashlib.sha256(original).hexdigest(),
                                         photos.analyse(original).phash, actor=outsider, session=session,
                                         exclude_family=families[OTHER][0])
    assert found and all(d["family_id"] is None and d["kelurahan"] == "Kayu Manis" for d in found)


def _codes(items: list[dict]) -> dict:
    return {item["photo_id"]: set(item["codes"]) for item in items}


def test_visit_flags_kinds_distance_and_time(engine, people, families):
    """Guards the visit-level evidence: kind_missing until tampak depan and tampak dalam exist; a photo 1 km
    from the others → gps_far_from_visit; the family's location > 150 m away → gps_far_from_family (100 m is
    fine); a photo taken 30 days before the visit → time_far_from_visit."""
    pet, fid = people["petugas"], families[KEL][0]
    visit = visit_for(engine, people["operator"], pet, fid, tanggal=VISIT_DAY)
    depan = add_photo(engine, pet, visit["id"], photo_at(41, *HOME), "depan")
    assert depan["latitude"] == pytest.approx(HOME[0])
    items = flags_of(engine, visit["id"])
    assert {"kind_missing"} in [set(i["codes"]) for i in items if i["photo_id"] is None]
    dalam = add_photo(engine, pet, visit["id"], photo_at(42, HOME[0] - 0.0002, HOME[1]), "dalam")
    items = flags_of(engine, visit["id"])
    assert all(i["photo_id"] is not None for i in items)  # no kind_missing any more
    assert _codes(items) == {depan["id"]: set(), dalam["id"]: set()}

    far_lat = HOME[0] - 0.0093  # about 1 km south
    far = add_photo(engine, pet, visit["id"], photo_at(43, far_lat, HOME[1]), "lainnya")
    assert far["latitude"] == pytest.approx(far_lat)
    old = add_photo(engine, pet, visit["id"], photo_at(44, *HOME, taken="2026:10:16 09:00:00"), "dapur_km")
    codes = _codes(flags_of(engine, visit["id"]))
    assert codes[far["id"]] == {"gps_far_from_visit"}
    assert codes[old["id"]] == {"time_far_from_visit"}
    assert codes[depan["id"]] == codes[dalam["id"]] == set()

    for lat, source, expect_far in ((HOME[0] - 0.0009, "typed", False), (HOME[0] - 0.0018, "map", True)):
        with db.session_scope(engine) as session:
            evidence.set_family_location(fid, lat, HOME[1], source, REASON, actor=pet, session=session)
        codes = _codes(flags_of(engine, visit["id"]))
        assert ("gps_far_from_family" in codes[depan["id"]]) is expect_far, (lat, codes)
        assert "gps_far_from_family" in codes[far["id"]]


def test_set_family_location_checks(engine, people, families):
    """Guards the family location: a positive latitude (the sign error) is outside DKI, typed/map points need
    a reason, an EXIF point does not, and every change is audited with its source."""
    pet, fid = people["petugas"], families[KEL][0]
    visit_for(engine, people["operator"], pet, fid)
    with pytest.raises(InvalidInput) as err, db.session_scope(engine) as session:
        evidence.set_family_location(fid, 6.2, 106.8602, "typed", REASON, actor=pet, session=session)
    assert err.value.code == "coordinate_outside_dki"
    for source in ("typed", "map"):
        with pytest.raises(InvalidInput) as err, db.session_scope(engine) as session:
            evidence.set_family_location(fid, -6.2, 106.8602, source, "  ", actor=pet, session=session)
        assert err.value.code == "reason_missing"
    with pytest.raises(InvalidInput) as err, db.session_scope(engine) as session:
        evidence.set_family_location(fid, "-6,2", "106,86", "typed", REASON, actor=pet, session=session)
    assert err.value.code == "coordinate_invalid"
    with db.session_scope(engine) as session:
        evidence.set_family_location(fid, -6.2001, 106.8602, "exif", "", actor=pet, session=session)
    with db.session_scope(engine) as session:
        fam = session.get(Family, fid)
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "verification.location_set")).one()
    assert (fam.latitude, fam.longitude, fam.location_source) == (-6.2001, 106.8602, "exif")
    assert json.loads(entry.after)["sumber"] == "exif"


def test_explain_photo_is_audited(engine, people, families):
    """Guards the officer's explanation of a flagged photo: a too-short note is refused, a real one is stored
    and audited with before and after."""
    pet = people["petugas"]
    visit = visit_for(engine, people["operator"], pet, families[KEL][0])
    photo = add_photo(engine, pet, visit["id"], jpeg_bytes(house_scene(45)))
    with pytest.raises(InvalidInput) as err, db.session_scope(engine) as session:
        evidence.explain_photo(photo["id"], "ok", actor=pet, session=session)
    assert err.value.code == "note_missing"
    note = "GPS ponsel mati; lokasi dikonfirmasi Ketua RT 003"
    with db.session_scope(engine) as session:
        evidence.explain_photo(photo["id"], note, actor=pet, session=session)
    with db.session_scope(engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "verification.photo_explained")).all()
        assert session.get(VisitPhoto, photo["id"]).note == note
    assert len(entries) == 1 and json.loads(entries[0].after) == {"catatan": note}
    assert entries[0].actor_username == "petugas.km"


def test_near_duplicate_lookup_uses_the_index(engine, people, families, monkeypatch):
    """Guards the indexed near-duplicate search: among 2,000 unrelated stored hashes the near copy of a stored
    photo is found, none of the unrelated ones is, and far fewer than 2,000 candidates reach Python."""
    op, pet = people["operator"], people["petugas"]
    a, b = families[KEL][:2]
    scene = house_scene(46, (800, 600))
    stored = add_photo(engine, pet, visit_for(engine, op, pet, a)["id"], jpeg_bytes(scene))
    rng = np.random.default_rng(2026)
    with db.session_scope(engine) as session:
        template = session.get(VisitPhoto, stored["id"])
        rows = []
        for i in range(2000):
            h = int(rng.integers(0, 2**32)) << 32 | int(rng.integers(0, 2**32))
            rows.append(VisitPhoto(visit_id=template.visit_id, family_id=b, kelurahan_kode=KEL, kind="lainnya",
                                   original_id=template.original_id, display_id=template.display_id,
                                   thumb_id=template.thumb_id, sha256=f"{i:064x}", phash=f"{h:016x}", width=640,
                                   height=480, format="JPEG", created_by="test"))
        session.add_all(rows)
        session.flush()
        session.add_all([PhotoHashChunk(photo_id=r.id, position=i, value=v) for r in rows
                         for i, v in enumerate(photos.hash_chunks(int(r.phash, 16)))])
    near = photos.analyse(jpeg_bytes(scene.resize((500, 375)), quality=70))
    calls = []
    real = photos.hamming
    monkeypatch.setattr(photos, "hamming", lambda x, y: calls.append(1) or real(x, y))
    with db.session_scope(engine) as session:
        found = evidence.find_duplicates(near.sha256, near.phash, actor=op, session=session,
                                         exclude_family=families[KEL][2])
    assert [(d["photo_id"], d["exact"]) for d in found] == [(stored["id"], False)]
    assert found[0]["distance"] <= photos.NEAR_DUPLICATE_BITS
    assert len(calls) < 400, f"{len(calls)} stored hashes compared in Python"
