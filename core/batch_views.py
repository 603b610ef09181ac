"""Reading batches: the reviewers' queues (aggregated in SQL), one batch in detail, its history, the snapshot taken
at each submission and the diff between revisions, and what waits for each role (the home's notifications)."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from core import documents, wilayah
from core.access import Action, Actor, Role, in_scope, require, require_bulk, scope_filter
from core.errors import NotFound
from core.models import Batch, BatchEvent, BatchRevision, Document, Flag, Musyawarah, Proposal, ProposalMember, \
    Wilayah
from core.screening import mask_nik
from core.timefmt import WIB, as_utc, utcnow
from core.workflow import batch_dict, cutoff_date, get_batch, items, missing_verifications

BATCH_ITEM_STATES = ("diusulkan", "diteruskan", "disahkan")


def _counts_by_batch(batches: list[Batch], session: Session) -> dict[int, dict]:
    """KK and jiwa per batch and per type of the items still in each batch, in four grouped queries that start
    from the batches' meetings (an index lookup) rather than from every proposal ever made."""
    out: dict[int, dict] = {b.id: {"kk": 0, "jiwa": 0, "per_jenis": {}, "usulan": 0} for b in batches}
    by_meeting = {b.musyawarah_id: b.id for b in batches}
    if not by_meeting:
        return out
    meetings = list(by_meeting)
    live = sa.and_(Proposal.musyawarah_id.in_(meetings), Proposal.keputusan == "disepakati",
                   Proposal.status.in_(BATCH_ITEM_STATES))
    for mid, jenis, n, kk in session.exec(
            select(Proposal.musyawarah_id, Proposal.jenis, sa.func.count(Proposal.id),
                   sa.func.count(sa.distinct(Proposal.no_kk))).where(live)
            .group_by(Proposal.musyawarah_id, Proposal.jenis)):
        slot = out[by_meeting[mid]]
        slot["per_jenis"][jenis] = {"kk": kk, "jiwa": 0}
        slot["usulan"] += n
    for mid, jenis, jiwa in session.exec(
            select(Proposal.musyawarah_id, Proposal.jenis, sa.func.count(sa.distinct(ProposalMember.nik)))
            .join(ProposalMember, ProposalMember.proposal_id == Proposal.id).where(live)
            .group_by(Proposal.musyawarah_id, Proposal.jenis)):
        out[by_meeting[mid]]["per_jenis"][jenis]["jiwa"] = jiwa
    for mid, kk in session.exec(select(Proposal.musyawarah_id, sa.func.count(sa.distinct(Proposal.no_kk)))
                                .where(live).group_by(Proposal.musyawarah_id)):
        out[by_meeting[mid]]["kk"] = kk
    for mid, jiwa in session.exec(select(Proposal.musyawarah_id, sa.func.count(sa.distinct(ProposalMember.nik)))
                                  .join(ProposalMember, ProposalMember.proposal_id == Proposal.id).where(live)
                                  .group_by(Proposal.musyawarah_id)):
        out[by_meeting[mid]]["jiwa"] = jiwa
    return out


def _open_flags_by_batch(batches: list[Batch], session: Session) -> dict[int, int]:
    by_meeting = {b.musyawarah_id: b.id for b in batches}
    if not by_meeting:
        return {}
    stmt = (select(Proposal.musyawarah_id, sa.func.count(Flag.id)).join(Flag, Flag.proposal_id == Proposal.id)
            .where(Proposal.musyawarah_id.in_(list(by_meeting)), Flag.status == "open",
                   Proposal.status.in_(BATCH_ITEM_STATES))
            .group_by(Proposal.musyawarah_id))
    return {by_meeting[mid]: n for mid, n in session.exec(stmt)}


def queue(scope_kode: str, *, actor: Actor, session: Session, periode: str | None = None,
          states: tuple[str, ...] | None = None) -> list[dict]:
    """Batches under a wilayah with their counts, open flags and age — the reviewers' queue."""
    require(actor, Action.WILAYAH_VIEW, scope_kode)
    if not in_scope(actor.wilayah_kode, scope_kode):
        return []
    stmt = select(Batch).where(scope_filter(Batch.kelurahan_kode, scope_kode))
    if periode:
        stmt = stmt.where(Batch.periode == periode)
    if states:
        stmt = stmt.where(Batch.state.in_(states))
    batches = list(session.exec(stmt.order_by(Batch.kelurahan_kode, Batch.periode)))
    counts = _counts_by_batch(batches, session)
    flags = _open_flags_by_batch(batches, session)
    codes = {b.kelurahan_kode for b in batches}
    names = {w.kode: w for w in session.exec(select(Wilayah).where(Wilayah.kode.in_(codes or {""})))}
    parents = {w.kode: w.nama for w in session.exec(select(Wilayah).where(
        Wilayah.kode.in_({w.kode_induk for w in names.values()} or {""})))}
    now = utcnow()
    return [{**batch_dict(b, session), "kelurahan": names[b.kelurahan_kode].nama,
             "kecamatan": parents.get(names[b.kelurahan_kode].kode_induk, ""),
             **counts[b.id], "temuan": flags.get(b.id, 0),
             "umur_hari": (now - as_utc(b.state_changed_at)).days} for b in batches]


def detail(batch_id: int, *, actor: Actor, session: Session) -> dict:
    """One batch for its reviewer: items with members, flags and verification, documents, events, revisions."""
    from core.proposals import proposal_dicts

    batch = get_batch(batch_id, actor=actor, session=session)
    require_bulk(actor, batch.kelurahan_kode)
    meeting = session.get(Musyawarah, batch.musyawarah_id)
    props = items(batch, session)
    dicts = proposal_dicts(props, session)
    missing = {p.id for p in missing_verifications(batch, session)} if batch.state == "draft" else set()
    for d in dicts:
        d["perlu_verifikasi"] = d["id"] in missing
    docs = [documents.document_dict(d) for d in session.exec(
        select(Document).where(Document.musyawarah_id == meeting.id).order_by(Document.id))]
    return {**batch_dict(batch, session), "kelurahan": wilayah.get(session, batch.kelurahan_kode).nama,
            "kind": meeting.kind, "not_held_reason": meeting.not_held_reason, "items": dicts, "documents": docs,
            "events": events(batch.id, session), "revisions": revisions(batch.id, session)}


def record_view(batch_id: int, *, actor: Actor, session: Session) -> None:
    """A reviewer opened a batch's by-name list: a bulk view of personal data, so it goes into the audit chain."""
    from core import audit

    batch = get_batch(batch_id, actor=actor, session=session)
    audit.record(session, actor, "batch.viewed", object_type="batch", object_id=batch.uuid,
                 wilayah_kode=batch.kelurahan_kode, after={"revisi": batch.revision, "status": batch.state})


def events(batch_id: int, session: Session) -> list[dict]:
    return [{"revision": e.revision, "action": e.action, "from": e.from_state, "to": e.to_state,
             "oleh": e.actor_username, "peran": e.actor_role, "alasan": e.reason, "rincian": json.loads(e.details),
             "waktu": e.at} for e in session.exec(select(BatchEvent).where(BatchEvent.batch_id == batch_id)
                                                  .order_by(BatchEvent.id))]


def revisions(batch_id: int, session: Session) -> list[int]:
    return list(session.exec(select(BatchRevision.revision).where(BatchRevision.batch_id == batch_id)
                             .order_by(BatchRevision.revision)))


def snapshot(batch: Batch, session: Session) -> dict:
    """What the batch contains at submission: items and members, verification waivers, documents and hashes."""
    from core.proposals import proposal_dicts

    props = proposal_dicts(items(batch, session, ("diusulkan",)), session)
    docs = session.exec(select(Document).where(Document.musyawarah_id == batch.musyawarah_id,
                                               Document.status == "final"))
    waivers = {p.id: p.verification_waiver for p in items(batch, session, ("diusulkan",))}
    return {
        "revision": batch.revision,
        "items": {p["uuid"]: {"no_kk": p["no_kk"], "nama_kepala": p["nama_kepala"], "jenis": p["jenis"],
                              "alasan_nonaktif": p["alasan_nonaktif"], "programs": p["programs"],
                              "alamat": p["alamat"], "rt": p["rt"], "rw": p["rw"],
                              "pengecualian_verifikasi": waivers.get(p["id"], ""),
                              "anggota": sorted(f"{m['nik']} {m['nama']} {m['hubungan']}" for m in p["anggota"])}
                  for p in props},
        "documents": {d.doc_type: {"nomor": d.nomor, "sha256": d.sha256, "pindaian": d.scan_sha256} for d in docs},
    }


def diff(batch_id: int, old: int, new: int, *, actor: Actor, session: Session) -> list[dict]:
    """What changed between two submitted revisions: items added, removed, and fields changed; documents."""
    require_bulk(actor, get_batch(batch_id, actor=actor, session=session).kelurahan_kode)
    rows = {r.revision: json.loads(r.snapshot) for r in session.exec(
        select(BatchRevision).where(BatchRevision.batch_id == batch_id, BatchRevision.revision.in_((old, new))))}
    if old not in rows or new not in rows:
        raise NotFound("Revisi itu belum pernah diajukan.", code="unknown_revision")
    a, b = rows[old], rows[new]
    out = []
    for uid in sorted(set(a["items"]) | set(b["items"]), key=lambda u: (b["items"].get(u) or a["items"][u])["no_kk"]):
        before, after = a["items"].get(uid), b["items"].get(uid)
        label = (after or before)["nama_kepala"] + " (KK " + (after or before)["no_kk"] + ")"
        if before is None:
            out.append({"bagian": "usulan", "apa": label, "perubahan": "ditambahkan"})
        elif after is None:
            out.append({"bagian": "usulan", "apa": label, "perubahan": "tidak lagi diajukan"})
        else:
            for field in sorted(set(before) | set(after)):
                if before.get(field) != after.get(field):
                    out.append({"bagian": "usulan", "apa": label, "perubahan":
                                f"{field}: {_short(before.get(field))} → {_short(after.get(field))}"})
    for doc_type in sorted(set(a["documents"]) | set(b["documents"])):
        x, y = a["documents"].get(doc_type), b["documents"].get(doc_type)
        if x != y:
            out.append({"bagian": "dokumen", "apa": documents.LABELS.get(doc_type, doc_type),
                        "perubahan": f"{(x or {}).get('nomor', '–')} → {(y or {}).get('nomor', '–')}"})
    return out


def _short(value) -> str:
    text = ", ".join(value) if isinstance(value, list) else str(value if value is not None else "–")
    return text if len(text) <= 120 else text[:117] + "…"


# What a reviewer's home counts: the batches in the state that waits for that role.
REVIEWER_WAITING = {
    Role.CAMAT: ("diajukan", "pages/tinjau_pengajuan.py", "{n} pengajuan kelurahan menunggu tinjauan Anda."),
    Role.WALIKOTA: ("diteruskan", "pages/pengesahan.py", "{n} pengajuan menunggu pengesahan."),
    Role.DINSOS: ("disahkan", "pages/hasil_pengesahan.py",
                  "{n} pengajuan sudah disahkan dan siap diunduh untuk SIKS-NG."),
}


def inbox(*, actor: Actor, session: Session) -> list[dict]:
    """What waits for this user: batches to review, returns with their reasons, the cut-off drawing near."""
    role = Role(actor.role)
    notes: list[dict] = []
    if role in (Role.LURAH, Role.OPERATOR):
        for b in session.exec(select(Batch).where(Batch.kelurahan_kode == actor.wilayah_kode)
                               .order_by(Batch.periode.desc())):
            if b.state == "dikembalikan":
                last = session.exec(select(BatchEvent).where(BatchEvent.batch_id == b.id)
                                    .order_by(BatchEvent.id.desc())).first()
                notes.append({"tingkat": "error", "halaman": "pages/pengajuan.py",
                              "pesan": f"Pengajuan {b.periode} dikembalikan Camat: {last.reason if last else ''}"})
            elif b.state == "draft":
                cut = cutoff_date(b.periode, wilayah.kota_code(b.kelurahan_kode), session)
                days = (cut - utcnow().astimezone(WIB).date()).days
                if 0 <= days <= 5:
                    notes.append({"tingkat": "warning", "halaman": "pages/pengajuan.py",
                                  "pesan": f"Batas pengajuan periode {b.periode} tinggal {days} hari "
                                           f"({cut.strftime('%d-%m-%Y')})."})
            elif b.state == "diajukan":
                notes.append({"tingkat": "info", "halaman": "pages/pengajuan.py",
                              "pesan": f"Pengajuan {b.periode} menunggu tinjauan Camat."})
        returned = session.exec(select(Proposal).where(Proposal.kelurahan_kode == actor.wilayah_kode,
                                                       Proposal.status.in_(("dikembalikan", "ditolak")),
                                                       Proposal.updated_at > utcnow() - timedelta(days=60))).all()
        for p in returned[:20]:
            who = "Walikota/Bupati" if p.status_level == "walikota" else "Camat"
            notes.append({"tingkat": "warning", "halaman": "pages/pengajuan.py",
                          "pesan": f"Usulan keluarga {p.nama_kepala} (KK {mask_nik(p.no_kk)}) "
                                   f"{p.status} oleh {who}: {p.status_reason}"})
    elif role in REVIEWER_WAITING:
        state, page, text = REVIEWER_WAITING[role]
        n = session.exec(select(sa.func.count(Batch.id)).where(scope_filter(Batch.kelurahan_kode, actor.wilayah_kode),
                                                               Batch.state == state)).one()
        if n:
            notes.append({"tingkat": "info", "halaman": page, "pesan": text.format(n=n)})
    return notes

