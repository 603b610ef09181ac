"""The document screens through AppTest: Dokumen (draft, finalise by the Lurah only, the BAST's scan
precondition, a scan uploaded on the page), Cek keaslian dokumen (public: by code, by PDF, bad input, rate limit),
Dokumen kecamatan (the Camat records receipt), Teks & nomor dokumen (bad placeholders refused) and Pengesahan
(nothing waiting).

The closed musyawarah is built through the core services; numbers are checked against the month computed here
independently. Everything runs against the SQLite test database.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import streamlit as st
from PIL import Image

from core import db, doc_verify, doc_wording, documents, meetings, proposals
from core.demo_register import nik_for
from core.models import Document
from tests.app.conftest import screen_text, seed_login, titles

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

KAYUMANIS, MATRAMAN, JAKTIM = "31.75.01.1003", "31.75.01", "31.75"
PERIODE = "2026-11"
DOKUMEN, CEK, KECAMATAN, PENGESAHAN, TEKS = ("pages/dokumen.py", "pages/cek_dokumen.py",
                                             "pages/dokumen_kecamatan.py", "pages/pengesahan.py",
                                             "pages/teks_dokumen.py")
ROMAN_MONTHS = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
CODE = r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}"
FAKE_SCAN = b"%PDF-1.4\n% pindaian bertanda tangan (uji)\n%%EOF\n"


@pytest.fixture(autouse=True)
def _fresh_rate_limit(monkeypatch):
    """The public check limits each client per process; every test starts with a clean slate."""
    monkeypatch.setattr(doc_verify, "LIMITER", doc_verify.RateLimiter())


# --- helpers ---------------------------------------------------------------------------------------------------

@pytest.fixture
def people(sqlite_only, make_account):
    """(operator, lurah) of Kayu Manis."""
    operator = make_account(sqlite_only, "operator.x", "operator", KAYUMANIS, nama="Operator Satu")
    lurah = make_account(sqlite_only, "lurah.x", "lurah", KAYUMANIS, nama="Lurah Satu")
    return operator, lurah


@pytest.fixture
def closed(people) -> int:
    """A musyawarah of Kayu Manis with quorum and one agreed new family, closed by the Lurah; its id."""
    operator, lurah = people
    with db.session_scope() as s:
        mid = meetings.create_meeting(KAYUMANIS, PERIODE, actor=operator, session=s)["id"]
    for field, value in (("tanggal", date(2026, 11, 12)), ("jam_mulai", "09.00"), ("ketua", "Hendra Gunawan"),
                         ("notulis", "Sari Wulandari")):
        with db.session_scope() as s:
            old = getattr(meetings.get_meeting(mid, actor=operator, session=s), field)
            meetings.update_meeting_field(mid, field, old, value, actor=operator, session=s)
    with db.session_scope() as s:
        for nama, unsur in (("Hendra Gunawan", "Lurah"), ("Ketua RW 01", "Ketua RW"), ("H. Abdul Rahman", "LMK")):
            meetings.add_attendee(mid, {"nama": nama, "unsur": unsur}, actor=operator, session=s)
        born = date(1980, 5, 17)
        members = [{"nik": nik_for("317501", born, False, 101), "nama": "Kepala Satu", "hubungan": "KEPALA KELUARGA",
                    "jenis_kelamin": "L", "tanggal_lahir": born},
                   {"nik": nik_for("317501", date(1984, 2, 3), True, 201), "nama": "Istri Satu", "hubungan": "ISTRI",
                    "jenis_kelamin": "P", "tanggal_lahir": date(1984, 2, 3)}]
        item = proposals.add_new_family(mid, no_kk="3175011705809001", alamat="Jl. Kayu Manis No. 1", rt="1",
                                        rw="2", members=members, programs=["PKH"], actor=operator, session=s)
    with db.session_scope() as s:
        proposals.set_decision(item["id"], "disepakati", "", seen="", actor=operator, session=s)
    with db.session_scope() as s:
        meetings.close_meeting(mid, confirm_without_quorum=False, actor=lurah, session=s)
    return mid


def _finalise(doc_type: str, key: dict, actor) -> dict:
    with db.session_scope() as s:
        return documents.finalise(doc_type, key, actor=actor, session=s)


def _scan(doc: dict, actor, data: bytes = FAKE_SCAN) -> dict:
    with db.session_scope() as s:
        return documents.upload_scan(doc["id"], data, "pindaian.pdf", actor=actor, session=s)


def _final_bast(mid: int, operator, lurah) -> dict:
    """Berita Acara, SPTJM and BAST final, each with its signed scan."""
    for doc_type in ("berita_acara", "sptjm", "bast_kelurahan"):
        done = _scan(_finalise(doc_type, {"meeting_id": mid}, lurah), operator)
    return done


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 56), (230, 230, 230)).save(buffer, "PNG")
    return buffer.getvalue()


def _open(logged_in, actor, page: str):
    at = logged_in(actor)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert not at.error, _errors(at)
    return at


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def _press(at, key: str):
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def _buttons(at) -> dict[str, str]:
    return {b.key: b.label for b in at.button}


def _downloads(at) -> list[str]:
    return [d.proto.label for d in at.get("download_button")]


def _slot(doc_type: str, mid: int) -> str:
    return f"draft_pdf.{doc_type}.{mid}"


def _expected_number(short: str, kode: str, seq: int = 1) -> str:
    """The default pattern {nomor}/<short>/MUSKEL/{kode_wilayah}/{bulan_romawi}/{tahun}, for today in WIB."""
    now = datetime.now(ZoneInfo("Asia/Jakarta"))
    return f"{seq:03d}/{short}/MUSKEL/{kode}/{ROMAN_MONTHS[now.month - 1]}/{now.year}"


def _finals(at) -> list[str]:
    return [m.value for m in at.success if m.value.startswith("**Final**")]


def _not_final(at) -> list[str]:
    return [m.value for m in at.info if m.value.startswith("Belum final")]


def _final_number_and_code(message: str) -> tuple[str, str]:
    match = re.search(r"Nomor \*\*([^*]+)\*\* · kode verifikasi `([^`]+)`", message)
    assert match, message
    return match.group(1), match.group(2)


# --- Dokumen (kelurahan) -----------------------------------------------------------------------------------------

def test_lurah_drafts_then_finalises_the_berita_acara(people, closed, logged_in):
    """Guards the Lurah's path on Dokumen: nothing final at first ("Belum final"), a draft PDF to check without a
    number, finalising only once the check box is ticked, then "Final" with the office's next number for this
    month and a verification code that the registry holds."""
    _, lurah = people
    at = _open(logged_in, lurah, DOKUMEN)
    assert titles(at) == ["Dokumen musyawarah"]
    assert len(_not_final(at)) == 3  # Berita Acara, SPTJM, BAST
    assert not _finals(at)
    slot = _slot("berita_acara", closed)
    assert "Unduh draf (PDF)" not in _downloads(at)

    _press(at, f"mk.{slot}")
    assert not _errors(at), _errors(at)
    assert "Unduh draf (PDF)" in _downloads(at)
    assert at.session_state[slot][:5] == b"%PDF-"
    with db.session_scope() as s:
        assert documents.list_documents(actor=lurah, session=s, wilayah_kode=KAYUMANIS) == []  # a draft: nothing

    assert at.button(key=f"fin.{slot}").disabled  # not before the Lurah confirms he checked the draft
    at.checkbox(key=f"ok.{slot}").check().run()
    assert not at.button(key=f"fin.{slot}").disabled
    _press(at, f"fin.{slot}")
    assert not _errors(at), _errors(at)
    [final] = _finals(at)
    nomor, kode = _final_number_and_code(final)
    assert nomor == _expected_number("BA", KAYUMANIS)
    assert re.fullmatch(CODE, kode), kode
    assert "lurah.x" in final
    assert len(_not_final(at)) == 2  # SPTJM and BAST still to do
    assert "Unduh PDF final" in _downloads(at)
    assert any("Pindaian bertanda tangan belum diunggah" in w.value for w in at.warning)
    with db.session_scope() as s:
        [doc] = documents.list_documents(actor=lurah, session=s, wilayah_kode=KAYUMANIS)
    assert (doc["doc_type"], doc["nomor"], doc["kode"], doc["status"]) == ("berita_acara", nomor, kode, "final")


def test_operator_drafts_but_cannot_finalise(people, closed, logged_in):
    """Guards "only the Lurah finalises": the operator gets the draft but no finalise control on any document."""
    operator, _ = people
    at = _open(logged_in, operator, DOKUMEN)
    assert len(_not_final(at)) == 3
    assert "Finalkan dokumen" not in _buttons(at).values()
    assert not [c for c in at.checkbox if c.label.startswith("Saya sudah memeriksa draf")]
    _press(at, f"mk.{_slot('berita_acara', closed)}")
    assert not _errors(at), _errors(at)
    assert "Unduh draf (PDF)" in _downloads(at)
    assert "Finalkan dokumen" not in _buttons(at).values()


def test_bast_waits_for_the_signed_scans(people, closed, logged_in):
    """Guards the BAST's precondition: with Berita Acara and SPTJM final but their signed scans not uploaded,
    finalising the BAST is refused with a message saying which pindaian is missing and nothing is issued; once
    both scans are in, the BAST is finalised with its own number."""
    operator, lurah = people
    ba = _finalise("berita_acara", {"meeting_id": closed}, lurah)
    sp = _finalise("sptjm", {"meeting_id": closed}, lurah)
    at = _open(logged_in, lurah, DOKUMEN)
    assert len(_finals(at)) == 2 and len(_not_final(at)) == 1
    slot = _slot("bast_kelurahan", closed)
    at.checkbox(key=f"ok.{slot}").check().run()
    _press(at, f"fin.{slot}")
    errors = _errors(at)
    assert any("pindaian" in e.lower() for e in errors), errors
    assert not any("tidak terduga" in e for e in errors), errors
    assert len(_finals(at)) == 2
    with db.session_scope() as s:
        assert not documents.list_documents(actor=lurah, session=s, wilayah_kode=KAYUMANIS, doc_type="bast_kelurahan")

    _scan(ba, operator)
    _scan(sp, operator, _png())
    at.run()
    at.checkbox(key=f"ok.{slot}").check().run()
    _press(at, f"fin.{slot}")
    assert not _errors(at), _errors(at)
    numbers = sorted(_final_number_and_code(f)[0] for f in _finals(at))
    assert numbers == sorted([_expected_number("BA", KAYUMANIS), _expected_number("SPTJM", KAYUMANIS),
                              _expected_number("BAST", KAYUMANIS)])


def test_scan_uploaded_on_the_page_is_kept_and_a_wrong_file_refused(people, closed, logged_in):
    """Guards the scan uploader of a final document: a PNG scan is stored against the document (the panel then
    offers it for download); a file that is neither PDF nor JPG/PNG is refused with a clear message."""
    operator, lurah = people
    ba = _finalise("berita_acara", {"meeting_id": closed}, lurah)
    at = _open(logged_in, operator, DOKUMEN)
    uploader = f"scan.{ba['id']}.{ba['version']}"
    at.file_uploader(key=uploader).set_value(("pindaian.png", b"bukan gambar sama sekali", "image/png")).run()
    assert not at.exception, at.exception
    assert any("PDF atau gambar JPG/PNG" in e for e in _errors(at)), _errors(at)
    with db.session_scope() as s:
        assert not s.get(Document, ba["id"]).scan_sha256

    at.file_uploader(key=uploader).set_value(("pindaian.png", _png(), "image/png")).run()
    assert not at.exception, at.exception
    assert not _errors(at), _errors(at)
    with db.session_scope() as s:
        assert s.get(Document, ba["id"]).scan_sha256
    assert "Unduh pindaian bertanda tangan" in _downloads(at)
    assert "Pindaian diunggah operator.x" in screen_text(at)


# --- Cek keaslian dokumen (public) ---------------------------------------------------------------------------------

def _visitor(new_app, kode: str | None = None):
    """A browser tab with nobody logged in, on the public check page (through its QR link when ``kode``)."""
    at = new_app()
    at.run()
    assert "_auth" not in at.session_state
    at.switch_page(CEK)
    if kode is not None:
        at.query_params["kode"] = kode
    at.run()
    assert not at.exception, at.exception
    assert titles(at) == ["Cek keaslian dokumen Muskel"]
    return at


def test_public_check_by_code_without_login(people, closed, new_app):
    """Guards the QR link: a visitor who is not logged in, opening the page with ?kode=<code of a final document>,
    is told it is SAH with its number (and nothing personal); an unknown well-formed code is TIDAK DIKENAL and a
    malformed one gets the format message."""
    _, lurah = people
    ba = _finalise("berita_acara", {"meeting_id": closed}, lurah)
    at = _visitor(new_app, ba["kode"])
    assert at.text_input(key="verify_code").value == ba["kode"]
    [ok] = [m.value for m in at.success]
    assert ok.startswith("SAH"), ok
    text = screen_text(at)
    assert ba["nomor"] in text
    assert "Kepala Satu" not in text and "Hendra Gunawan" not in text  # nothing personal
    assert "_auth" not in at.session_state

    at.text_input(key="verify_code").input("0000-0000-0000").run()
    assert not at.exception
    assert any(e.startswith("TIDAK DIKENAL") for e in _errors(at)), _errors(at)
    assert not at.success

    at.text_input(key="verify_code").input("abc").run()
    assert not at.exception
    assert any("12 huruf/angka" in e for e in _errors(at)), _errors(at)
    assert not any("tidak terduga" in e for e in _errors(at))

    wrong = _visitor(new_app, "ZZZZ-ZZZZ-ZZZZ")
    assert any(e.startswith("TIDAK DIKENAL") for e in _errors(wrong)), _errors(wrong)


def test_public_check_by_uploaded_pdf(people, closed, new_app):
    """Guards the "Unggah PDF" tab: a file that is not a PDF is refused plainly; the final PDF itself is SAH, the
    same PDF with bytes changed is DIUBAH, and a draft is recognised as DRAF (never valid)."""
    _, lurah = people
    ba = _finalise("berita_acara", {"meeting_id": closed}, lurah)
    with db.session_scope() as s:
        pdf, _, _ = documents.download(ba["id"], actor=lurah, session=s)
    at = _visitor(new_app)
    assert [t.label for t in at.tabs] == ["Kode verifikasi", "Unggah PDF"]
    at.file_uploader(key="verify_pdf").set_value(("dokumen.pdf", b"ini hanya teks biasa", "application/pdf")).run()
    assert not at.exception, at.exception
    assert any("bukan PDF" in e for e in _errors(at)), _errors(at)

    at.file_uploader(key="verify_pdf").set_value(("ba.pdf", pdf, "application/pdf")).run()
    assert not at.exception, at.exception
    assert [m.value for m in at.success if m.value.startswith("SAH")], [m.value for m in at.success]
    assert ba["nomor"] in screen_text(at)

    at.file_uploader(key="verify_pdf").set_value(("ba_diedit.pdf", pdf + b"\n% diubah\n", "application/pdf")).run()
    assert not at.exception, at.exception
    assert any(e.startswith("DIUBAH") for e in _errors(at)), _errors(at)
    assert not at.success

    with db.session_scope() as s:
        draft = documents.draft("sptjm", {"meeting_id": closed}, actor=lurah, session=s)
    at.file_uploader(key="verify_pdf").set_value(("draf.pdf", draft, "application/pdf")).run()
    assert not at.exception, at.exception
    assert any(w.value.startswith("DRAF") for w in at.warning), [w.value for w in at.warning]
    assert not at.success


def test_replacing_a_final_document_and_the_old_code_reads_digantikan(people, closed, logged_in, new_app):
    """Guards corrections: a replacement needs a reason of at least 10 characters (a short one is refused with the
    old number named); with one, the new number follows and the old document's code now reads DIGANTIKAN with
    the successor's number on the public page."""
    _, lurah = people
    ba = _finalise("berita_acara", {"meeting_id": closed}, lurah)
    at = _open(logged_in, lurah, DOKUMEN)
    slot = _slot("berita_acara", closed)
    at.text_area(key=f"why.{slot}").input("salah").run()
    _press(at, f"rep.{slot}")
    assert any("minimal 10 karakter" in e and ba["nomor"] in e for e in _errors(at)), _errors(at)
    at.text_area(key=f"why.{slot}").input("Nama notulis salah ketik").run()
    _press(at, f"rep.{slot}")
    assert not _errors(at), _errors(at)
    [final] = [f for f in _finals(at) if "/BA/" in f]
    assert _final_number_and_code(final)[0] == _expected_number("BA", KAYUMANIS, seq=2)

    visitor = _visitor(new_app, ba["kode"])
    assert any(w.value.startswith("DIGANTIKAN") for w in visitor.warning), [w.value for w in visitor.warning]
    assert f"Nomor {_expected_number('BA', KAYUMANIS, seq=2)}" in screen_text(visitor)


def test_public_check_is_rate_limited(people, closed, new_app, monkeypatch):
    """Guards against guessing codes: past the per-client limit the page refuses further checks with a message."""
    monkeypatch.setattr(doc_verify, "LIMITER", doc_verify.RateLimiter(limit=2))
    # AppTest hands every run a new mock as the client's IP address; a browser keeps one address.
    monkeypatch.setattr(type(st.context), "ip_address", property(lambda self: "203.0.113.7"))
    at = _visitor(new_app, "0000-0000-0001")
    at.text_input(key="verify_code").input("0000-0000-0002").run()
    assert not any("Terlalu banyak" in e for e in _errors(at)), _errors(at)
    at.text_input(key="verify_code").input("0000-0000-0003").run()
    assert any("Terlalu banyak pemeriksaan" in e for e in _errors(at)), _errors(at)


# --- Dokumen kecamatan ---------------------------------------------------------------------------------------------

def test_camat_records_receipt_of_a_kelurahan_bast(people, closed, make_account, sqlite_only, logged_in):
    """Guards the Camat's receipt: a final kelurahan BAST without its signed scan is listed with a warning and
    cannot be received; once the scan is in, "Catat diterima" records the receipt and gives way to "Diterima …"."""
    operator, lurah = people
    for doc_type in ("berita_acara", "sptjm"):
        _scan(_finalise(doc_type, {"meeting_id": closed}, lurah), operator)
    bast = _finalise("bast_kelurahan", {"meeting_id": closed}, lurah)
    camat = make_account(sqlite_only, "camat.x", "camat", MATRAMAN, nama="Camat Satu")
    at = _open(logged_in, camat, KECAMATAN)
    assert titles(at) == ["Dokumen kecamatan"]
    at.text_input(key="kec_period").input(PERIODE).run()
    assert not at.exception and not _errors(at), _errors(at)
    assert f"k.rcv.{bast['id']}" not in _buttons(at)  # not before the signed scan is in
    assert any("Pindaian bertanda tangan belum diunggah kelurahan" in w.value for w in at.warning)

    bast = _scan(bast, operator)
    at.run()
    assert f"BAST Nomor {bast['nomor']}" in screen_text(at)
    assert _buttons(at).get(f"k.rcv.{bast['id']}") == "Catat diterima"
    assert not [m for m in at.success if m.value.startswith("Diterima")]

    _press(at, f"k.rcv.{bast['id']}")
    assert not _errors(at), _errors(at)
    assert f"k.rcv.{bast['id']}" not in _buttons(at)
    assert [m.value for m in at.success if m.value.startswith("Diterima")]
    with db.session_scope() as s:
        assert s.get(Document, bast["id"]).received_by == "camat.x"


# --- Teks & nomor dokumen --------------------------------------------------------------------------------------------

def test_admin_unknown_placeholder_is_shown_and_refused(sqlite_only, make_account, logged_in):
    """Guards the wording editor: a paragraph with a placeholder the section does not offer shows "Placeholder
    tidak dikenal" in the preview, and "Simpan teks" refuses it with the same message and stores nothing."""
    admin = make_account(sqlite_only, "admin.x", "admin", "31")
    at = _open(logged_in, admin, TEKS)
    key = at.selectbox(key="tpl_key").value
    at.text_area(key=f"tpl_text.{key}.0").input("Pada hari ini {foo} telah dilaksanakan musyawarah.").run()
    assert not at.exception
    [shown] = _errors(at)
    assert "Placeholder tidak dikenal" in shown and "{foo}" in shown

    _press(at, "tpl_save")
    errors = _errors(at)
    assert len(errors) == 2 and all("Placeholder tidak dikenal" in e for e in errors), errors
    with db.session_scope() as s:
        [paragraph] = [p for p in doc_wording.list_paragraphs(s) if p["key"] == key]
    assert not paragraph["diubah"] and "{foo}" not in paragraph["teks"]


def test_admin_number_pattern_without_the_running_number_is_refused(sqlite_only, make_account, logged_in):
    """Guards the number patterns: a pattern without {nomor} is flagged next to the field and saving it is refused
    with a message that names {nomor}; the office keeps its default pattern."""
    admin = make_account(sqlite_only, "admin.x", "admin", "31")
    at = _open(logged_in, admin, TEKS)
    at.selectbox(key="num_office").set_value(KAYUMANIS).run()
    assert not at.exception
    field = f"num.{KAYUMANIS}.berita_acara.0"
    assert at.text_input(key=field).value == "{nomor}/BA/MUSKEL/{kode_wilayah}/{bulan_romawi}/{tahun}"
    at.text_input(key=field).input("BA/MUSKEL/{bulan_romawi}/{tahun}").run()
    assert not at.exception
    assert [c.value for c in at.caption if c.value.startswith(":red[") and "{nomor}" in c.value], \
        [c.value for c in at.caption]

    _press(at, "num_save.berita_acara")
    assert any("{nomor}" in e for e in _errors(at)), _errors(at)
    from core import doc_numbers
    with db.session_scope() as s:
        assert doc_numbers.pattern_for(KAYUMANIS, "berita_acara", session=s) == doc_numbers.default_pattern(
            "berita_acara")


# --- Pengesahan --------------------------------------------------------------------------------------------------------

def test_walikota_with_nothing_waiting(sqlite_only, make_account, logged_in):
    """Guards the empty state of Pengesahan: no kelurahan batch waits → a plain notice and no finalise button."""
    walikota = make_account(sqlite_only, "walikota.x", "walikota", JAKTIM)
    at = _open(logged_in, walikota, PENGESAHAN)
    assert titles(at) == ["Pengesahan"]
    # The wording moved from "usulan" to "pengajuan" with the batch workflow; either says the same to the user.
    assert any(re.match(r"Tidak ada (usulan|pengajuan) kelurahan yang menunggu pengesahan", m.value)
               for m in at.info), [m.value for m in at.info]
    assert "peng_fin" not in _buttons(at)
