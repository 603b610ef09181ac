"""The demo musyawarah of Kayu Manis: November 2026 held and closed (the walkthrough's meeting), and December
opened with the items deferred in November carried over."""

from __future__ import annotations

import random
from datetime import date

from sqlmodel import Session, select

from core import accounts, meetings, proposals
from core.models import Family, Musyawarah, Person

KAYUMANIS = "31.75.01.1003"
ATTENDEES = ([("Hendra Gunawan", "Lurah", "Lurah Kayu Manis"), ("Sari Wulandari", "Kasi Kesra/Operator", "Notulis"),
              ("H. Abdul Rahman", "LMK", "Ketua LMK"), ("Ibu Nurhayati", "TP PKK", "Ketua TP PKK"),
              ("Budi Santoso", "PSM", "PSM"), ("Rini Astuti", "SDM PKH", "Pendamping PKH"),
              ("Agus Salim", "TKSK", "TKSK Matraman"), ("Aiptu Darmawan", "Bhabinkamtibmas", "Bhabinkamtibmas")]
             + [(f"Ketua RW {i:02d}", "Ketua RW", f"Ketua RW {i:03d}") for i in range(1, 8)]
             + [(f"Ketua RT {i:02d}/0{1 + i % 7}", "Ketua RT", f"Ketua RT {i:03d}") for i in range(1, 13)])
PLAN = ([("baru", "", ["PKH"])] * 13 + [("baru", "", ["Sekolah Rakyat", "PKH"])]
        + [("perbaikan", "", [])] * 6
        + [("nonaktif", r, []) for r in ["meninggal"] * 4 + ["pindah_dalam_negeri"] * 3 + ["mampu"] * 2
           + ["data_ganda"] * 2]
        + [("prioritas_program", "", ["Sekolah Rakyat"])] * 4)


def seed(*, session: Session) -> list[str]:
    """Create the demo meetings once; returns the periods created."""
    if session.exec(select(Musyawarah.id).where(Musyawarah.kelurahan_kode == KAYUMANIS)).first():
        return []
    operator = accounts.actor_for(accounts.get_user(session, "operator.kayumanis"), channel="cli")
    lurah = accounts.actor_for(accounts.get_user(session, "lurah.kayumanis"), channel="cli")
    families = session.exec(select(Family).where(Family.kelurahan_kode == KAYUMANIS, Family.status == "aktif")
                            .order_by(Family.id)).all()
    if len(families) < 60:
        return []
    rng = random.Random(20261112)
    november = meetings.create_meeting(KAYUMANIS, "2026-11", actor=operator, session=session)
    mid = november["id"]
    for fieldname, value in (("nomor", "005/BA/MK/XI/2026"), ("tanggal", date(2026, 11, 12)), ("jam_mulai", "09.00"),
                             ("jam_selesai", "12.30"), ("ketua", "Hendra Gunawan"), ("notulis", "Sari Wulandari"),
                             ("notulen", "Musyawarah dibuka oleh Lurah pukul 09.00. Operator memaparkan daftar "
                                         "usulan per RW; peserta membahas setiap keluarga. Tiga usulan ditunda "
                                         "menunggu verifikasi domisili.")):
        current = meetings.get_meeting(mid, actor=operator, session=session)
        meetings.update_meeting_field(mid, fieldname, getattr(current, fieldname), value, actor=operator,
                                      session=session)
    for nama, unsur, jabatan in ATTENDEES:
        meetings.add_attendee(mid, {"nama": nama, "unsur": unsur, "jabatan": jabatan}, actor=operator, session=session)
    picked = rng.sample(families[20:], len(PLAN) + 3)
    for n, family in enumerate(picked):
        jenis, reason, programs = PLAN[n] if n < len(PLAN) else ("baru", "", ["PKH"])
        members = session.exec(select(Person.nik).where(Person.family_id == family.id)).all()
        affected = members[:1] if jenis == "nonaktif" and reason == "meninggal" else None
        change = [{"field": "alamat", "lama": family.alamat, "baru": family.alamat + " (belakang)"}] \
            if jenis == "perbaikan" else []
        item = proposals.add_from_register(
            mid, family.id, jenis=jenis, alasan_nonaktif=reason, programs=programs, member_niks=affected,
            perubahan=change, sumber=rng.choice(["musyawarah", "cek_bansos", "pksp"]),
            alasan="Usulan RW berdasarkan pendataan PKSP" if jenis != "nonaktif" else "Laporan Ketua RT",
            actor=operator, session=session)
        decision = "ditunda" if n >= len(PLAN) else ("tidak_disepakati" if n == 5 else "disepakati")
        note = "Menunggu verifikasi domisili" if decision == "ditunda" else ""
        proposals.set_decision(item["id"], decision, note, seen="", actor=operator, session=session)
    meetings.close_meeting(mid, confirm_without_quorum=False, actor=lurah, session=session)
    december = meetings.create_meeting(KAYUMANIS, "2026-12", actor=operator, session=session)
    for item in proposals.carried_over(KAYUMANIS, "2026-12", actor=operator, session=session):
        proposals.carry_over(december["id"], item["id"], actor=operator, session=session)
    return ["2026-11", "2026-12"]
