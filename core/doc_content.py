"""Plain facts for official documents: letterheads, signers, dates and counts written the Indonesian way.

Every count on every document of a batch comes from ``batch_counts`` (which uses the meeting tally), so a
Berita Acara, its SPTJM, its BAST and the pengesahan can never disagree.
"""

from __future__ import annotations

import json
from datetime import date

from babel.dates import format_date
from num2words import num2words
from sqlmodel import Session, select

from core import tally, wilayah
from core.access import role_label
from core.models import Assignment, OfficeProfile, Visit
from core.pdf_kit import Letterhead, Signer
from core.proposals import JENIS, NONAKTIF_REASONS


def words(n: int) -> str:
    return num2words(int(n), lang="id")


def count_words(n: int) -> str:
    """``25 (dua puluh lima)``"""
    return f"{n} ({words(n)})"


def when(d: date) -> dict:
    """The facts of a date as official documents spell them out."""
    return {"hari": format_date(d, "EEEE", locale="id"), "tanggal": format_date(d, "d MMMM y", locale="id"),
            "tanggal_huruf": words(d.day), "bulan": format_date(d, "MMMM", locale="id"), "tahun": str(d.year),
            "tahun_huruf": words(d.year)}


def periode_label(periode: str) -> str:
    """``2026-11`` → ``November 2026``"""
    year, month = (int(x) for x in periode.split("-"))
    return format_date(date(year, month, 1), "MMMM y", locale="id")


def places(session: Session, kode: str) -> dict:
    chain = {w.tingkat: w for w in wilayah.lineage(session, kode)}
    kota = chain.get("kota") or chain.get("kabupaten")
    return {"kelurahan": chain["kelurahan"].nama if "kelurahan" in chain else "",
            "kecamatan": chain["kecamatan"].nama if "kecamatan" in chain else "",
            "kota": kota.nama if kota else "", "kota_tingkat": kota.tingkat if kota else "kota"}


def head_title(kode: str, session: Session) -> str:
    """The title of the head of an office: Lurah Kayu Manis, Camat Matraman, Walikota/Bupati …"""
    w = wilayah.get(session, kode)
    if w.tingkat == "kelurahan":
        return f"Lurah {w.nama}"
    if w.tingkat == "kecamatan":
        return f"Camat {w.nama}"
    short = w.nama.replace("Kota Administrasi ", "").replace("Kabupaten Administrasi ", "")
    return f"{role_label('walikota', w.tingkat)} {short}"


def letterhead(kode: str, session: Session) -> Letterhead:
    w = wilayah.get(session, kode)
    chain = wilayah.lineage(session, kode)
    lines = ["PEMERINTAH PROVINSI DKI JAKARTA"]
    profile = session.get(OfficeProfile, kode)
    for level in chain[1:]:
        if level.tingkat in ("kota", "kabupaten"):
            lines.append(level.nama.upper())
        elif level.tingkat == "kecamatan":
            lines.append(f"KECAMATAN {level.nama.upper()}")
        elif level.tingkat == "kelurahan":
            lines.append(f"KELURAHAN {level.nama.upper()}")
    if profile and profile.nama_kantor:
        lines[-1] = profile.nama_kantor.upper()
    address, contact, logo = "", "", None
    if profile:
        address = profile.alamat
        kode_pos = profile.kode_pos or w.kode_pos or ""
        contact = " · ".join(x for x in (f"Telepon {profile.telepon}" if profile.telepon else "",
                                         f"Email {profile.email}" if profile.email else "",
                                         f"Kode Pos {kode_pos}" if kode_pos else "") if x)
        from core.offices import logo_bytes

        logo = logo_bytes(kode, session=session)
    return Letterhead(lines=lines, address=address, contact=contact, logo=logo)


def signer(kode: str, session: Session, *, role_line: str | None = None, meterai: bool = False) -> Signer:
    """The official who signs for an office: the head, or the acting official (Plt./Plh.) or an a.n. signature."""
    profile = session.get(OfficeProfile, kode)
    title = (profile.jabatan_pimpinan if profile and profile.jabatan_pimpinan else head_title(kode, session))
    if profile and profile.pengganti_sebutan and profile.pengganti_nama:
        if profile.pengganti_sebutan == "a.n.":
            return Signer(role_line=profile.pengganti_jabatan or "", nama=profile.pengganti_nama,
                          nip=profile.pengganti_nip, prefix=f"a.n. {title}", meterai=meterai)
        return Signer(role_line=role_line or title, nama=profile.pengganti_nama, nip=profile.pengganti_nip,
                      prefix=profile.pengganti_sebutan, meterai=meterai)
    return Signer(role_line=role_line or title, nama=profile.nama_pimpinan if profile else "",
                  nip=profile.nip_pimpinan if profile else "", meterai=meterai)


def batch_counts(proposals: list[dict]) -> dict:
    """KK and jiwa of the agreed items — in total, per type, per reason, per programme — plus the decisions.

    This is the one function every document of a batch takes its figures from.
    """
    agreed = [p for p in proposals if p["keputusan"] == "disepakati"]
    t = tally.tally(agreed)
    decisions = tally.tally(proposals).get("keputusan", {})
    total = t.get("total", {}).get("semua", {"kk": 0, "jiwa": 0})
    return {"kk": total["kk"], "jiwa": total["jiwa"], "jenis": t.get("jenis", {}),
            "alasan_nonaktif": t.get("alasan_nonaktif", {}), "program": t.get("program", {}),
            "keputusan": decisions}


def counts_rows(counts: dict) -> list[list[str]]:
    """The results table of the Berita Acara (and the recap of the BAST): one row per type, reason and programme."""
    rows = [["Uraian", "KK", "Jiwa"]]
    for key, label in JENIS.items():
        c = counts["jenis"].get(key, {"kk": 0, "jiwa": 0})
        rows.append([label, str(c["kk"]), str(c["jiwa"])])
        if key == "nonaktif":
            for reason, value in counts["alasan_nonaktif"].items():
                rows.append([f"    alasan: {NONAKTIF_REASONS.get(reason, reason)}", str(value["kk"]),
                             str(value["jiwa"])])
    for program, value in counts["program"].items():
        rows.append([f"Program {program}", str(value["kk"]), str(value["jiwa"])])
    rows.append(["Jumlah keluarga yang disepakati", str(counts["kk"]), str(counts["jiwa"])])
    return rows


def verification_notes(proposals: list[dict], session: Session) -> dict[int, str]:
    """The field-visit result per proposal, for the BNBA's verification column (empty where no visit)."""
    ids = [p["id"] for p in proposals]
    by_family = {p["family_id"]: p["id"] for p in proposals if p["family_id"]}
    out: dict[int, str] = {}
    labels = {"ditemukan": "Ditemukan", "tidak_ditemukan": "Tidak ditemukan", "pindah": "Pindah",
              "menolak": "Menolak"}
    for start in range(0, max(len(ids), 1), 2000):
        chunk = ids[start:start + 2000]
        families = [f for f, pid in by_family.items() if pid in set(chunk)]
        stmt = (select(Assignment, Visit).join(Visit, Visit.assignment_id == Assignment.id)
                .where(Visit.status == "selesai")
                .where((Assignment.proposal_id.in_(chunk)) | (Assignment.family_id.in_(families)))
                .order_by(Visit.tanggal, Visit.id))
        for a, v in session.exec(stmt):
            pid = a.proposal_id if a.proposal_id in set(chunk) else by_family.get(a.family_id)
            if pid is None:
                continue
            text = labels.get(v.hasil, v.hasil)
            criteria = len(json.loads(v.kriteria_bps or "[]"))
            if v.hasil == "ditemukan":
                text += f", {criteria}/14 kriteria"
            out[pid] = text + f" ({format_date(v.tanggal, 'd/M/y', locale='id')})"
    return out
