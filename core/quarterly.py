"""The figures of the laporan triwulan (the Instruction's quarterly report) for a kecamatan or a kota.

Musyawarah held per kelurahan and month; proposals by type, reason and programme; ratified, returned and rejected
with reasons; families verified and evidence flags; exclusion/inclusion-error candidates. Counts use the same
grouped queries as the dashboards (``core.dashboard.proposal_counts``), so the two never disagree.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, time, timezone

import sqlalchemy as sa
from sqlmodel import Session, select

from core.access import scope_filter
from core.dashboard import proposal_counts
from core.errors import InvalidInput
from core.models import Assignment, Flag, Musyawarah, Proposal, Visit, VisitPhoto, Wilayah
from core.timefmt import WIB

CANDIDATES = ("kandidat_exclusion_error", "kandidat_inclusion_error")


def months(tahun: int, triwulan: int) -> list[str]:
    if triwulan not in (1, 2, 3, 4) or not 2020 <= tahun <= 2100:
        raise InvalidInput("Triwulan harus 1 sampai 4 dan tahun empat angka.", code="quarter_invalid",
                           field="triwulan")
    return [f"{tahun}-{m:02d}" for m in range(3 * triwulan - 2, 3 * triwulan + 1)]


def _bounds(tahun: int, triwulan: int) -> tuple[date, date, datetime, datetime]:
    first = date(tahun, 3 * triwulan - 2, 1)
    last = date(tahun + 1, 1, 1) if triwulan == 4 else date(tahun, 3 * triwulan + 1, 1)
    start = datetime.combine(first, time.min, WIB).astimezone(timezone.utc)
    end = datetime.combine(last, time.min, WIB).astimezone(timezone.utc)
    return first, last, start, end


def figures(scope_kode: str, tahun: int, triwulan: int, session: Session) -> dict:
    """Everything the report shows, as plain data (the caller has checked access)."""
    periods = months(tahun, triwulan)
    first, last, start, end = _bounds(tahun, triwulan)
    kelurahan = list(session.exec(select(Wilayah).where(Wilayah.tingkat == "kelurahan",
                                                        scope_filter(Wilayah.kode, scope_kode))
                                  .order_by(Wilayah.kode)))
    kecamatan = {w.kode: w.nama for w in session.exec(select(Wilayah).where(
        Wilayah.tingkat == "kecamatan", scope_filter(Wilayah.kode, scope_kode)))}
    held: dict[tuple[str, str], str] = {}
    for m in session.exec(select(Musyawarah).where(scope_filter(Musyawarah.kelurahan_kode, scope_kode),
                                                   Musyawarah.periode.in_(periods))):
        state = "tidak" if m.kind == "not_held" else ("ya" if m.status == "closed" else "berlangsung")
        held[(m.kelurahan_kode, m.periode)] = state
    per_kelurahan = [{"kecamatan": kecamatan.get(w.kode_induk, ""), "kelurahan": w.nama, "kode": w.kode,
                      **{p: held.get((w.kode, p), "belum") for p in periods}} for w in kelurahan]

    def counts(group: str, **kw) -> dict:
        total: dict[str, dict] = {}
        for p in periods:
            for key, value in proposal_counts(scope_kode, p, session, group=group, **kw).items():
                slot = total.setdefault(key, {"kk": 0, "jiwa": 0, "usulan": 0})
                for k in slot:
                    slot[k] += value[k]
        return total

    programs: Counter = Counter()
    for raw in session.exec(select(Proposal.programs).where(
            scope_filter(Proposal.kelurahan_kode, scope_kode), Proposal.periode.in_(periods),
            Proposal.keputusan == "disepakati", Proposal.status != "dibatalkan")):
        programs.update(json.loads(raw))
    reasons = [{"status": s, "tingkat": level or "-", "alasan": why, "usulan": n} for s, level, why, n in session.exec(
        select(Proposal.status, Proposal.status_level, Proposal.status_reason, sa.func.count(Proposal.id))
        .where(scope_filter(Proposal.kelurahan_kode, scope_kode), Proposal.periode.in_(periods),
               Proposal.status.in_(("dikembalikan", "ditolak")))
        .group_by(Proposal.status, Proposal.status_level, Proposal.status_reason)
        .order_by(sa.func.count(Proposal.id).desc()))]
    visits = session.exec(select(sa.func.count(sa.distinct(Assignment.id))).join(
        Visit, Visit.assignment_id == Assignment.id).where(
        scope_filter(Assignment.kelurahan_kode, scope_kode), Visit.status == "selesai", Visit.tanggal >= first,
        Visit.tanggal < last)).one()
    photo_flags: Counter = Counter()
    for raw in session.exec(select(VisitPhoto.flags).where(scope_filter(VisitPhoto.kelurahan_kode, scope_kode),
                                                           VisitPhoto.created_at >= start,
                                                           VisitPhoto.created_at < end)):
        photo_flags.update(json.loads(raw or "{}").keys())
    candidates = dict(session.exec(select(Flag.code, sa.func.count(Flag.id)).where(
        scope_filter(Flag.kelurahan_kode, scope_kode), Flag.code.in_(CANDIDATES), Flag.created_at >= start,
        Flag.created_at < end).group_by(Flag.code)).all())
    return {"periods": periods, "kelurahan": per_kelurahan, "jenis": counts("jenis"),
            "alasan": {k: v for k, v in counts("alasan").items() if k}, "program": dict(sorted(programs.items())),
            "status": counts("status"), "alasan_pengembalian": reasons, "keluarga_diverifikasi": visits,
            "temuan_foto": dict(sorted(photo_flags.items())), "kandidat": candidates}


def xlsx(scope_kode: str, tahun: int, triwulan: int, *, actor, session: Session) -> bytes:
    """The same figures as the PDF, a sheet per section, for offices that compile their own recap."""
    import io

    from openpyxl import Workbook

    from core import audit
    from core.access import Action, require
    from core.proposals import JENIS, NONAKTIF_REASONS
    from core.spreadsheet import as_text, safe

    require(actor, Action.DOCUMENT_DRAFT, scope_kode)
    from core import wilayah as wilayah_ref

    if wilayah_ref.get(session, scope_kode).tingkat not in ("kecamatan", "kota", "kabupaten"):
        raise InvalidInput("Laporan triwulan dibuat untuk satu kecamatan atau kota/kabupaten.",
                           code="not_report_level")
    f = figures(scope_kode, tahun, triwulan, session)
    book = Workbook()
    sheet = book.active
    sheet.title = "Musyawarah"
    sheet.append(["Kecamatan", "Kelurahan", "Kode", *f["periods"]])
    for r in f["kelurahan"]:
        sheet.append([r["kecamatan"], r["kelurahan"], r["kode"], *[r[p] for p in f["periods"]]])
    sheet = book.create_sheet("Usulan per jenis")
    sheet.append(["Jenis", "Usulan", "KK", "Jiwa"])
    for key, label in JENIS.items():
        v = f["jenis"].get(key, {"usulan": 0, "kk": 0, "jiwa": 0})
        sheet.append([label, v["usulan"], v["kk"], v["jiwa"]])
    sheet = book.create_sheet("Alasan nonaktif")
    sheet.append(["Alasan", "KK", "Jiwa"])
    for key, v in f["alasan"].items():
        sheet.append([NONAKTIF_REASONS.get(key, key), v["kk"], v["jiwa"]])
    sheet = book.create_sheet("Program")
    sheet.append(["Program", "Usulan"])
    for key, n in f["program"].items():
        sheet.append([key, n])
    sheet = book.create_sheet("Tinjauan")
    sheet.append(["Status", "KK", "Jiwa"])
    for key, v in f["status"].items():
        sheet.append([key, v["kk"], v["jiwa"]])
    sheet.append([])
    sheet.append(["Status", "Tingkat", "Alasan", "Usulan"])
    for r in f["alasan_pengembalian"]:
        sheet.append([r["status"], r["tingkat"], r["alasan"], r["usulan"]])
    sheet = book.create_sheet("Verifikasi")
    sheet.append(["Uraian", "Jumlah"])
    sheet.append(["Keluarga selesai diverifikasi", f["keluarga_diverifikasi"]])
    for code, n in f["temuan_foto"].items():
        sheet.append([f"Foto dengan temuan {code}", n])
    for code in CANDIDATES:
        sheet.append([code, f["kandidat"].get(code, 0)])
    for page in book.worksheets:
        for row in page.iter_rows():
            for cell in row:
                cell.value = safe(cell.value)
        as_text(page, min_row=1)
    buffer = io.BytesIO()
    book.save(buffer)
    audit.record(session, actor, "report.quarterly_xlsx", object_type="wilayah", object_id=scope_kode,
                 wilayah_kode=scope_kode, after={"tahun": tahun, "triwulan": triwulan})
    return buffer.getvalue()
