"""The figures of the home dashboards, aggregated in SQL and always scoped to the user's wilayah.

The quarterly report uses the same functions, so a count never differs between a dashboard and a document.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from core import workflow
from core.access import Action, Actor, in_scope, require, require_bulk, scope_filter
from core.errors import AccessDenied
from core.models import AuditEntry, Batch, BatchEvent, Family, Flag, Musyawarah, Proposal, ProposalMember, Wilayah
from core.timefmt import WIB, as_utc, utcnow

ACTIVE_ITEMS = ("diusulkan", "diteruskan", "disahkan")
STATE_COLOUR = {"draft": "#9e9e9e", "diajukan": "#1e88e5", "diteruskan": "#8e24aa", "disahkan": "#2e7d32",
                "dikembalikan": "#ef6c00", "ditolak": "#c62828", "tanpa_pengajuan": "#bdbdbd"}


def _scope(actor: Actor, kode: str) -> None:
    require(actor, Action.WILAYAH_VIEW, kode)
    if not in_scope(actor.wilayah_kode, kode):
        raise AccessDenied("Wilayah ini di luar wilayah Anda.")


def proposal_counts(scope_kode: str, periode: str | None, session: Session, *, group: str = "jenis",
                    statuses: tuple[str, ...] | None = None, agreed_only: bool = True) -> dict[str, dict]:
    """KK (distinct No KK) and jiwa (distinct NIK) of proposals under a wilayah, grouped by one column."""
    column = {"jenis": Proposal.jenis, "keputusan": Proposal.keputusan, "status": Proposal.status,
              "kelurahan": Proposal.kelurahan_kode, "desil": Proposal.desil, "alasan": Proposal.alasan_nonaktif,
              "periode": Proposal.periode}[group]
    stmt = (select(column, sa.func.count(sa.distinct(Proposal.no_kk)), sa.func.count(sa.distinct(ProposalMember.nik)),
                   sa.func.count(sa.distinct(Proposal.id)))
            .join(ProposalMember, ProposalMember.proposal_id == Proposal.id, isouter=True)
            .where(scope_filter(Proposal.kelurahan_kode, scope_kode), Proposal.status != "dibatalkan"))
    if periode:
        stmt = stmt.where(Proposal.periode == periode)
    if agreed_only:
        stmt = stmt.where(Proposal.keputusan == "disepakati")
    if statuses:
        stmt = stmt.where(Proposal.status.in_(statuses))
    return {("" if key is None else str(key)): {"kk": kk, "jiwa": jiwa, "usulan": n}
            for key, kk, jiwa, n in session.exec(stmt.group_by(column))}


def kelurahan_panel(kode: str, periode: str, *, actor: Actor, session: Session) -> dict:
    """The kelurahan home under the steps: decisions per type, visits, findings, batch state and returns."""
    _scope(actor, kode)
    stmt = (select(Proposal.jenis, Proposal.keputusan, sa.func.count(Proposal.id))
            .where(Proposal.kelurahan_kode == kode, Proposal.periode == periode, Proposal.status != "dibatalkan")
            .group_by(Proposal.jenis, Proposal.keputusan))
    decisions = [{"jenis": j, "keputusan": k or "belum", "usulan": n} for j, k, n in session.exec(stmt)]
    flags = dict(session.exec(select(Flag.severity, sa.func.count(Flag.id)).where(
        Flag.kelurahan_kode == kode, Flag.status == "open").group_by(Flag.severity)).all())
    meeting = session.exec(select(Musyawarah).where(Musyawarah.kelurahan_kode == kode, Musyawarah.periode == periode)
                           .order_by(Musyawarah.id.desc())).first()
    batch = session.exec(select(Batch).where(Batch.musyawarah_id == meeting.id)).first() if meeting else None
    needed = done = 0
    if batch is not None and meeting.kind == "held":
        active = workflow.items(batch, session, ("diusulkan",)) if batch.state == "draft" else []
        missing = len(workflow.missing_verifications(batch, session)) if batch.state == "draft" else 0
        needed, done = len(active), len(active) - missing
    returns = session.exec(select(sa.func.count(Proposal.id)).where(
        Proposal.kelurahan_kode == kode, Proposal.status.in_(("dikembalikan", "ditolak")))).one()
    return {"keputusan": decisions, "temuan_terbuka": flags, "verifikasi": {"perlu": needed, "selesai": done},
            "status": batch.state if batch else ("belum_ditutup" if meeting else "belum_ada"),
            "dikembalikan": returns}


def wilayah_rows(scope_kode: str, periode: str, *, actor: Actor, session: Session) -> list[dict]:
    """A row per kelurahan under a kecamatan or kota: musyawarah, batch state and age, counts, findings."""
    _scope(actor, scope_kode)
    kel = list(session.exec(select(Wilayah).where(Wilayah.tingkat == "kelurahan",
                                                  scope_filter(Wilayah.kode, scope_kode)).order_by(Wilayah.kode)))
    kec = {w.kode: w.nama for w in session.exec(select(Wilayah).where(Wilayah.tingkat == "kecamatan",
                                                                      scope_filter(Wilayah.kode, scope_kode)))}
    meetings = {m.kelurahan_kode: m for m in session.exec(
        select(Musyawarah).where(scope_filter(Musyawarah.kelurahan_kode, scope_kode), Musyawarah.periode == periode)
        .order_by(Musyawarah.id))}
    batches = {b.kelurahan_kode: b for b in session.exec(
        select(Batch).where(scope_filter(Batch.kelurahan_kode, scope_kode), Batch.periode == periode)
        .order_by(Batch.id))}
    counts = proposal_counts(scope_kode, periode, session, group="kelurahan", statuses=ACTIVE_ITEMS)
    flags = dict(session.exec(select(Flag.kelurahan_kode, sa.func.count(Flag.id)).where(
        scope_filter(Flag.kelurahan_kode, scope_kode), Flag.status == "open").group_by(Flag.kelurahan_kode)).all())
    now = utcnow()
    rows = []
    for w in kel:
        m, b = meetings.get(w.kode), batches.get(w.kode)
        musyawarah = ("tidak_diadakan" if m and m.kind == "not_held" else "ditutup" if m and m.status == "closed"
                      else "berlangsung" if m else "belum")
        c = counts.get(w.kode, {"kk": 0, "jiwa": 0, "usulan": 0})
        rows.append({"kode": w.kode, "kelurahan": w.nama, "kecamatan": kec.get(w.kode_induk, ""),
                     "musyawarah": musyawarah, "status": b.state if b else "tanpa_pengajuan",
                     "terlambat": bool(b and b.late),
                     "umur_hari": (now - as_utc(b.state_changed_at)).days if b else None,
                     "kk": c["kk"], "jiwa": c["jiwa"], "temuan": flags.get(w.kode, 0)})
    return rows


def progress(rows: list[dict], periode: str, kota_kode: str, session: Session) -> dict:
    """How far the kelurahan are toward the monthly cut-off."""
    cutoff = workflow.cutoff_date(periode, kota_kode, session)
    submitted = sum(1 for r in rows if r["status"] not in ("tanpa_pengajuan", "draft"))
    return {"kelurahan": len(rows), "diajukan": submitted, "batas": cutoff,
            "sisa_hari": (cutoff - utcnow().astimezone(WIB).date()).days}


def duplicate_niks(scope_kode: str, periode: str, *, actor: Actor, session: Session) -> int:
    """How many NIKs are proposed more than once under the wilayah this period (the report lists them)."""
    require_bulk(actor, scope_kode)
    twice = (select(ProposalMember.nik).join(Proposal, Proposal.id == ProposalMember.proposal_id)
             .where(scope_filter(Proposal.kelurahan_kode, scope_kode), Proposal.periode == periode,
                    Proposal.keputusan == "disepakati", Proposal.status != "dibatalkan")
             .group_by(ProposalMember.nik).having(sa.func.count() > 1)).subquery()
    return session.exec(select(sa.func.count()).select_from(twice)).one()


def ratified_by(scope_kode: str, periode: str, group: str, *, actor: Actor, session: Session) -> dict[str, dict]:
    """Ratified totals (items disahkan) by programme or desil."""
    _scope(actor, scope_kode)
    if group != "program":
        return proposal_counts(scope_kode, periode, session, group=group, statuses=("disahkan",))
    out: dict[str, dict] = {}
    import json

    stmt = (select(Proposal.programs, Proposal.no_kk, ProposalMember.nik)
            .join(ProposalMember, ProposalMember.proposal_id == Proposal.id)
            .where(scope_filter(Proposal.kelurahan_kode, scope_kode), Proposal.periode == periode,
                   Proposal.status == "disahkan", Proposal.programs != "[]"))
    seen: dict[str, tuple[set, set]] = {}
    for programs, kk, nik in session.exec(stmt):
        for program in json.loads(programs):
            families, people = seen.setdefault(program, (set(), set()))
            families.add(kk)
            people.add(nik)
    for program, (families, people) in sorted(seen.items()):
        out[program] = {"kk": len(families), "jiwa": len(people)}
    return out


def proposal_points(scope_kode: str, periode: str, *, actor: Actor, session: Session) -> list[dict]:
    """Families of the period's proposals that have a location, coloured by their batch's state."""
    require_bulk(actor, scope_kode)
    stmt = (select(Family.id, Family.latitude, Family.longitude, Family.rt, Family.rw, Batch.state)
            .join(Proposal, Proposal.family_id == Family.id)
            .join(Batch, Batch.musyawarah_id == Proposal.musyawarah_id, isouter=True)
            .where(scope_filter(Proposal.kelurahan_kode, scope_kode), Proposal.periode == periode,
                   Proposal.keputusan == "disepakati", Proposal.status != "dibatalkan",
                   Family.latitude.is_not(None)))
    return [{"family_id": fid, "lat": lat, "lon": lon, "rt": rt, "rw": rw,
             "colour": STATE_COLOUR.get(state or "draft", "#9e9e9e"), "state": state or "draft"}
            for fid, lat, lon, rt, rw, state in session.exec(stmt)]


def auditor_panel(scope_kode: str, *, actor: Actor, session: Session, days: int = 60) -> dict:
    """Activity per day, the returns with their reasons, and the audit chain's last verification."""
    require(actor, Action.AUDIT_VIEW, scope_kode)
    since = utcnow() - timedelta(days=days)
    day = sa.func.date(AuditEntry.created_at)
    activity = [{"tanggal": str(d), "entri": n} for d, n in session.exec(
        select(day, sa.func.count(AuditEntry.id)).where(scope_filter(AuditEntry.wilayah_kode, scope_kode),
                                                         AuditEntry.created_at >= since).group_by(day).order_by(day))]
    returns = [{"waktu": e.at, "tindakan": e.action, "oleh": e.actor_username, "alasan": e.reason,
                "kelurahan": b.kelurahan_kode} for e, b in session.exec(
        select(BatchEvent, Batch).join(Batch, Batch.id == BatchEvent.batch_id)
        .where(scope_filter(Batch.kelurahan_kode, scope_kode),
               BatchEvent.action.in_(("kembalikan", "kembalikan_ke_camat", "tolak")))
        .order_by(BatchEvent.id.desc()).limit(50))]
    item_returns = [{"kelurahan": k, "tingkat": level, "status": status, "alasan": reason, "jumlah": n}
                    for k, level, status, reason, n in session.exec(
                        select(Proposal.kelurahan_kode, Proposal.status_level, Proposal.status, Proposal.status_reason,
                               sa.func.count(Proposal.id))
                        .where(scope_filter(Proposal.kelurahan_kode, scope_kode),
                               Proposal.status.in_(("dikembalikan", "ditolak")))
                        .group_by(Proposal.kelurahan_kode, Proposal.status_level, Proposal.status,
                                  Proposal.status_reason))]
    last = session.exec(select(AuditEntry).where(AuditEntry.action == "audit.verified")
                        .order_by(AuditEntry.seq.desc())).first()
    return {"aktivitas": activity, "pengembalian": returns, "pengembalian_usulan": item_returns,
            "verifikasi_terakhir": {"waktu": last.created_at, "oleh": last.actor_username,
                                    "hasil": last.after} if last else None}

