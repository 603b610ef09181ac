"""Document numbers (core.doc_numbers), editable wording (core.doc_wording) and the office letterhead
(core.offices profile and logo) on SQLite and PostgreSQL.

Numbers: patterns per office and document type, a running number that never repeats (per office, per type, per
year when the pattern shows the year) also when many sessions take numbers at once, and refused patterns.
Wording: an admin's paragraph shows on the next draft; unknown placeholders, stray braces and empty text are
refused with nothing stored. Letterhead: the profile's fields and logo appear on the kop surat (read back with
poppler's ``pdftotext`` and ``pdfimages``); a logo that is not an image or too large, and malformed profile fields,
are refused with nothing stored.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
import threading
from datetime import date

import pytest

from core import db, doc_numbers, doc_wording, documents, offices
from core.errors import AccessDenied, InvalidInput, MuskelError, NotFound, StaleEdit
from tests.unit.test_documents import (BA, KEL, KEL2, ON, World, count, draft, finalise, flat, held_meeting,
                                       make_world, pdf_pages, run)

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

@pytest.fixture
def world(engine, make_account) -> World:
    return make_world(engine, make_account)


def take(engine, kode: str, doc_type: str, on: date = ON) -> str:
    """One running number, in its own unit of work (as finalising takes it)."""
    with db.session_scope(engine) as session:
        return doc_numbers.next_number(kode, doc_type, bulan=on.month, tahun=on.year, session=session)


def set_pattern(w: World, pattern: str, *, kode: str = KEL, doc_type: str = BA, version: int | None = None,
                actor=None) -> None:
    if version is None:
        version = next(p["version"] for p in run(w.engine, doc_numbers.patterns, kode) if p["doc_type"] == doc_type)
    run(w.engine, doc_numbers.update_pattern, kode, doc_type, pattern, expected_version=version,
        actor=actor or w.admin)


def is_postgres(engine) -> bool:
    return engine.dialect.name == "postgresql"


def pdf_images(data: bytes) -> list[tuple[int, int]]:
    """(width, height) of every image in the PDF, as ``pdfimages -list`` reports them."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(data)
        fh.flush()
        out = subprocess.run(["pdfimages", "-list", fh.name], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    return [(int(r[3]), int(r[4])) for r in rows if r[2] == "image"]


def image_bytes(size: tuple[int, int], fmt: str = "PNG", noise: bool = False) -> bytes:
    from PIL import Image

    if noise:
        img = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        img = Image.new("RGB", size, (20, 90, 160))
    buffer = io.BytesIO()
    img.save(buffer, format=fmt)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------ numbers


def test_default_patterns_per_type_office_and_year(world):
    """Guards the shipped numbering: per document type and office, with the Roman month and the year, restarting
    at 001 in a new year (the year in the number keeps it unique)."""
    assert take(world.engine, KEL, BA) == "001/BA/MUSKEL/31.75.01.1003/XI/2026"
    assert take(world.engine, KEL, BA) == "002/BA/MUSKEL/31.75.01.1003/XI/2026"
    assert take(world.engine, KEL, "sptjm") == "001/SPTJM/MUSKEL/31.75.01.1003/XI/2026"
    assert take(world.engine, KEL2, BA) == "001/BA/MUSKEL/31.75.01.1004/XI/2026"
    assert take(world.engine, KEL, BA, date(2026, 12, 1)) == "003/BA/MUSKEL/31.75.01.1003/XII/2026"
    assert take(world.engine, KEL, BA, date(2027, 1, 4)) == "001/BA/MUSKEL/31.75.01.1003/I/2027"
    assert take(world.engine, "31.75.01", "bast_kecamatan") == "001/BAST/MUSKEL/31.75.01/XI/2026"
    assert take(world.engine, "31.75", "pengesahan") == "001/PENGESAHAN/MUSKEL/31.75/XI/2026"


def test_pattern_without_year_never_restarts(world):
    """Guards against a repeated number: when the pattern does not show the year, the count runs on into the next
    year instead of restarting at 001."""
    set_pattern(world, "{nomor}/BA-KM/{kode_kelurahan}")
    assert take(world.engine, KEL, BA, date(2026, 12, 30)) == "001/BA-KM/31.75.01.1003"
    assert take(world.engine, KEL, BA, date(2027, 1, 2)) == "002/BA-KM/31.75.01.1003"


def test_custom_pattern_printed_on_the_final(world):
    """Guards the admin's pattern end to end: the finalised Berita Acara carries it, on the page and in the
    registry, with every placeholder filled."""
    set_pattern(world, "{nomor}/{kode_kecamatan}/{kode_kota}/BA/{bulan}/{tahun}")
    assert [p["pattern"] for p in run(world.engine, doc_numbers.patterns, KEL) if p["doc_type"] == BA] == [
        "{nomor}/{kode_kecamatan}/{kode_kota}/BA/{bulan}/{tahun}"]
    mid = held_meeting(world.engine, world.operator, world.lurah, families=[])
    final = finalise(world, BA, {"meeting_id": mid})
    assert final["nomor"] == "001/31.75.01/31.75/BA/11/2026"
    data = run(world.engine, documents.download, final["id"], actor=world.lurah)[0]
    pages = pdf_pages(data)
    assert "Nomor: 001/31.75.01/31.75/BA/11/2026" in pages[0]
    assert all("Nomor 001/31.75.01/31.75/BA/11/2026" in p for p in pages)


@pytest.mark.parametrize("pattern, code, words", [
    ("BA/MUSKEL/{kode_kelurahan}/{tahun}", "number_pattern_no_seq", "{nomor}"),
    ("{nomor}/BA/{foo}/{tahun}", "number_pattern_unknown", "foo"),
    ("{nomor}/BA/{tahun", "number_pattern_braces", "kurung kurawal"),
    ("{nomor}/" + "X" * 120, "number_pattern_long", "120 karakter"),
    ("   ", "number_pattern_no_seq", "{nomor}"),
])
def test_bad_number_pattern_refused_and_nothing_stored(world, pattern, code, words):
    """Guards the pattern editor: no running number, an unknown placeholder, a stray brace or an over-long pattern
    is refused with a message that says what is wrong, and the office keeps its pattern."""
    with pytest.raises(InvalidInput) as exc:
        set_pattern(world, pattern, version=0)
    assert exc.value.code == code and words in exc.value.message and exc.value.field == "pattern"
    assert count(world.engine, "numberpattern") == 0
    assert take(world.engine, KEL, BA) == "001/BA/MUSKEL/31.75.01.1003/XI/2026"


def test_pattern_edit_stale_and_access(world):
    """Guards the pattern editor against two admins overwriting each other and against non-admins; an unknown
    document type is refused."""
    set_pattern(world, "{nomor}/BA/{tahun}", version=0)
    with pytest.raises(StaleEdit):
        set_pattern(world, "{nomor}/BERITA/{tahun}", version=0)
    with pytest.raises(AccessDenied):
        set_pattern(world, "{nomor}/BERITA/{tahun}", version=1, actor=world.lurah)
    with pytest.raises(InvalidInput) as exc:
        set_pattern(world, "{nomor}/X/{tahun}", doc_type="surat_cinta", version=0)
    assert exc.value.code == "unknown_doc_type"
    assert take(world.engine, KEL, BA) == "001/BA/2026"


@pytest.mark.parametrize("threads, per_thread", [(8, 3)])
def test_concurrent_next_number_distinct_and_consecutive(engine, threads, per_thread):
    """Guards the running number under load: sessions taking numbers at the same moment from several threads get
    each number once and leave no gap (a thread's failure, e.g. a lock timeout, is reported, not hidden)."""
    start = threading.Barrier(threads)
    taken: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            start.wait(timeout=30)
            for _ in range(per_thread):
                number = take(engine, KEL, "sptjm")
                with lock:
                    taken.append(number)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=120)
    assert errors == []
    total = threads * per_thread
    assert sorted(taken) == [f"{n:03d}/SPTJM/MUSKEL/31.75.01.1003/XI/2026" for n in range(1, total + 1)]


def test_pattern_with_literal_year_does_not_block_finalising(world):
    """Guards against an admin's harmless-looking pattern change ("{tahun}" typed as 2026) blocking the Lurah:
    the next Berita Acara is finalised with a number not used before, or the change is refused clearly."""
    first = held_meeting(world.engine, world.operator, world.lurah, families=[])
    set_pattern(world, "{nomor}/BA/{kode_kelurahan}/{tahun}")
    assert finalise(world, BA, {"meeting_id": first})["nomor"] == "001/BA/31.75.01.1003/2026"
    try:
        set_pattern(world, "{nomor}/BA/{kode_kelurahan}/2026")
    except InvalidInput:
        return  # refusing the pattern is an acceptable answer
    second = held_meeting(world.engine, world.operator, world.lurah, families=[], periode="2026-10",
                          held=date(2026, 10, 8))
    try:
        nomor = finalise(world, BA, {"meeting_id": second})["nomor"]
    except MuskelError:
        return  # so is a clear refusal at finalising
    assert nomor != "001/BA/31.75.01.1003/2026"


def test_number_pattern_with_format_spec_refused_or_works(world):
    """Guards an admin who wants four-digit numbers and writes {nomor:04d}: refused with a clear message, or it
    works; never accepted and then breaking every finalisation."""
    mid = held_meeting(world.engine, world.operator, world.lurah, families=[])
    try:
        set_pattern(world, "{nomor:04d}/BA/{tahun}")
    except InvalidInput:
        assert count(world.engine, "numberpattern") == 0
        return
    assert finalise(world, BA, {"meeting_id": mid})["nomor"] in ("0001/BA/2026", "001/BA/2026")


def test_long_pattern_accepted_is_usable(world, request):
    """Guards a pattern longer than the registry's number column: refused up front, or the final carries the whole
    number."""
    pattern = "{nomor}/BERITA-ACARA-MUSYAWARAH-KELURAHAN/{kode_kelurahan}/" + "DTSEN-" * 12 + "{bulan_romawi}/{tahun}"
    assert 120 < len(pattern) <= 200
    mid = held_meeting(world.engine, world.operator, world.lurah, families=[])
    try:
        set_pattern(world, pattern)
    except InvalidInput:
        return
    expected = "001/BERITA-ACARA-MUSYAWARAH-KELURAHAN/31.75.01.1003/" + "DTSEN-" * 12 + "XI/2026"
    assert finalise(world, BA, {"meeting_id": mid})["nomor"] == expected


# ------------------------------------------------------------------------------------------ wording


def update_text(w: World, key: str, text: str, version: int = 0, actor=None) -> None:
    run(w.engine, doc_wording.update, key, text, expected_version=version, actor=actor or w.admin)


def test_new_wording_shows_on_the_next_draft_and_can_be_reset(world):
    """Guards the wording editor: the admin's paragraph (with its placeholders filled, and {{ }} printed as
    braces) is on the next draft; setting the shipped text again removes the override."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    text = "Rapat menyetujui {kk} keluarga atau {jiwa} jiwa {{lihat Lampiran II}}."
    update_text(world, "ba.hasil", text)
    page = flat(pdf_pages(draft(world, BA, {"meeting_id": mid}))[0])
    assert "Rapat menyetujui 2 (dua) keluarga atau 5 (lima) jiwa {lihat Lampiran II}." in page
    assert "Musyawarah menyepakati usulan sebanyak" not in page
    listed = {p["key"]: p for p in run(world.engine, doc_wording.list_paragraphs)}
    assert listed["ba.hasil"]["diubah"] and listed["ba.hasil"]["version"] == 1
    with pytest.raises(StaleEdit):
        update_text(world, "ba.hasil", "Disepakati {kk} keluarga ({jiwa} jiwa).", version=0)
    update_text(world, "ba.hasil", doc_wording.BY_KEY["ba.hasil"].default, version=1)
    assert count(world.engine, "documenttext") == 0
    page = flat(pdf_pages(draft(world, BA, {"meeting_id": mid}))[0])
    assert "Musyawarah menyepakati usulan sebanyak 2 (dua) keluarga dan 5 (lima) jiwa" in page


@pytest.mark.parametrize("key, text, code, words", [
    ("ba.hasil", "Disepakati {foo} keluarga.", "template_unknown_placeholder", "{foo}"),
    ("ba.hasil", "Disepakati {kk} keluarga, nomor {nomor_ba}.", "template_unknown_placeholder", "{nomor_ba}"),
    ("ba.penutup", "Demikian, {kk} keluarga.", "template_unknown_placeholder", "tidak ada"),
    ("ba.hasil", "Disepakati {kk keluarga.", "template_braces", "{{"),
    ("ba.hasil", "Disepakati {} keluarga.", "template_unknown_placeholder", "{kk}, {jiwa}"),
    ("sptjm.pembuka", "   \n  ", "template_empty", "kosong"),
])
def test_bad_wording_refused_and_nothing_stored(world, key, text, code, words):
    """Guards the wording editor against paragraphs that would print a hole or fail: the message names the
    problem (and the placeholders the paragraph offers), nothing is stored, drafts keep the old wording."""
    with pytest.raises(InvalidInput) as exc:
        update_text(world, key, text)
    assert exc.value.code == code and words in exc.value.message
    with pytest.raises(InvalidInput):
        doc_wording.check(key, text)
    assert count(world.engine, "documenttext") == 0
    assert run(world.engine, doc_wording.texts)[key] == doc_wording.BY_KEY[key].default


def test_wording_only_by_admin_and_known_paragraphs(world):
    """Guards the province-wide wording against edits by a Lurah and against unknown paragraph keys."""
    with pytest.raises(AccessDenied):
        update_text(world, "ba.penutup", "Demikian.", actor=world.lurah)
    with pytest.raises(NotFound):
        update_text(world, "ba.tidak_ada", "Demikian.")
    assert count(world.engine, "documenttext") == 0


def test_wording_with_format_spec_refused_or_renders(world):
    """Guards the promise that a stored paragraph never breaks a document: {kk:d} is refused, or it renders."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    try:
        update_text(world, "ba.hasil", "Disepakati {kk:d} keluarga ({jiwa} jiwa).")
    except InvalidInput:
        assert count(world.engine, "documenttext") == 0
        return
    assert "Disepakati" in flat(pdf_pages(draft(world, BA, {"meeting_id": mid}))[0])


# ------------------------------------------------------------------------------------------ letterhead


def profile_values(w: World, kode: str = KEL) -> tuple[dict, int]:
    p = run(w.engine, offices.get_profile, kode)
    return {k: p[k] for k in offices.FIELDS}, p["version"]


def sptjm_draft(w: World) -> bytes:
    mid = held_meeting(w.engine, w.operator, w.lurah, families=[])
    finalise(w, BA, {"meeting_id": mid})
    return draft(w, "sptjm", {"meeting_id": mid})


def test_profile_fields_on_the_kop_surat(world):
    """Guards the letterhead: office name (as typed, '&' included), address, phone, email and postal code."""
    values, version = profile_values(world)
    values.update(nama_kantor="Kantor Kelurahan Kayu Manis & Sekitarnya", alamat="Jl. Kayu Manis Raya No. 1",
                  telepon="(021) 8581234", email="kel.kayumanis@jakarta.go.id", kode_pos="13131")
    run(world.engine, offices.update_profile, KEL, values, expected_version=version, actor=world.admin)
    head = pdf_pages(sptjm_draft(world))[0].split("SURAT PERNYATAAN")[0]
    assert "PEMERINTAH PROVINSI DKI JAKARTA" in head and "KOTA ADMINISTRASI JAKARTA TIMUR" in head
    assert "KANTOR KELURAHAN KAYU MANIS & SEKITARNYA" in head and "&amp;" not in head
    assert "Jl. Kayu Manis Raya No. 1" in head
    assert "Telepon (021) 8581234 · Email kel.kayumanis@jakarta.go.id · Kode Pos 13131" in head


def test_logo_on_the_kop_surat_and_removed(world):
    """Guards the logo: a PNG appears as the one image of the letterhead; removing it leaves none."""
    _, version = profile_values(world)
    logo = image_bytes((300, 240))
    run(world.engine, offices.set_logo, KEL, logo, "logo.png", expected_version=version, actor=world.admin)
    mid = held_meeting(world.engine, world.operator, world.lurah, families=[])
    finalise(world, BA, {"meeting_id": mid})
    assert pdf_images(draft(world, "sptjm", {"meeting_id": mid})) == [(300, 240)]
    _, version = profile_values(world)
    run(world.engine, offices.set_logo, KEL, None, "", expected_version=version, actor=world.admin)
    assert pdf_images(draft(world, "sptjm", {"meeting_id": mid})) == []


@pytest.mark.parametrize("make, name, code", [
    (lambda: b"bukan gambar sama sekali", "logo.png", "logo_not_image"),
    (lambda: b"%PDF-1.4\n" + b"0" * 200, "logo.png", "logo_not_image"),
    (lambda: image_bytes((40, 40), "GIF"), "logo.png", "logo_not_image"),
    (lambda: image_bytes((5000, 10)), "lebar.png", "logo_too_large"),
    (lambda: image_bytes((1000, 1000), noise=True), "berat.png", "logo_too_large"),
])
def test_bad_logo_refused_and_nothing_stored(world, make, name, code):
    """Guards the logo upload: not an image (whatever the name), not PNG/JPG, wider than 4000 px or over 2 MB is
    refused with a clear message; nothing is stored and the earlier logo stays on the letterhead."""
    data = make()
    if name == "berat.png":  # the fixture really is over 2 MB (and within 4000 px, so size is what is refused)
        assert len(data) > 2 * 1024 * 1024
    _, version = profile_values(world)
    good = image_bytes((200, 200))
    run(world.engine, offices.set_logo, KEL, good, "logo.png", expected_version=version, actor=world.admin)
    _, version = profile_values(world)
    before = {t: count(world.engine, t) for t in ("storedfile", "officeprofile", "auditentry")}
    with pytest.raises(InvalidInput) as exc:
        run(world.engine, offices.set_logo, KEL, data, name, expected_version=version, actor=world.admin)
    assert exc.value.code == code and exc.value.field == "logo"
    assert exc.value.message.startswith(("Logo", "Berkas logo"))
    assert {t: count(world.engine, t) for t in before} == before
    assert profile_values(world)[1] == version
    assert pdf_images(sptjm_draft(world)) == [(200, 200)]


def test_logo_only_by_admin(world):
    """Guards the letterhead against a Lurah changing his own logo or profile."""
    _, version = profile_values(world)
    with pytest.raises(AccessDenied):
        run(world.engine, offices.set_logo, KEL, image_bytes((50, 50)), "logo.png", expected_version=version,
            actor=world.lurah)
    values, _ = profile_values(world)
    with pytest.raises(AccessDenied):
        run(world.engine, offices.update_profile, KEL, values, expected_version=version, actor=world.lurah)
    assert profile_values(world)[1] == version


@pytest.mark.parametrize("changes, code, fieldname", [
    ({"email": "kelurahan.kayumanis"}, "email_invalid", "email"),
    ({"nip_pimpinan": "19780512 2005"}, "nip_invalid", "nip_pimpinan"),
    ({"kode_pos": "1313"}, "postal_code_invalid", "kode_pos"),
    ({"pengganti_sebutan": "Pj."}, "acting_invalid", "pengganti_sebutan"),
    ({"pengganti_sebutan": "Plt.", "pengganti_nama": ""}, "acting_name_missing", "pengganti_nama"),
    ({"pengganti_sebutan": "a.n.", "pengganti_nama": "Rudi Hartono"}, "acting_title_missing", "pengganti_jabatan"),
])
def test_bad_profile_refused_and_nothing_stored(world, changes, code, fieldname):
    """Guards the letterhead data: a malformed email, NIP or postal code, or an incomplete acting signer is refused
    with the field named; the stored profile (and so the documents) stay as they were."""
    values, version = profile_values(world)
    with pytest.raises(InvalidInput) as exc:
        run(world.engine, offices.update_profile, KEL, {**values, **changes}, expected_version=version,
            actor=world.admin)
    assert exc.value.code == code and exc.value.field == fieldname
    assert profile_values(world) == (values, version)
    with pytest.raises(StaleEdit):
        run(world.engine, offices.update_profile, KEL, values, expected_version=version - 1, actor=world.admin)


def test_overlong_profile_field_refused_or_printed_whole(world, request):
    """Guards the profile form against input longer than the database column: refused with a message, or stored
    and printed in full — never a database error."""
    values, version = profile_values(world)
    telepon = "(021) 8581234, (021) 8581235, WA 0812-3456-7890"
    assert len(telepon) > 40
    try:
        run(world.engine, offices.update_profile, KEL, {**values, "telepon": telepon}, expected_version=version,
            actor=world.admin)
    except InvalidInput:
        assert profile_values(world) == (values, version)
        return
    assert telepon in flat(pdf_pages(sptjm_draft(world))[0])
