"""Official documents as PDFs (core.documents and friends) on SQLite and PostgreSQL.

Every PDF is read back with poppler (``pdftotext``, ``pdfinfo``) — never with Muskel's own code — and the
expectations (names, full NIKs, counts and counts in words, page furniture, numbers) are written out by hand
for the small fixture below, so the oracle is independent of the code under test.

Covers: the Berita Acara's content and its BNBA attachment; DRAFT on every page of a draft and nowhere on a
final; the blank attendance sheet; deterministic drafts and the registered SHA-256 of finals; verification of
valid, altered, superseded, unknown and draft PDFs and of printed codes; numbers under concurrent finalisation;
who may draft and finalise; refused scans storing nothing; later wording changes never touching a final; acting
signers; and equal counts across the Berita Acara, SPTJM, BAST, BAST Camat and pengesahan — the last two reached
through the batch workflow (submit, forward, ratify), with a late batch going into a pengesahan susulan.
"""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from core import db, doc_verify, doc_wording, documents, meetings, offices, proposals, workflow
from core.access import Actor
from core.errors import AccessDenied, InvalidInput
from core.models import Document

KEL = "31.75.01.1003"  # Kelurahan Kayu Manis
KEL2 = "31.75.01.1004"  # Kelurahan Palmeriam
KEC = "31.75.01"  # Kecamatan Matraman
KOTA = "31.75"  # Kota Administrasi Jakarta Timur
PERIODE = "2026-11"
ON = date(2026, 11, 20)  # the date documents are drafted / finalised on
HELD = date(2026, 11, 12)  # a Thursday ("Kamis")
BA = "berita_acara"

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

# (No KK, jenis, programmes, decision, members [(NIK, name, sex, born, relation)])
FAMILIES = [
    ("3175010101260001", "baru", ["PKH"], "disepakati",
     [("3175011705800011", "Suparman Widodo", "L", date(1980, 5, 17), "KEPALA KELUARGA"),
      ("3175014302840012", "Siti Aminah", "P", date(1984, 2, 3), "ISTRI")]),
    ("3175010101260002", "prioritas_program", ["PKH"], "disepakati",
     [("3175012208750021", "Bambang Sutrisno", "L", date(1975, 8, 22), "KEPALA KELUARGA"),
      ("3175015009780022", "Ratna Sari", "P", date(1978, 9, 10), "ISTRI"),
      ("3175011203050023", "Dimas Pratama", "L", date(2005, 3, 12), "ANAK")]),
    ("3175010101260003", "baru", [], "tidak_disepakati",
     [("3175010506700031", "Joko Susilo", "L", date(1970, 6, 5), "KEPALA KELUARGA")]),
]
AGREED_MEMBERS = [m for f in FAMILIES if f[3] == "disepakati" for m in f[4]]
REJECTED_MEMBERS = [m for f in FAMILIES if f[3] != "disepakati" for m in f[4]]
ATTENDEES = [("Hendra Gunawan", "Lurah"), ("Agus Salim", "Ketua RW"), ("H. Abdul Rahman", "LMK"),
             ("Sri Mulyani", "PSM")]
LURAH_NAME, LURAH_NIP = "Hendra Gunawan", "197805122005011003"
NOTULIS = "Sari Wulandari"


# ------------------------------------------------------------------------------------------ poppler, the oracle

def _with_file(data: bytes, args: list[str]) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(data)
        fh.flush()
        proc = subprocess.run([*args, fh.name, "-"] if args[0] == "pdftotext" else [*args, fh.name],
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page as ``pdftotext -layout`` reads it."""
    pages = _with_file(data, ["pdftotext", "-layout"]).split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def reading_text(data: bytes) -> str:
    """``pdftotext`` in its default reading order: table columns come out one after the other, so a hash wrapped
    inside a table cell is not interleaved with the neighbouring cell (as it is with ``-layout``)."""
    return _with_file(data, ["pdftotext"])


def flat(text: str) -> str:
    """Whitespace (line breaks of the layout) collapsed to single spaces."""
    return " ".join(text.split())


def pdf_info(data: bytes) -> dict[str, str]:
    out = _with_file(data, ["pdfinfo"])
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def page_count(data: bytes) -> int:
    return int(pdf_info(data)["Pages"])


def big_letters(data: bytes) -> list[str]:
    """Per page, the glyphs taller than 50 pt (a watermark) in left-to-right order, as one string.

    ``pdftotext -layout`` splits a rotated word into single letters scattered over the lines, so the watermark is
    read from ``pdftotext -bbox`` instead: the same extraction, with each word's box.
    """
    xhtml = _with_file(data, ["pdftotext", "-bbox"])
    result = []
    for page in re.findall(r"<page .*?</page>", xhtml, flags=re.S):
        words = [(float(x0), w) for x0, y0, x1, y1, w in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)
            if float(y1) - float(y0) > 50]
        result.append("".join(w for _, w in sorted(words)))
    return result


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------------------ fixtures and helpers

@dataclass
class World:
    engine: sa.Engine
    admin: Actor
    operator: Actor
    lurah: Actor
    camat: Actor
    walikota: Actor


def make_world(engine, make_account) -> World:
    """The accounts of the chain Kayu Manis → Matraman → Jakarta Timur, and the Lurah's letterhead profile."""
    w = World(engine, make_account(engine, "admin", "admin", "31"),
              make_account(engine, "operator.kayumanis", "operator", KEL),
              make_account(engine, "lurah.kayumanis", "lurah", KEL),
              make_account(engine, "camat.matraman", "camat", KEC),
              make_account(engine, "walikota.jaktim", "walikota", KOTA))
    run(engine, offices.update_profile, KEL, {"nama_pimpinan": LURAH_NAME, "nip_pimpinan": LURAH_NIP,
                                              "alamat": "Jl. Kayu Manis Raya No. 1"},
        expected_version=0, actor=w.admin)
    return w


@pytest.fixture
def world(engine, make_account) -> World:
    return make_world(engine, make_account)


def run(engine, fn, *args, **kwargs):
    """One user action: ``fn(*args, session=..., **kwargs)`` in its own unit of work."""
    with db.session_scope(engine) as session:
        return fn(*args, session=session, **kwargs)


def held_meeting(engine, operator: Actor, lurah: Actor, *, periode: str = PERIODE, kel: str = KEL,
                 families=FAMILIES, attendees=ATTENDEES, held: date = HELD) -> int:
    """A musyawarah held and closed by the Lurah, with its attendees and decided new-family items."""
    mid = run(engine, meetings.create_meeting, kel, periode, actor=operator)["id"]
    for fieldname, value in (("tanggal", held), ("jam_mulai", "09.00"), ("jam_selesai", "11.30"),
                             ("ketua", LURAH_NAME), ("notulis", NOTULIS)):
        with db.session_scope(engine) as s:
            old = getattr(meetings.get_meeting(mid, actor=operator, session=s), fieldname)
            meetings.update_meeting_field(mid, fieldname, old, value, actor=operator, session=s)
    for nama, unsur in attendees:
        run(engine, meetings.add_attendee, mid, {"nama": nama, "unsur": unsur}, actor=operator)
    for kk, jenis, programs, keputusan, members in families:
        item = run(engine, proposals.add_new_family, mid, no_kk=kk, alamat="Jl. Kayu Manis No. 1", rt="1", rw="2",
                   jenis=jenis, programs=programs, actor=operator,
                   members=[{"nik": n, "nama": nm, "jenis_kelamin": g, "tanggal_lahir": b, "hubungan": h}
                            for n, nm, g, b, h in members])
        run(engine, proposals.set_decision, item["id"], keputusan, "", seen="", actor=operator)
    run(engine, meetings.close_meeting, mid, confirm_without_quorum=False, actor=lurah)
    return mid


def draft(w: World, doc_type: str, key: dict, actor: Actor | None = None, on: date = ON) -> bytes:
    return run(w.engine, documents.draft, doc_type, key, actor=actor or w.lurah, on=on)


def finalise(w: World, doc_type: str, key: dict, actor: Actor | None = None, on: date = ON, reason: str = "") -> dict:
    return run(w.engine, documents.finalise, doc_type, key, actor=actor or w.lurah, on=on, replace_reason=reason)


def download(w: World, doc_id: int, actor: Actor | None = None, which: str = "pdf") -> bytes:
    return run(w.engine, documents.download, doc_id, actor=actor or w.lurah, which=which)[0]


def verify_pdf(w: World, data: bytes) -> dict:
    return run(w.engine, doc_verify.by_pdf, data)


def scan_pdf(text: str = "Pindaian bertanda tangan") -> bytes:
    """A 'scanned' signed page, as a PDF made with reportlab directly (not by Muskel)."""
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, text)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def png_bytes(size=(60, 40), colour=(200, 30, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def upload_scan(w: World, doc_id: int, data: bytes | None = None, name: str = "pindaian.pdf",
                actor: Actor | None = None) -> dict:
    return run(w.engine, documents.upload_scan, doc_id, data or scan_pdf(f"scan {doc_id}"), name,
               actor=actor or w.lurah)


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def counts(engine) -> dict[str, int]:
    return {t: count(engine, t) for t in ("document", "storedfile", "numbercounter")}


def stored_doc(engine, doc_id: int) -> Document:
    with db.session_scope(engine) as s:
        return s.get(Document, doc_id)


def kelurahan_chain(w: World, mid: int) -> dict[str, dict]:
    """BA and SPTJM finalised, their signed scans uploaded, then the BAST Lurah → Camat finalised."""
    ba = finalise(w, BA, {"meeting_id": mid})
    sp = finalise(w, "sptjm", {"meeting_id": mid})
    ba = upload_scan(w, ba["id"])
    sp = upload_scan(w, sp["id"])
    bast = finalise(w, "bast_kelurahan", {"meeting_id": mid})
    return {"ba": ba, "sptjm": sp, "bast": bast}


# ------------------------------------------------------------------------------------------ the Berita Acara


def test_final_berita_acara_shows_people_niks_counts_words_and_number(world):
    """Guards the Berita Acara a Lurah signs: attendees, every agreed member with the full NIK on the row of his
    name in Lampiran II (and nobody from a rejected item), counts per type and in words, page x of N, the number."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    final = finalise(world, BA, {"meeting_id": mid})
    nomor = "001/BA/MUSKEL/31.75.01.1003/XI/2026"
    assert final["nomor"] == nomor and final["status"] == "final"
    data = download(world, final["id"])
    pages = pdf_pages(data)
    total = page_count(data)
    assert len(pages) == total >= 4
    for i, page in enumerate(pages, 1):
        assert f"Halaman {i} dari {total}" in page, f"page {i}"
        assert f"Nomor {nomor}" in page and final["kode"] in page, f"page {i}"  # footer
    first = flat(pages[0])
    assert f"Nomor: {nomor}" in first
    assert "BERITA ACARA MUSYAWARAH KELURAHAN KAYU MANIS" in first and "PERIODE NOVEMBER 2026" in first
    assert ("Pada hari ini Kamis tanggal dua belas bulan November tahun dua ribu dua puluh enam, pukul 09:00 "
            "sampai dengan 11:30 WIB") in first
    assert f"dipimpin oleh {LURAH_NAME} dengan notulis {NOTULIS}" in first
    assert "dihadiri oleh 4 (empat) orang peserta" in first
    assert "sebanyak 2 (dua) keluarga dan 5 (lima) jiwa" in first
    assert "disepakati 2 (dua) keluarga; tidak disepakati 1 (satu) keluarga" in first
    # the results table: KK and jiwa per type, per programme and in total
    assert re.search(r"Usulan baru\s+1\s+2\n", pages[0])
    assert re.search(r"Perbaikan data\s+0\s+0\n", pages[0])
    assert re.search(r"Usulan nonaktif\s+0\s+0\n", pages[0])
    assert re.search(r"Prioritas program\s+1\s+3\n", pages[0])
    assert re.search(r"Program PKH\s+2\s+5\n", pages[0])
    assert re.search(r"Jumlah keluarga yang disepakati\s+2\s+5\n", pages[0])
    whole = "\n".join(pages)
    assert "Jakarta, 12 November 2026" in whole
    assert NOTULIS in whole and LURAH_NAME in whole and f"NIP {LURAH_NIP}" in whole

    lampiran1 = [p for p in pages if "LAMPIRAN I — DAFTAR HADIR" in p]
    assert len(lampiran1) == 1
    for n, (nama, unsur) in enumerate(ATTENDEES, 1):
        assert re.search(rf"^\s*{n}\s+{re.escape(nama)}\s+{re.escape(unsur)}\b", lampiran1[0], flags=re.M), nama

    lampiran2 = [p for p in pages if "LAMPIRAN II — DAFTAR USULAN BY NAME BY ADDRESS (BNBA)" in p]
    assert len(lampiran2) == 1
    rows = lampiran2[0].splitlines()
    for n, (nik, nama, sex, born, _) in enumerate(AGREED_MEMBERS, 1):
        line = [r for r in rows if nik in r]
        assert len(line) == 1, nik
        assert re.match(rf"\s*{n}\s+\d{{16}}\s+{nik}\s+{nama.upper()}\s+{sex}\s+{born:%d-%m-%Y}\b", line[0]), line[0]
    for nik, nama, *_ in REJECTED_MEMBERS:
        assert nik not in whole and nama.upper() not in whole.upper()
    assert "Kelurahan Kayu Manis · Kecamatan Matraman · Kota Administrasi Jakarta Timur" in lampiran2[0]
    assert "DRAF" not in whole


def test_draft_has_draft_on_every_page_and_no_number_final_has_none(world):
    """Guards against a draft being mistaken for the real thing (DRAFT across every page, no number, nothing
    registered) and against a final still carrying DRAFT anywhere."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    before = counts(world.engine)
    drafted = draft(world, BA, {"meeting_id": mid})
    assert counts(world.engine) == before  # a draft is not registered and takes no number
    pages = pdf_pages(drafted)
    assert len(pages) == page_count(drafted) >= 4
    assert big_letters(drafted) == ["DRAFT"] * len(pages)
    for i, page in enumerate(pages, 1):
        assert "DRAF — belum bernomor, belum sah" in page and f"Halaman {i} dari {len(pages)}" in page
        assert "/BA/" not in page
    assert "Nomor: ……… (diberikan saat difinalkan)" in pages[0]
    assert "Kode verifikasi" not in "\n".join(pages)

    sp_meeting = held_meeting(world.engine, world.operator, world.lurah, periode="2026-10", held=date(2026, 10, 8))
    finalise(world, BA, {"meeting_id": sp_meeting})
    sp_draft = draft(world, "sptjm", {"meeting_id": sp_meeting})
    assert big_letters(sp_draft) == ["DRAFT"] * page_count(sp_draft)

    final = finalise(world, BA, {"meeting_id": mid})
    data = download(world, final["id"])
    assert big_letters(data) == [""] * page_count(data)
    assert not any("DRAF" in p for p in pdf_pages(data))


def test_blank_attendance_sheet_lists_names_and_never_a_nik(world):
    """Guards the attendance sheet printed for the door: entered names are listed with empty rows to sign, and no
    NIK of any family on the agenda appears (the sheet is handed around the room)."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    data = run(world.engine, documents.blank_attendance, mid, actor=world.operator)
    pages = pdf_pages(data)
    whole = "\n".join(pages)
    assert "DAFTAR HADIR" in whole and "Musyawarah Kelurahan Kayu Manis periode November 2026" in whole
    assert "Kamis, 12 November 2026" in whole
    for n, (nama, unsur) in enumerate(ATTENDEES, 1):
        assert re.search(rf"^\s*{n}\s+{re.escape(nama)}\s+{re.escape(unsur)}\b", whole, flags=re.M), nama
    assert re.search(rf"^\s*{len(ATTENDEES) + 1}\s+{len(ATTENDEES) + 1}\. …", whole, flags=re.M)  # empty rows
    assert not re.search(r"\d{16}", whole.replace(" ", ""))
    for nik, nama, *_ in AGREED_MEMBERS + REJECTED_MEMBERS:
        assert nik not in whole and nama.upper() not in whole.upper()
    total = page_count(data)
    assert all(f"Halaman {i} dari {total}" in p for i, p in enumerate(pages, 1))
    assert big_letters(data) == [""] * total


def test_blank_attendance_of_other_kelurahan_refused(world, make_account):
    """Guards the attendance sheet (names of residents) against an operator of another kelurahan."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    other = make_account(world.engine, "operator.palmeriam", "operator", KEL2)
    with pytest.raises(AccessDenied):
        run(world.engine, documents.blank_attendance, mid, actor=other)


# ------------------------------------------------------------------------------------------ determinism and hashes


def test_drafts_are_byte_identical_and_final_hash_matches_download(world):
    """Guards reproducibility: the same draft twice is the same file (so a reviewer can compare), a draft of
    another day differs, and the SHA-256 in the registry is the hash of the file handed out."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    one, two = draft(world, BA, {"meeting_id": mid}), draft(world, BA, {"meeting_id": mid})
    assert sha(one) == sha(two)
    finalise(world, BA, {"meeting_id": mid})
    sp1 = draft(world, "sptjm", {"meeting_id": mid}, on=ON)
    sp2 = draft(world, "sptjm", {"meeting_id": mid}, on=ON)
    sp3 = draft(world, "sptjm", {"meeting_id": mid}, on=date(2026, 11, 21))
    assert sha(sp1) == sha(sp2) != sha(sp3)
    assert "Jakarta, 21 November 2026" in flat(pdf_pages(sp3)[-1])

    final = finalise(world, "sptjm", {"meeting_id": mid})
    data = download(world, final["id"])
    assert sha(data) == final["sha256"] == stored_doc(world.engine, final["id"]).sha256
    assert download(world, final["id"]) == data  # a second download is the same file
    assert data != sp1


def test_refinalising_needs_reason_and_supersedes(world):
    """Guards the registry: a second final of the same document needs a reason of at least 10 characters (nothing
    stored otherwise), gets the next number, and the old entry reads superseded by the new one."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    first = finalise(world, BA, {"meeting_id": mid})
    before = counts(world.engine)
    for reason in ("", "   ", "typo nama"):  # the last is 9 characters
        with pytest.raises(InvalidInput) as exc:
            finalise(world, BA, {"meeting_id": mid}, reason=reason)
        assert exc.value.code == "already_final" and first["nomor"] in exc.value.message
        assert counts(world.engine) == before
    second = finalise(world, BA, {"meeting_id": mid}, reason="Nama peserta salah ketik")
    assert second["nomor"] == "002/BA/MUSKEL/31.75.01.1003/XI/2026"
    assert second["kode"] != first["kode"] and second["sha256"] != first["sha256"]
    old = stored_doc(world.engine, first["id"])
    assert (old.status, old.superseded_by_id, old.supersede_reason) == ("superseded", second["id"],
                                                                        "Nama peserta salah ketik")
    assert stored_doc(world.engine, second["id"]).status == "final"


# ------------------------------------------------------------------------------------------ verification


def _printed_code(data: bytes) -> str:
    match = re.search(r"Kode verifikasi: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", "\n".join(pdf_pages(data)))
    assert match, "no verification code printed"
    return match.group(1)


def _alter_one_byte(data: bytes) -> bytes:
    """One byte changed inside the content stream nearest the middle of the file; the keywords stay intact."""
    middle = len(data) // 2
    starts = [m.end() for m in re.finditer(rb"stream\r?\n", data)]
    ends = [m.start() for m in re.finditer(rb"endstream", data)]
    spans = [(s, e) for s, e in zip(starts, ends) if e - s > 16]
    s, e = min(spans, key=lambda span: abs((span[0] + span[1]) // 2 - middle))
    pos = (s + e) // 2
    altered = bytearray(data)
    altered[pos] = ord("A") if data[pos] != ord("A") else ord("B")  # still a valid ASCII85 character
    return bytes(altered)


def test_verification_valid_altered_superseded_unknown_draft(world):
    """Guards the public check of a PDF: the registered final is valid, one changed byte makes it altered, a
    replaced final reads superseded (naming its successor), a foreign PDF is unknown, a draft is a draft."""
    from reportlab.pdfgen.canvas import Canvas

    mid = held_meeting(world.engine, world.operator, world.lurah)
    final = finalise(world, BA, {"meeting_id": mid})
    data = download(world, final["id"])
    valid = verify_pdf(world, data)
    assert valid["status"] == "valid"
    assert (valid["nomor"], valid["kk"], valid["jiwa"], valid["kelurahan"]) == (final["nomor"], 2, 5, "Kayu Manis")
    assert not any(nik in repr(valid) for nik, *_ in AGREED_MEMBERS)  # nothing personal in the answer

    altered = _alter_one_byte(data)
    assert altered != data and len(altered) == len(data)
    assert f"/Keywords (muskel-final:{final['kode']})".encode() in altered
    result = verify_pdf(world, altered)
    assert result["status"] == "altered" and result["nomor"] == final["nomor"]

    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.setTitle("Berita Acara Musyawarah Kelurahan Kayu Manis")
    canvas.drawString(72, 720, f"BERITA ACARA Nomor: {final['nomor']}")
    canvas.showPage()
    canvas.save()
    assert verify_pdf(world, buffer.getvalue())["status"] == "unknown"

    assert verify_pdf(world, draft(world, BA, {"meeting_id": mid}))["status"] == "draft"

    second = finalise(world, BA, {"meeting_id": mid}, reason="Koreksi jumlah peserta hadir")
    superseded = verify_pdf(world, data)
    assert superseded["status"] == "superseded" and superseded["digantikan_oleh"] == second["nomor"]
    assert verify_pdf(world, download(world, second["id"]))["status"] == "valid"


def test_verification_by_printed_code(world):
    """Guards checking a printout by its code: as printed, in lower case, without dashes; superseded after a
    replacement; a well-formed code nobody issued is unknown; a malformed one is refused clearly."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    final = finalise(world, BA, {"meeting_id": mid})
    code = _printed_code(download(world, final["id"]))
    assert code == final["kode"]
    for typed in (code, code.lower(), code.replace("-", ""), f"  {code.lower().replace('-', ' ')} "):
        result = run(world.engine, doc_verify.by_code, typed)
        assert result["status"] == "valid" and result["nomor"] == final["nomor"], typed
    finalise(world, BA, {"meeting_id": mid}, reason="Koreksi jumlah peserta hadir")
    assert run(world.engine, doc_verify.by_code, code)["status"] == "superseded"
    unused = "0000-0000-0000" if code != "0000-0000-0000" else "1111-1111-1111"
    assert run(world.engine, doc_verify.by_code, unused)["status"] == "unknown"
    with pytest.raises(InvalidInput) as exc:
        run(world.engine, doc_verify.by_code, "ABC-123")
    assert exc.value.code == "code_format"


@pytest.mark.parametrize("data", [b"not a pdf", b"", png_bytes()])
def test_verification_of_non_pdf_refused(world, data):
    """Guards the verification upload against files that are not PDFs: a clear refusal, nothing stored."""
    before = counts(world.engine)
    with pytest.raises(InvalidInput) as exc:
        verify_pdf(world, data)
    assert exc.value.code == "not_pdf" and "bukan PDF" in exc.value.message
    assert counts(world.engine) == before


# ------------------------------------------------------------------------------------------ numbers under load


def test_concurrent_finalisation_numbers_distinct_and_consecutive(world):
    """Guards the running number: six Berita Acara of one kelurahan finalised at the same moment from six
    threads get 001…006, each once (on SQLite the writers queue behind BEGIN IMMEDIATE; failures are reported)."""
    mids = [held_meeting(world.engine, world.operator, world.lurah, periode=f"2026-{m:02d}", families=[],
                         attendees=ATTENDEES[:3], held=date(2026, m, 12)) for m in range(5, 11)]
    start = threading.Barrier(len(mids))
    results: dict[int, object] = {}

    def worker(mid: int) -> None:
        try:
            start.wait(timeout=30)
            results[mid] = finalise(world, BA, {"meeting_id": mid})
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            results[mid] = exc

    threads = [threading.Thread(target=worker, args=(mid,)) for mid in mids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    errors = {mid: repr(r) for mid, r in results.items() if not isinstance(r, dict)}
    assert not errors, errors
    assert len(results) == len(mids)
    numbers = sorted(r["nomor"] for r in results.values())
    assert numbers == [f"{n:03d}/BA/MUSKEL/31.75.01.1003/XI/2026" for n in range(1, 7)]
    for mid, r in results.items():  # the number printed in each PDF is the one registered for its meeting
        assert f"Nomor: {r['nomor']}" in pdf_pages(download(world, r["id"]))[0]
        assert r["covers"] == [mid]


# ------------------------------------------------------------------------------------------ access


def test_who_may_draft_and_finalise_a_kelurahan_berita_acara(world, make_account):
    """Guards the signatures: only the Lurah of the kelurahan finalises its Berita Acara (not the operator, the
    Camat or the Walikota), a Lurah of another kelurahan cannot even draft it — and a refusal uses no number."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    other_lurah = make_account(world.engine, "lurah.palmeriam", "lurah", KEL2)
    before = counts(world.engine)
    for actor in (world.operator, world.camat, world.walikota, other_lurah):
        with pytest.raises(AccessDenied):
            finalise(world, BA, {"meeting_id": mid}, actor=actor)
    with pytest.raises(AccessDenied):
        draft(world, BA, {"meeting_id": mid}, actor=other_lurah)
    assert counts(world.engine) == before
    assert draft(world, BA, {"meeting_id": mid}, actor=world.operator)[:5] == b"%PDF-"  # the operator prepares
    assert finalise(world, BA, {"meeting_id": mid})["nomor"].startswith("001/")  # no number was used up


def test_preconditions_of_each_kelurahan_document(world):
    """Guards the order of work: no BA of an open meeting, no SPTJM before the BA, no BAST before both signed
    scans, and a not-held period has no BA but the not-held SPTJM (with its reason) and its BAST."""
    open_mid = run(world.engine, meetings.create_meeting, KEL, "2026-12", actor=world.operator)["id"]
    with pytest.raises(InvalidInput) as exc:
        finalise(world, BA, {"meeting_id": open_mid})
    assert exc.value.code == "meeting_open"
    mid = held_meeting(world.engine, world.operator, world.lurah)
    with pytest.raises(InvalidInput) as exc:
        finalise(world, "sptjm", {"meeting_id": mid})
    assert exc.value.code == "ba_missing"
    ba = finalise(world, BA, {"meeting_id": mid})
    sp = finalise(world, "sptjm", {"meeting_id": mid})
    before = counts(world.engine)
    with pytest.raises(InvalidInput) as exc:
        finalise(world, "bast_kelurahan", {"meeting_id": mid})
    assert exc.value.code == "berita_acara_scan_missing"
    upload_scan(world, ba["id"])
    with pytest.raises(InvalidInput) as exc:
        finalise(world, "bast_kelurahan", {"meeting_id": mid})
    assert exc.value.code == "sptjm_scan_missing"
    assert count(world.engine, "document") == before["document"]
    upload_scan(world, sp["id"])
    # a replaced BA makes the SPTJM (which names the old BA number) stale for the BAST
    new_ba = finalise(world, BA, {"meeting_id": mid}, reason="Koreksi nama notulis rapat")
    with pytest.raises(InvalidInput) as exc:
        finalise(world, "bast_kelurahan", {"meeting_id": mid})
    assert exc.value.code == "berita_acara_scan_missing"  # the new BA is not signed yet
    upload_scan(world, new_ba["id"])
    with pytest.raises(InvalidInput) as exc:
        finalise(world, "bast_kelurahan", {"meeting_id": mid})
    assert exc.value.code == "sptjm_stale"
    new_sp = finalise(world, "sptjm", {"meeting_id": mid}, reason="Menyebut Berita Acara pengganti")
    assert f"Berita Acara Nomor {new_ba['nomor']}" in flat("\n".join(pdf_pages(download(world, new_sp["id"]))))
    upload_scan(world, new_sp["id"])
    assert finalise(world, "bast_kelurahan", {"meeting_id": mid})["covers"] == [new_ba["id"], new_sp["id"]]

    reason = "Tidak ada usulan dari RW manapun bulan ini"
    nh = run(world.engine, meetings.record_not_held, KEL, "2026-09", reason, actor=world.lurah)["id"]
    with pytest.raises(InvalidInput) as exc:
        finalise(world, BA, {"meeting_id": nh})
    assert exc.value.code == "not_held_no_ba"
    nh_sp = finalise(world, "sptjm", {"meeting_id": nh})
    text = flat("\n".join(pdf_pages(download(world, nh_sp["id"]))))
    assert f"tidak dilaksanakan pada periode September 2026 dengan alasan: {reason}" in text
    assert "Berita Acara Nomor" not in text
    upload_scan(world, nh_sp["id"], png_bytes(), "sptjm.png")
    nh_bast = finalise(world, "bast_kelurahan", {"meeting_id": nh})
    bast_text = flat("\n".join(pdf_pages(download(world, nh_bast["id"]))))
    assert nh_sp["nomor"] in bast_text and "Berita Acara Musyawarah Kelurahan beserta" not in bast_text


# ------------------------------------------------------------------------------------------ scans


@pytest.mark.parametrize("data, name", [(b"hello", "pindaian.pdf"), (b"", "kosong.pdf"),
                                        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "scan.jpg"),
                                        (b"PK\x03\x04 dokumen.docx", "scan.pdf")])
def test_scan_that_is_not_pdf_or_image_refused_and_nothing_stored(world, data, name):
    """Guards the signed scan upload: content that is neither PDF nor JPG/PNG (whatever its name) is refused
    with a clear message and nothing is stored."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    ba = finalise(world, BA, {"meeting_id": mid})
    before = counts(world.engine)
    with pytest.raises(InvalidInput) as exc:
        run(world.engine, documents.upload_scan, ba["id"], data, name, actor=world.lurah)
    assert exc.value.field == "pindaian" and ("PDF" in exc.value.message or "kosong" in exc.value.message)
    assert counts(world.engine) == before
    assert stored_doc(world.engine, ba["id"]).scan_sha256 == ""


def test_scan_accepted_by_content_and_downloadable(world):
    """Guards that a PNG named .pdf is taken for what it is, and the scan handed back is the bytes uploaded."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    ba = finalise(world, BA, {"meeting_id": mid})
    image = png_bytes()
    stored = upload_scan(world, ba["id"], image, "pindaian.pdf")
    assert stored["scan_sha256"] == sha(image)
    data, _, media_type = run(world.engine, documents.download, ba["id"], actor=world.lurah, which="scan")
    assert data == image and media_type == "image/png"
    with pytest.raises(AccessDenied):  # the scan is uploaded by the issuing office
        upload_scan(world, ba["id"], scan_pdf(), actor=world.camat)


# ------------------------------------------------------------------------------------------ wording and signers


def test_wording_change_never_alters_a_final(world):
    """Guards frozen finals: after the admin rewrites a paragraph, the final downloads byte for byte as before and
    still verifies as valid, while a new draft shows the new wording."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    final = finalise(world, BA, {"meeting_id": mid})
    original = download(world, final["id"])
    new_text = "Demikian Berita Acara ini dibuat dan ditandatangani bersama oleh para peserta musyawarah."
    run(world.engine, doc_wording.update, "ba.penutup", new_text, expected_version=0, actor=world.admin)
    again = download(world, final["id"])
    assert again == original and sha(again) == final["sha256"]
    assert new_text not in flat("\n".join(pdf_pages(again)))
    assert verify_pdf(world, again)["status"] == "valid"
    assert new_text in flat("\n".join(pdf_pages(draft(world, BA, {"meeting_id": mid}))))


@pytest.mark.parametrize("sebutan, jabatan_pengganti, expected_jabatan", [
    ("Plt.", "", "Plt. Lurah Kayu Manis"),
    ("Plh.", "", "Plh. Lurah Kayu Manis"),
    ("a.n.", "Sekretaris Kelurahan", "Sekretaris Kelurahan"),
])
def test_acting_signer_on_sptjm(world, sebutan, jabatan_pengganti, expected_jabatan):
    """Guards the SPTJM signed while the Lurah is away: the acting official's marker, name and NIP are printed
    (in the identity block and the signature), not the absent Lurah's."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    finalise(world, BA, {"meeting_id": mid})
    profile = run(world.engine, offices.get_profile, KEL)
    run(world.engine, offices.update_profile, KEL,
        {**{k: profile[k] for k in offices.FIELDS}, "pengganti_sebutan": sebutan, "pengganti_nama": "Rudi Hartono",
         "pengganti_nip": "198001012006041002", "pengganti_jabatan": jabatan_pengganti},
        expected_version=profile["version"], actor=world.admin)
    pages = pdf_pages(draft(world, "sptjm", {"meeting_id": mid}))
    text = "\n".join(pages)
    assert re.search(r"Nama\s+:\s+Rudi Hartono\n", text)
    assert re.search(r"NIP\s+:\s+198001012006041002\n", text)
    assert re.search(rf"Jabatan\s+:\s+{re.escape(expected_jabatan)}\n", text)
    signature = text[text.index("Jakarta, 20 November 2026"):]
    if sebutan == "a.n.":
        assert "a.n. Lurah Kayu Manis" in signature and "Sekretaris Kelurahan" in signature
    else:
        assert re.search(rf"^\s*{re.escape(sebutan)}\s*$", signature, flags=re.M)
        assert "Lurah Kayu Manis" in signature
    assert "Rudi Hartono" in signature and "NIP 198001012006041002" in signature
    assert LURAH_NAME not in text and LURAH_NIP not in text


# ------------------------------------------------------------------------------------------ the whole chain


def _kk_jiwa(pattern: str, text: str) -> tuple[int, int]:
    match = re.search(pattern, text)
    assert match, pattern
    return int(match.group(1)), int(match.group(2))


def test_counts_agree_across_ba_sptjm_and_bast(world):
    """Guards one set of figures for one meeting: the BA's results, the SPTJM's statement and the BAST's recap
    say the same KK and jiwa (in figures and in words), and the BAST lists the files it hands over by SHA-256."""
    mid = held_meeting(world.engine, world.operator, world.lurah)
    chain = kelurahan_chain(world, mid)
    ba_pdf, sp_pdf, bast_pdf = (download(world, chain[k]["id"]) for k in ("ba", "sptjm", "bast"))
    ba_text, sp_text = flat("\n".join(pdf_pages(ba_pdf))), flat("\n".join(pdf_pages(sp_pdf)))
    bast_pages = pdf_pages(bast_pdf)
    bast_text = flat("\n".join(bast_pages))

    ba = _kk_jiwa(r"menyepakati usulan sebanyak (\d+) \(\w+\) keluarga dan (\d+) \([\w ]+\) jiwa", ba_text)
    ba_table = _kk_jiwa(r"Jumlah keluarga yang disepakati (\d+) (\d+)", ba_text)
    sp = _kk_jiwa(r"Data usulan sebanyak (\d+) \(\w+\) keluarga dan (\d+) \([\w ]+\) jiwa", sp_text)
    bast = _kk_jiwa(r"Daftar usulan: (\d+) \(\w+\) keluarga, (\d+) \([\w ]+\) jiwa", bast_text)
    recap = "\n".join(bast_pages)
    per_type = {label: _kk_jiwa(rf"{label}\s+(\d+)\s+(\d+)\n", recap) for label in ("Usulan baru", "Prioritas program")}
    assert ba == ba_table == sp == bast == (2, 5)
    assert per_type == {"Usulan baru": (1, 2), "Prioritas program": (1, 3)}
    for words in ("2 (dua) keluarga", "5 (lima) jiwa"):
        assert words in ba_text and words in sp_text and words in bast_text

    assert f"Berita Acara Nomor {chain['ba']['nomor']}" in sp_text  # the SPTJM names the BA it vouches for
    compact = "".join(reading_text(bast_pdf).split())
    ba_scan = download(world, chain["ba"]["id"], which="scan")
    sp_scan = download(world, chain["sptjm"]["id"], which="scan")
    for digest in (sha(ba_pdf), sha(sp_pdf), sha(ba_scan), sha(sp_scan)):
        assert digest in compact
    assert chain["ba"]["nomor"] in bast_text and chain["sptjm"]["nomor"] in bast_text
    assert chain["ba"]["kode"] in bast_text and chain["sptjm"]["kode"] in bast_text

    data_file = download(world, chain["bast"]["id"], which="data")
    assert sha(data_file) in compact
    csv_text = data_file.decode("utf-8-sig")
    for nik, nama, *_ in AGREED_MEMBERS:  # the BNBA data file has every agreed member with the full NIK
        assert nik in csv_text and nama.upper() in csv_text
    for nik, *_ in REJECTED_MEMBERS:
        assert nik not in csv_text
    assert verify_pdf(world, bast_pdf)["status"] == "valid"


def submit(w: World, mid: int, lurah: Actor, when: datetime, monkeypatch) -> int:
    """The Lurah submits the meeting's batch to the Camat at ``when`` (field visits waived with a reason)."""
    monkeypatch.setattr(workflow, "utcnow", lambda: when)
    for item in run(w.engine, proposals.list_proposals, mid, actor=lurah):
        if item["keputusan"] == "disepakati":
            run(w.engine, workflow.waive_verification, item["id"], "Keluarga dikenal langsung oleh Ketua RW",
                actor=lurah)
    batch_id = run(w.engine, workflow.batch_id_for_meeting, mid, actor=lurah)
    run(w.engine, workflow.act, batch_id, "ajukan", actor=lurah)
    return batch_id


def test_bast_camat_and_pengesahan_with_susulan(world, make_account, monkeypatch):
    """Guards the path upward: a submitted batch freezes the kelurahan's documents; the BAST Camat lists the
    forwarded batch with the same totals; the Walikota's pengesahan carries the same totals and names; a batch
    submitted after the cut-off day is left for a PENGESAHAN SUSULAN that names the first and does not ratify Kayu
    Manis twice."""
    key_kec, key_kota = {"kode": KEC, "periode": PERIODE}, {"kode": KOTA, "periode": PERIODE}
    mid = held_meeting(world.engine, world.operator, world.lurah)
    chain = kelurahan_chain(world, mid)
    with pytest.raises(InvalidInput) as exc:  # the Camat receives the BAST signed, as a scan
        run(world.engine, documents.record_receipt, chain["bast"]["id"], actor=world.camat)
    assert exc.value.code == "scan_missing"
    upload_scan(world, chain["bast"]["id"])
    batch = submit(world, mid, world.lurah, datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc), monkeypatch)
    before = counts(world.engine)
    with pytest.raises(InvalidInput) as exc:  # submitted: the kelurahan's documents are frozen
        finalise(world, BA, {"meeting_id": mid}, reason="Koreksi sesudah diajukan")
    assert exc.value.code == "batch_frozen"
    assert counts(world.engine) == before
    with pytest.raises(AccessDenied):
        run(world.engine, documents.record_receipt, chain["bast"]["id"], actor=world.lurah)
    run(world.engine, documents.record_receipt, chain["bast"]["id"], actor=world.camat)
    assert stored_doc(world.engine, chain["bast"]["id"]).received_by == "camat.matraman"

    with pytest.raises(InvalidInput) as exc:  # not forwarded yet
        finalise(world, "bast_kecamatan", key_kec, actor=world.camat)
    assert exc.value.code == "nothing_to_forward"
    run(world.engine, workflow.act, batch, "teruskan", actor=world.camat)
    with pytest.raises(AccessDenied):
        finalise(world, "bast_kecamatan", key_kec, actor=world.lurah)
    kec = finalise(world, "bast_kecamatan", key_kec, actor=world.camat)
    assert kec["nomor"] == "001/BAST/MUSKEL/31.75.01/XI/2026"
    kec_text = "\n".join(pdf_pages(download(world, kec["id"], actor=world.camat)))
    assert re.search(rf"Kayu Manis\s+{re.escape(chain['bast']['nomor'])}\s+2\s+5\n", kec_text)
    assert re.search(r"Jumlah\s+2\s+5\n", kec_text)
    assert "DOKUMEN USULAN KECAMATAN MATRAMAN" in kec_text
    assert "2 (dua) keluarga diteruskan" in flat(kec_text)

    with pytest.raises(InvalidInput) as exc:  # not ratified yet
        finalise(world, "pengesahan", key_kota, actor=world.walikota)
    assert exc.value.code == "nothing_to_ratify"
    run(world.engine, workflow.act, batch, "sahkan", actor=world.walikota)
    with pytest.raises(AccessDenied):
        finalise(world, "pengesahan", key_kota, actor=world.camat)
    first = finalise(world, "pengesahan", key_kota, actor=world.walikota)
    assert first["nomor"] == "001/PENGESAHAN/MUSKEL/31.75/XI/2026" and not first["susulan"]
    pages = pdf_pages(download(world, first["id"], actor=world.walikota))
    text = flat("\n".join(pages))
    assert "PENGESAHAN SUSULAN" not in text
    assert "sebanyak 2 (dua) keluarga dan 5 (lima) jiwa dari 1 (satu) kelurahan" in text
    assert re.search(r"Matraman\s+Kayu Manis\s+1\s+0\s+0\s+1\s+2\s+5\n", "\n".join(pages))
    for nik, nama, *_ in AGREED_MEMBERS:
        assert re.search(rf"{nik}\s+{nama.upper()}", "\n".join(pages)), nik
    for nik, *_ in REJECTED_MEMBERS:
        assert nik not in text
    with pytest.raises(InvalidInput) as exc:  # nothing new to ratify
        finalise(world, "pengesahan", key_kota, actor=world.walikota)
    assert exc.value.code == "nothing_to_ratify"

    # Palmeriam held no musyawarah and submits after the 25th: its batch goes up in a second BAST Camat and a
    # susulan
    lurah2 = make_account(world.engine, "lurah.palmeriam", "lurah", KEL2)
    nh = run(world.engine, meetings.record_not_held, KEL2, PERIODE, "Tidak ada usulan warga periode ini",
             actor=lurah2)["id"]
    sp2 = finalise(world, "sptjm", {"meeting_id": nh}, actor=lurah2)
    upload_scan(world, sp2["id"], actor=lurah2)
    bast2 = finalise(world, "bast_kelurahan", {"meeting_id": nh}, actor=lurah2)
    upload_scan(world, bast2["id"], actor=lurah2)
    batch2 = submit(world, nh, lurah2, datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc), monkeypatch)
    run(world.engine, workflow.act, batch2, "teruskan", actor=world.camat)
    kec2 = finalise(world, "bast_kecamatan", key_kec, actor=world.camat)
    assert kec2["nomor"] == "002/BAST/MUSKEL/31.75.01/XI/2026"
    assert stored_doc(world.engine, kec["id"]).status == "final"  # a second BAST Camat adds, it does not replace
    kec2_text = "\n".join(pdf_pages(download(world, kec2["id"], actor=world.camat)))
    assert re.search(rf"Palmeriam\s+{re.escape(bast2['nomor'])}\s+0\s+0\n", kec2_text)
    assert re.search(r"Jumlah\s+0\s+0\n", kec2_text) and "Kayu Manis" not in kec2_text

    run(world.engine, workflow.act, batch2, "sahkan", actor=world.walikota)
    second = finalise(world, "pengesahan", key_kota, actor=world.walikota)
    assert second["susulan"] and second["nomor"] == "002/PENGESAHAN/MUSKEL/31.75/XI/2026"
    text2 = flat("\n".join(pdf_pages(download(world, second["id"], actor=world.walikota))))
    assert "(PENGESAHAN SUSULAN)" in text2
    assert f"melengkapi pengesahan Nomor {first['nomor']}" in text2
    assert "sebanyak 0 (nol) keluarga dan 0 (nol) jiwa dari 1 (satu) kelurahan" in text2
    assert "Kayu Manis" not in text2 and not any(nik in text2 for nik, *_ in AGREED_MEMBERS)
    assert "musyawarah tidak dilaksanakan" in text2
    assert stored_doc(world.engine, first["id"]).status == "final"  # a susulan supplements, it does not replace
