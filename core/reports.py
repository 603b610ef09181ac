"""Reports across kelurahan: the duplicate report (the same NIK proposed in more than one place or item)."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa
from sqlmodel import Session, select

from core import audit
from core.access import Actor, require_bulk, scope_filter
from core.models import Batch, Proposal, ProposalMember, Wilayah
from core.spreadsheet import safe

DUPLICATE_HEADER = ["nik", "nama", "kelurahan_kode", "kelurahan", "batch_id", "proposal_type", "status"]


def duplicates(wilayah_kode: str, *, actor: Actor, session: Session, periode: str | None = None) -> list[dict]:
    """One row per occurrence of a NIK that occurs more than once among the batches' items under a wilayah."""
    require_bulk(actor, wilayah_kode)
    base = (select(ProposalMember.nik, ProposalMember.nama, Proposal.kelurahan_kode, Batch.id, Proposal.jenis,
                   Proposal.status)
            .join(Proposal, Proposal.id == ProposalMember.proposal_id)
            .join(Batch, Batch.musyawarah_id == Proposal.musyawarah_id)
            .where(scope_filter(Proposal.kelurahan_kode, wilayah_kode), Proposal.keputusan == "disepakati",
                   Proposal.status != "dibatalkan"))
    if periode:
        base = base.where(Batch.periode == periode)
    twice = (select(ProposalMember.nik).join(Proposal, Proposal.id == ProposalMember.proposal_id)
             .join(Batch, Batch.musyawarah_id == Proposal.musyawarah_id)
             .where(scope_filter(Proposal.kelurahan_kode, wilayah_kode), Proposal.keputusan == "disepakati",
                    Proposal.status != "dibatalkan", *( [Batch.periode == periode] if periode else []))
             .group_by(ProposalMember.nik).having(sa.func.count() > 1))
    rows = session.exec(base.where(ProposalMember.nik.in_(twice)).order_by(ProposalMember.nik, Proposal.kelurahan_kode,
                                                                           Batch.id)).all()
    names = {w.kode: w.nama for w in session.exec(select(Wilayah).where(
        Wilayah.kode.in_({r[2] for r in rows} or {""})))}
    out = [{"nik": nik, "nama": nama, "kelurahan_kode": kel, "kelurahan": names.get(kel, ""), "batch_id": bid,
            "proposal_type": jenis, "status": status} for nik, nama, kel, bid, jenis, status in rows]
    audit.record(session, actor, "report.duplicates", object_type="wilayah", object_id=wilayah_kode,
                 wilayah_kode=wilayah_kode, after={"baris": len(out), "periode": periode})
    return out


def duplicates_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=DUPLICATE_HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: safe(v) for k, v in row.items()} for row in rows)
    return buffer.getvalue().encode("utf-8")
