"""Gathers what each official document says from the database, as plain data for the PDF builders.

One function per document type returns an ``Assembled``: the builder's input, the PDF title, the non-personal
summary kept in the registry, and the ids of what the document lists. Callers check access first.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Callable

import sqlalchemy as sa
from sqlmodel import Session, select

from core import doc_content as dc
from core import doc_wording, wilayah
from core.doc_pdf_ba import berita_acara, blank_attendance
from core.doc_pdf_letters import bast, pengesahan, sptjm
from core.models import Attendee, Batch, Document, MeetingPhoto, Musyawarah, Proposal, StoredFile
from core.pdf_kit import Signer
from core.spreadsheet import safe_row
from core.proposals import JENIS, NONAKTIF_REASONS, proposal_dicts
from core.timefmt import tanggal


@dataclass
class Assembled:
    content: dict
    builder: Callable
    title: str
    summary: dict
    covers: list[int]
    running_header: str = ""


LEFT_THE_BATCH = ("dibatalkan", "dikembalikan", "ditolak")


def _proposals(meeting: Musyawarah, session: Session, statuses: tuple[str, ...] | None = None) -> list[dict]:
    """The meeting's items still in its batch — or only those in ``statuses`` (the caller has checked access).

    Items returned or rejected upstream have left the batch and wait in the next pre-list, so a revision's
    documents no longer count them.
    """
    stmt = select(Proposal).where(Proposal.musyawarah_id == meeting.id)
    stmt = stmt.where(Proposal.status.in_(statuses)) if statuses else stmt.where(Proposal.status.not_in(LEFT_THE_BATCH))
    return proposal_dicts(list(session.exec(stmt.order_by(Proposal.urutan))), session)


def forwarded_items(meeting: Musyawarah, session: Session) -> list[dict]:
    """What the Camat passed on: items forwarded or ratified, and those the Walikota later returned or rejected."""
    stmt = select(Proposal).where(Proposal.musyawarah_id == meeting.id, sa.or_(
        Proposal.status.in_(("diteruskan", "disahkan")), Proposal.status_level == "walikota"))
    return proposal_dicts(list(session.exec(stmt.order_by(Proposal.urutan))), session)


def bnba_rows(proposals: list[dict], session: Session) -> list[list[str]]:
    """One row per affected person of every agreed item, in agenda order — the BNBA attachment's rows."""
    notes = dc.verification_notes(proposals, session)
    rows: list[list[str]] = []
    for p in proposals:
        if p["keputusan"] != "disepakati":
            continue
        if p["jenis"] == "nonaktif":
            reason = NONAKTIF_REASONS.get(p["alasan_nonaktif"], p["alasan_nonaktif"])
        elif p["jenis"] == "perbaikan":
            reason = "; ".join(f"{c['field']}: {c['lama']} → {c['baru']}" for c in p["perubahan"]) or p["alasan"]
        else:
            reason = p["alasan"]
        for m in p["anggota"]:
            rows.append([str(len(rows) + 1), p["no_kk"], m["nik"], m["nama"], m["jenis_kelamin"],
                         m["tanggal_lahir"].strftime("%d-%m-%Y") if m["tanggal_lahir"] else "", m["hubungan"],
                         p["alamat"], f"{p['rt']}/{p['rw']}", "" if p["desil"] is None else str(p["desil"]),
                         JENIS[p["jenis"]], reason, ", ".join(p["programs"]), notes.get(p["id"], "")])
    return rows


def bnba_csv(rows: list[list[str]]) -> bytes:
    """The by-name list as a CSV data file (UTF-8 with BOM so Excel keeps the NIK digits): listed in the BAST."""
    from core.doc_pdf_ba import BNBA_HEADER

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(BNBA_HEADER)
    writer.writerows(safe_row(row) for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _summary(doc_type: str, kode: str, periode: str, counts: dict, session: Session) -> dict:
    p = dc.places(session, kode)
    return {"jenis": doc_type, "kelurahan": p["kelurahan"], "kecamatan": p["kecamatan"], "kota": p["kota"],
            "periode": periode, "kk": counts["kk"], "jiwa": counts["jiwa"],
            "per_jenis": {JENIS[key]: v for key, v in counts["jenis"].items()}}


def _kapital(text: str) -> str:
    return text.upper()


def berita_acara_doc(meeting: Musyawarah, session: Session, *, nomor: str | None, verify_url: str) -> Assembled:
    texts = doc_wording.texts(session)
    places = dc.places(session, meeting.kelurahan_kode)
    proposals = _proposals(meeting, session)
    counts = dc.batch_counts(proposals)
    held = meeting.tanggal or date.today()
    facts = {**places, **dc.when(held), "periode": dc.periode_label(meeting.periode),
             "jam_mulai": meeting.jam_mulai or "…", "jam_selesai": meeting.jam_selesai or "…",
             "tempat": meeting.tempat or f"Kantor Kelurahan {places['kelurahan']}",
             "ketua": meeting.ketua or "…", "notulis": meeting.notulis or "…",
             "kelurahan_kapital": _kapital(places["kelurahan"]), "periode_kapital": _kapital(dc.periode_label(meeting.periode)),
             "kk": dc.count_words(counts["kk"]), "jiwa": dc.count_words(counts["jiwa"])}
    attendees = [a for a in session.exec(select(Attendee).where(Attendee.musyawarah_id == meeting.id,
                                                                Attendee.removed == False)  # noqa: E712
                                          .order_by(Attendee.id))]
    facts["jumlah_hadir"] = dc.count_words(len(attendees))
    unsur = Counter(a.unsur or "Lainnya" for a in attendees)
    decisions = counts["keputusan"]
    keputusan_text = ("Dari seluruh usulan yang dibahas: " + "; ".join(
        f"{label.lower()} {dc.count_words(decisions[key]['kk'])} keluarga"
        for key, label in (("disepakati", "Disepakati"), ("tidak_disepakati", "Tidak disepakati"),
                           ("ditunda", "Ditunda")) if key in decisions) + ".") if decisions else ""
    wakil_pool = [a for a in attendees if not a.is_chair and a.nama != meeting.notulis]
    wakil = [Signer(role_line=a.jabatan or a.unsur, nama=a.nama) for a in wakil_pool[:2]]
    photos = []
    from core.filestore import default_store

    store = default_store()
    for photo, stored in session.exec(select(MeetingPhoto, StoredFile)
                                      .join(StoredFile, StoredFile.id == MeetingPhoto.thumbnail_id)
                                      .where(MeetingPhoto.musyawarah_id == meeting.id).order_by(MeetingPhoto.id)):
        photos.append((store.get(stored.sha256), photo.caption))
    header = (f"Kelurahan {places['kelurahan']} · Kecamatan {places['kecamatan']} · {places['kota']} · "
              f"periode {dc.periode_label(meeting.periode)}")
    ref = f"Berita Acara Nomor {nomor}" if nomor else "Berita Acara (draf)"
    content = {
        "letterhead": dc.letterhead(meeting.kelurahan_kode, session),
        "title_lines": doc_wording.render(texts["ba.judul"], facts).splitlines(), "nomor": nomor,
        "pembuka": doc_wording.render(texts["ba.pembuka"], facts), "dasar": doc_wording.lines(texts["ba.dasar"]),
        "peserta": doc_wording.render(texts["ba.peserta"], facts), "unsur_counts": sorted(unsur.items()),
        "agenda": meeting.agenda, "hasil": doc_wording.render(texts["ba.hasil"], facts),
        "counts_rows": dc.counts_rows(counts), "keputusan_text": keputusan_text,
        "penutup": doc_wording.render(texts["ba.penutup"], facts),
        "place_date": f"Jakarta, {tanggal(held)}",
        "signers": [Signer(role_line="Notulis", nama=meeting.notulis),
                    dc.signer(meeting.kelurahan_kode, session, role_line="Pimpinan Musyawarah")],
        "wakil": wakil,
        "mengetahui": dc.signer(".".join(meeting.kelurahan_kode.split(".")[:3]), session),
        "attendees": [{"nama": a.nama, "unsur": a.unsur, "jabatan": a.jabatan, "alamat": a.alamat,
                       "telepon": a.telepon} for a in attendees],
        "bnba_rows": bnba_rows(proposals, session), "notulen": meeting.notulen, "photos": photos,
        "lampiran_header": header, "lampiran_ref": ref, "verify_url": verify_url,
    }
    return Assembled(content, berita_acara, f"Berita Acara Musyawarah Kelurahan {places['kelurahan']} "
                                             f"{meeting.periode}", _summary("berita_acara", meeting.kelurahan_kode,
                                                                            meeting.periode, counts, session),
                     [meeting.id], running_header="Lampiran II · " + ref + " · " + header)


def blank_attendance_doc(meeting: Musyawarah, session: Session) -> Assembled:
    places = dc.places(session, meeting.kelurahan_kode)
    attendees = [{"nama": a.nama, "unsur": a.unsur, "jabatan": a.jabatan, "alamat": a.alamat, "telepon": ""}
                 for a in session.exec(select(Attendee).where(Attendee.musyawarah_id == meeting.id,
                                                              Attendee.removed == False)  # noqa: E712
                                       .order_by(Attendee.id))]
    content = {"letterhead": dc.letterhead(meeting.kelurahan_kode, session),
               "subtitle": f"Musyawarah Kelurahan {places['kelurahan']} periode {dc.periode_label(meeting.periode)}",
               "hari_tanggal": dc.when(meeting.tanggal)["hari"] + ", " + tanggal(meeting.tanggal)
               if meeting.tanggal else "……………………", "waktu": f"{meeting.jam_mulai or '……'} WIB – selesai",
               "tempat": meeting.tempat or "……………………",
               "acara": "Musyawarah usulan data sasaran dan pemutakhiran DTSEN", "attendees": attendees,
               "blank_rows": max(10, 40 - len(attendees))}
    return Assembled(content, blank_attendance, f"Daftar hadir musyawarah {places['kelurahan']} {meeting.periode}",
                     {}, [])


def sptjm_doc(meeting: Musyawarah, session: Session, *, nomor: str | None, verify_url: str, on: date,
              ba: Document | None) -> Assembled:
    texts = doc_wording.texts(session)
    places = dc.places(session, meeting.kelurahan_kode)
    counts = dc.batch_counts(_proposals(meeting, session)) if meeting.kind == "held" else \
        {"kk": 0, "jiwa": 0, "jenis": {}, "alasan_nonaktif": {}, "program": {}, "keputusan": {}}
    held = meeting.tanggal or on
    facts = {**places, **dc.when(held), "periode": dc.periode_label(meeting.periode),
             "nomor_ba": ba.nomor if ba else "……… (Berita Acara belum difinalkan)",
             "kk": dc.count_words(counts["kk"]), "jiwa": dc.count_words(counts["jiwa"]),
             "alasan": meeting.not_held_reason}
    key = "sptjm.pernyataan_dilaksanakan" if meeting.kind == "held" else "sptjm.pernyataan_tidak_dilaksanakan"
    sig = dc.signer(meeting.kelurahan_kode, session, meterai=True)
    jabatan = (sig.prefix + " " if sig.prefix and not sig.prefix.startswith("a.n.") else "") + sig.role_line
    content = {
        "letterhead": dc.letterhead(meeting.kelurahan_kode, session),
        "title_lines": ["SURAT PERNYATAAN TANGGUNG JAWAB MUTLAK"], "nomor": nomor,
        "pembuka": doc_wording.render(texts["sptjm.pembuka"], facts),
        "identitas": [("Nama", sig.nama or "…"), ("NIP", sig.nip or "…"), ("Jabatan", jabatan),
                      ("Unit kerja", f"Kelurahan {places['kelurahan']}, Kecamatan {places['kecamatan']}, "
                                     f"{places['kota']}")],
        "pernyataan": doc_wording.lines(doc_wording.render(texts[key], facts)),
        "penutup": doc_wording.render(texts["sptjm.penutup"], facts),
        "place_date": f"Jakarta, {tanggal(on)}", "signer": sig, "verify_url": verify_url,
    }
    return Assembled(content, sptjm, f"SPTJM Kelurahan {places['kelurahan']} {meeting.periode}",
                     _summary("sptjm", meeting.kelurahan_kode, meeting.periode, counts, session),
                     [ba.id] if ba else [])


def _party(sig: Signer, places_line: str) -> list[tuple[str, str]]:
    jabatan = (sig.prefix + " " if sig.prefix and not sig.prefix.startswith("a.n.") else "") + sig.role_line
    return [("Nama", sig.nama or "…"), ("NIP", sig.nip or "…"), ("Jabatan", jabatan), ("Alamat kantor", places_line)]


def _office_address(kode: str, session: Session) -> str:
    head = dc.letterhead(kode, session)
    return head.address or head.lines[-1].title()


def _file_line(label: str, doc: Document, session: Session) -> tuple[str, str]:
    scan = f"\npindaian bertanda tangan: SHA-256 {doc.scan_sha256}" if doc.scan_sha256 else ""
    return (f"{label}\nNomor {doc.nomor}", f"PDF final: SHA-256 {doc.sha256}{scan}\nKode verifikasi "
                                           f"{doc.verification_code}")


def bast_kelurahan_doc(meeting: Musyawarah, session: Session, *, nomor: str | None, verify_url: str, on: date,
                       ba: Document | None, sptjm_doc_row: Document | None, data_sha: str, data_name: str,
                       package_sha: str = "") -> Assembled:
    texts = doc_wording.texts(session)
    places = dc.places(session, meeting.kelurahan_kode)
    counts = dc.batch_counts(_proposals(meeting, session)) if meeting.kind == "held" else \
        {"kk": 0, "jiwa": 0, "jenis": {}, "alasan_nonaktif": {}, "program": {}, "keputusan": {}}
    facts = {**dc.when(on), "periode": dc.periode_label(meeting.periode)}
    kecamatan = ".".join(meeting.kelurahan_kode.split(".")[:3])
    first = dc.signer(meeting.kelurahan_kode, session)
    second = dc.signer(kecamatan, session)
    items = []
    if ba:
        items.append(_file_line("Berita Acara Musyawarah Kelurahan beserta Lampiran I daftar hadir, Lampiran II "
                                "daftar usulan (BNBA), Lampiran III notulen dan Lampiran IV dokumentasi", ba, session))
    if sptjm_doc_row:
        items.append(_file_line("Surat Pernyataan Tanggung Jawab Mutlak (SPTJM)", sptjm_doc_row, session))
    if meeting.kind == "held":
        items.append((f"Daftar usulan: {dc.count_words(counts['kk'])} keluarga, {dc.count_words(counts['jiwa'])} jiwa",
                      "rincian per jenis usulan pada rekapitulasi di bawah"))
        items.append(("Berkas data digital daftar usulan (BNBA)", f"{data_name}\nSHA-256 {data_sha}"))
    if package_sha:
        items.append(("Paket pengajuan digital (ZIP; sidik manifest.json)", f"SHA-256 {package_sha}"))
    recap = [["Jenis usulan", "KK", "Jiwa"]] + [[JENIS[key], str(v["kk"]), str(v["jiwa"])]
                                                 for key, v in counts["jenis"].items()]
    content = {
        "letterhead": dc.letterhead(meeting.kelurahan_kode, session),
        "title_lines": ["BERITA ACARA SERAH TERIMA", "DOKUMEN HASIL MUSYAWARAH KELURAHAN"], "nomor": nomor,
        "pembuka": doc_wording.render(texts["bast.pembuka"], facts),
        "pihak_pertama": _party(first, _office_address(meeting.kelurahan_kode, session)),
        "pihak_kedua": _party(second, _office_address(kecamatan, session)),
        "isi": doc_wording.render(texts["bast.isi"], facts), "items": items,
        "recap_rows": recap if meeting.kind == "held" else None, "recap_widths": [90 * _MM, 25 * _MM, 25 * _MM],
        "penutup": doc_wording.render(texts["bast.penutup"], facts), "place_date": f"Jakarta, {tanggal(on)}",
        "signers": [Signer(role_line="PIHAK KEDUA,\n" + second.role_line, nama=second.nama, nip=second.nip,
                           prefix=second.prefix),
                    Signer(role_line="PIHAK PERTAMA,\n" + first.role_line, nama=first.nama, nip=first.nip,
                           prefix=first.prefix)],
        "verify_url": verify_url,
    }
    covers = [d.id for d in (ba, sptjm_doc_row) if d]
    return Assembled(content, bast, f"BAST Kelurahan {places['kelurahan']} {meeting.periode}",
                     _summary("bast_kelurahan", meeting.kelurahan_kode, meeting.periode, counts, session), covers)


_MM = 2.834645669  # reportlab's mm, kept here so this module stays free of layout imports


def bast_kecamatan_doc(kecamatan: str, periode: str, session: Session, *, nomor: str | None, verify_url: str,
                       on: date, batches: list[Batch]) -> Assembled:
    texts = doc_wording.texts(session)
    places = dc.places(session, kecamatan)
    kota = ".".join(kecamatan.split(".")[:2])
    facts = {**dc.when(on), "periode": dc.periode_label(periode)}
    first = dc.signer(kecamatan, session)
    second = dc.signer(kota, session)
    second = Signer(role_line=f"{second.role_line} c.q. Suku Dinas Sosial", nama=second.nama, nip=second.nip,
                    prefix=second.prefix)
    items, recap, total_kk, total_jiwa = [], [["Kelurahan", "BAST kelurahan", "KK", "Jiwa"]], 0, 0
    for batch in batches:
        meeting = session.get(Musyawarah, batch.musyawarah_id)
        counts = dc.batch_counts(forwarded_items(meeting, session))
        name = dc.places(session, batch.kelurahan_kode)["kelurahan"]
        bast_row = session.exec(select(Document).where(Document.doc_type == "bast_kelurahan",
                                                       Document.musyawarah_id == meeting.id,
                                                       Document.status == "final")).first()
        number = bast_row.nomor if bast_row else "–"
        files = (f"BAST Nomor {number}\nSHA-256 {bast_row.sha256}" + (
            f"\npindaian: SHA-256 {bast_row.scan_sha256}" if bast_row.scan_sha256 else "")) if bast_row else ""
        items.append((f"Dokumen usulan Kelurahan {name} (revisi {batch.revision}): "
                      f"{dc.count_words(counts['kk'])} keluarga diteruskan", files))
        recap.append([name, number, str(counts["kk"]), str(counts["jiwa"])])
        total_kk += counts["kk"]
        total_jiwa += counts["jiwa"]
    recap.append(["Jumlah", "", str(total_kk), str(total_jiwa)])
    content = {
        "letterhead": dc.letterhead(kecamatan, session),
        "title_lines": ["BERITA ACARA SERAH TERIMA", f"DOKUMEN USULAN KECAMATAN {places['kecamatan'].upper()}"],
        "nomor": nomor, "pembuka": doc_wording.render(texts["bast.pembuka"], facts),
        "pihak_pertama": _party(first, _office_address(kecamatan, session)),
        "pihak_kedua": _party(second, _office_address(kota, session)),
        "isi": doc_wording.render(texts["bast.isi"], facts), "items": items, "recap_rows": recap,
        "recap_widths": [55 * _MM, 70 * _MM, 20 * _MM, 20 * _MM],
        "penutup": doc_wording.render(texts["bast.penutup"], facts), "place_date": f"Jakarta, {tanggal(on)}",
        "signers": [Signer(role_line="PIHAK KEDUA,\n" + second.role_line, nama=second.nama, nip=second.nip,
                           prefix=second.prefix),
                    Signer(role_line="PIHAK PERTAMA,\n" + first.role_line, nama=first.nama, nip=first.nip,
                           prefix=first.prefix)],
        "verify_url": verify_url,
    }
    counts = {"kk": total_kk, "jiwa": total_jiwa, "jenis": {}}
    return Assembled(content, bast, f"BAST Kecamatan {places['kecamatan']} {periode}",
                     _summary("bast_kecamatan", kecamatan, periode, counts, session), [b.id for b in batches])


def pengesahan_doc(kota: str, periode: str, session: Session, *, nomor: str | None, verify_url: str, on: date,
                   batches: list[Batch], susulan: bool, earlier: list[str]) -> Assembled:
    texts = doc_wording.texts(session)
    kota_row = wilayah.get(session, kota)
    sig = dc.signer(kota, session)
    recap = [["Kecamatan", "Kelurahan"] + list(JENIS.values()) + ["KK", "Jiwa"]]
    sections, total_kk, total_jiwa = [], 0, 0
    reasons = [["Kecamatan", "Kelurahan", "Alasan nonaktif", "KK", "Jiwa"]]
    by_jenis_total = {key: 0 for key in JENIS}
    meetings = [session.get(Musyawarah, b.musyawarah_id) for b in batches]
    for meeting in sorted(meetings, key=lambda m: m.kelurahan_kode):
        proposals = _proposals(meeting, session, ("disahkan",)) if meeting.kind == "held" else []
        counts = dc.batch_counts(proposals)
        places = dc.places(session, meeting.kelurahan_kode)
        recap.append([places["kecamatan"], places["kelurahan"]]
                     + [str(counts["jenis"].get(key, {"kk": 0})["kk"]) for key in JENIS]
                     + [str(counts["kk"]), str(counts["jiwa"])])
        for key in JENIS:
            by_jenis_total[key] += counts["jenis"].get(key, {"kk": 0})["kk"]
        for reason, value in counts["alasan_nonaktif"].items():
            reasons.append([places["kecamatan"], places["kelurahan"], NONAKTIF_REASONS.get(reason, reason),
                            str(value["kk"]), str(value["jiwa"])])
        total_kk += counts["kk"]
        total_jiwa += counts["jiwa"]
        sections.append((f"Kelurahan {places['kelurahan']}, Kecamatan {places['kecamatan']}"
                         + ("" if meeting.kind == "held" else " — musyawarah tidak dilaksanakan"),
                         bnba_rows(proposals, session)))
    recap.append(["Jumlah", f"{len(meetings)} kelurahan"] + [str(by_jenis_total[k]) for k in JENIS]
                 + [str(total_kk), str(total_jiwa)])
    jabatan = dc.head_title(kota, session)
    facts = {"kota": kota_row.nama, "periode": dc.periode_label(periode), "jabatan": jabatan,
             "kk": dc.count_words(total_kk), "jiwa": dc.count_words(total_jiwa),
             "jumlah_kelurahan": dc.count_words(len(meetings)), "kota_kapital": kota_row.nama.upper(),
             "periode_kapital": dc.periode_label(periode).upper()}
    title = doc_wording.render(texts["pengesahan.judul"], facts).splitlines()
    if susulan:
        title.append("(PENGESAHAN SUSULAN)")
    content = {
        "letterhead": dc.letterhead(kota, session), "title_lines": title, "nomor": nomor,
        "susulan_note": ("Pengesahan susulan ini melengkapi pengesahan Nomor " + ", ".join(earlier)
                         + " untuk usulan yang disahkan sesudahnya atau diajukan melewati batas waktu.") if earlier
        else ("Pengesahan susulan untuk usulan yang diajukan melewati batas waktu." if susulan else ""),
        "pembuka": doc_wording.render(texts["pengesahan.pembuka"], facts), "recap_rows": recap,
        "recap_widths": [28 * _MM, 30 * _MM] + [22 * _MM] * len(JENIS) + [14 * _MM, 14 * _MM],
        "reason_rows": reasons if len(reasons) > 1 else None,
        "penutup": doc_wording.render(texts["pengesahan.penutup"], facts), "place_date": f"Jakarta, {tanggal(on)}",
        "signer": sig, "bnba_sections": sections, "verify_url": verify_url,
    }
    counts = {"kk": total_kk, "jiwa": total_jiwa,
              "jenis": {key: {"kk": v, "jiwa": 0} for key, v in by_jenis_total.items() if v}}
    summary = _summary("pengesahan", kota, periode, counts, session)
    summary["per_jenis"] = {JENIS[key]: v for key, v in by_jenis_total.items()}
    summary["kelurahan_count"] = len(meetings)
    summary["susulan"] = susulan
    return Assembled(content, pengesahan, f"Pengesahan {kota_row.nama} {periode}", summary, [b.id for b in batches])


def laporan_triwulan_doc(kode: str, tahun: int, triwulan: int, session: Session, *, nomor: str | None,
                         verify_url: str, on: date) -> Assembled:
    from core import quarterly
    from core.doc_pdf_report import laporan

    f = quarterly.figures(kode, tahun, triwulan, session)
    place = wilayah.get(session, kode)
    level = "KECAMATAN " + place.nama.upper() if place.tingkat == "kecamatan" else place.nama.upper()
    roman = ("I", "II", "III", "IV")[triwulan - 1]
    month_names = [dc.periode_label(p) for p in f["periods"]]
    jenis_rows = [["Jenis usulan", "Usulan", "KK", "Jiwa"]] + [
        [JENIS[key], str(f["jenis"].get(key, {}).get("usulan", 0)), str(f["jenis"].get(key, {}).get("kk", 0)),
         str(f["jenis"].get(key, {}).get("jiwa", 0))] for key in JENIS]
    status_labels = {"diusulkan": "Masih di kelurahan/Camat", "diteruskan": "Diteruskan ke Walikota/Bupati",
                     "disahkan": "Disahkan", "dikembalikan": "Dikembalikan", "ditolak": "Ditolak"}
    content = {
        "letterhead": dc.letterhead(kode, session),
        "title_lines": [f"LAPORAN TRIWULAN {roman} TAHUN {tahun}", "PELAKSANAAN MUSYAWARAH KELURAHAN DAN USULAN "
                        "DATA SASARAN", level],
        "nomor": nomor,
        "pembuka": f"Laporan ini memuat pelaksanaan musyawarah kelurahan dan usulan data sasaran serta pemutakhiran "
                   f"DTSEN di {place.nama} pada {', '.join(month_names)}, sebagaimana diamanatkan Instruksi "
                   f"Gubernur tentang pelaporan setiap tiga bulan.",
        "periods": f["periods"],
        "kelurahan_rows": [["Kecamatan", "Kelurahan"] + month_names] + [
            [r["kecamatan"], r["kelurahan"]] + [r[p] for p in f["periods"]] for r in f["kelurahan"]],
        "jenis_rows": jenis_rows,
        "jenis_chart": [(JENIS[key], f["jenis"].get(key, {}).get("kk", 0)) for key in JENIS],
        "alasan_rows": ([["Alasan", "KK", "Jiwa"]] + [[NONAKTIF_REASONS.get(k, k), str(v["kk"]), str(v["jiwa"])]
                                                     for k, v in f["alasan"].items()]) if f["alasan"] else None,
        "program_chart": list(f["program"].items()),
        "status_rows": [["Keadaan usulan", "KK", "Jiwa"]] + [
            [status_labels.get(k, k), str(v["kk"]), str(v["jiwa"])] for k, v in f["status"].items()],
        "reason_rows": [["Status", "Tingkat", "Alasan", "Usulan"]] + [
            [r["status"], r["tingkat"], r["alasan"], str(r["usulan"])] for r in f["alasan_pengembalian"]],
        "verification_rows": [["Uraian", "Jumlah"], ["Keluarga selesai diverifikasi di lapangan",
                                                     str(f["keluarga_diverifikasi"])]]
        + [[f"Foto dengan temuan {code}", str(n)] for code, n in f["temuan_foto"].items()],
        "candidate_rows": [["Uraian", "Jumlah"],
                           ["Kandidat exclusion error (miskin, belum terdata/desil tinggi)",
                            str(f["kandidat"].get("kandidat_exclusion_error", 0))],
                           ["Kandidat inclusion error (desil rendah, kondisi mampu)",
                            str(f["kandidat"].get("kandidat_inclusion_error", 0))]],
        "place_date": f"Jakarta, {tanggal(on)}", "signer": dc.signer(kode, session), "verify_url": verify_url,
    }
    total = {"kk": sum(v["kk"] for v in f["jenis"].values()), "jiwa": sum(v["jiwa"] for v in f["jenis"].values()),
             "jenis": {k: v for k, v in f["jenis"].items()}}
    summary = _summary("laporan_triwulan", kode, f"{tahun}-Q{triwulan}", total, session)
    return Assembled(content, laporan, f"Laporan Triwulan {roman} {tahun} {place.nama}", summary, [])
