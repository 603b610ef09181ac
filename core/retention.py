"""Retention under UU PDP: originals of photos and signed scans are kept for a period after the decision on the
batch they belong to, then purged; what people look at (EXIF-free display copies), the metadata (EXIF facts,
location, hashes) and the final documents stay.

Which originals: a visit photo's private original (``VisitPhoto.original_id``; its display copy and thumbnail
stay), a meeting photo's original (``MeetingPhoto.file_id``; the EXIF-free copy in ``thumbnail_id`` stays), and
the signed scan of a document (``Document.scan_file_id``: the scan is itself the original; the final PDF Muskel
made stays). A purged original keeps its ``StoredFile`` row (hash, size, name) with ``purged_at`` set; only the
bytes leave the content-addressed store.

When the clock starts (``MUSKEL_RETENTION_YEARS`` whole years, default 5; a decision on 29 February is due on
28 February, on the WIB calendar):

- a batch's clock starts at its final decision: the Walikota's ratification (``sahkan``) or the rejection of the
  whole batch (``tolak``). Items rejected or returned inside a ratification are decided at that moment too, so
  they share the batch's clock. A batch not in ``disahkan`` / ``ditolak`` (including one imported from a package,
  which starts again as a draft here) has no clock: nothing of it is due;
- meeting photos and the scans of the kelurahan's documents (Berita Acara, SPTJM, BAST, also superseded ones)
  follow the batch of their musyawarah;
- the scan of a BAST Camat → Walikota or of a pengesahan follows every batch it lists (``covers``): due when all
  of them are decided, counted from the latest decision. Scans of other documents (the quarterly report: counts
  only) are not managed here;
- a visit photo is evidence for every proposal of that family (same kelurahan and No KK), not only the one it was
  assigned for: a later proposal of the family counts the same visit as its verification. So it is due only
  when every proposal of the family sits in a decided batch, counted from the latest decision; a returned or
  deferred family proposed again restarts the wait. A visit with no proposal of its family is never due.

Purging is one transaction: the rows are marked and the audit log gets one entry per batch (or per multi-batch
document) listing every original's SHA-256, plus one entry for the run. The bytes are deleted only after that
transaction committed (files deleted before a failed commit would be lost evidence), and only when no row that
is not purged still points to the same content (the same photo used elsewhere, a display copy or a final
document with identical bytes). The check is repeated on a fresh connection right before each delete; bytes left
behind by an interrupted run are removed by the next run. Only the administrator (province) purges; an auditor
may read what is due in their wilayah.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, select

from core import audit, filestore
from core.access import Action, Actor, Role, in_scope, require
from core.config import load_settings
from core.errors import AccessDenied, NotFound
from core.models import (Assignment, Batch, BatchEvent, Document, MeetingPhoto, Proposal, StoredFile, Visit,
                         VisitPhoto, Wilayah)
from core.timefmt import WIB, tanggal, utcnow

FINAL_STATES = ("disahkan", "ditolak")
DECIDING_ACTIONS = ("sahkan", "tolak")
MULTI_BATCH_DOCS = ("bast_kecamatan", "pengesahan")
KIND_LABELS = {"visit_photo": "Foto kunjungan (asli)", "meeting_photo": "Foto musyawarah (asli)",
               "scan": "Pindaian bertanda tangan"}
_CHUNK = 900  # bound parameters per IN (...) list, well inside SQLite's limit

log = logging.getLogger(__name__)


class OriginalPurged(NotFound):
    """The original was removed at the end of its retention period; the message says when and why."""

    code = "original_purged"


@dataclass(frozen=True)
class DueOriginal:
    kind: str  # visit_photo | meeting_photo | scan
    object_id: str  # the visit photo's or document's uuid, the meeting photo's id
    stored_file_id: int
    sha256: str
    size: int
    group_type: str  # batch | document
    group_id: int
    group_uuid: str
    group_label: str  # "Kayu Manis 2026-11" or "Pengesahan Nomor …"
    wilayah_kode: str  # the kelurahan (or the issuing office of a multi-batch document)
    wilayah_nama: str
    periode: str
    decision: str  # disahkan | ditolak
    decided_at: datetime
    due_at: datetime


# ---------------------------------------------------------------- the clock


def add_years(moment: datetime, years: int) -> datetime:
    """``moment`` plus whole years on the WIB calendar; 29 February becomes 28 February in a common year."""
    local = moment.astimezone(WIB)
    try:
        shifted = local.replace(year=local.year + years)
    except ValueError:
        shifted = local.replace(year=local.year + years, day=28)
    return shifted.astimezone(moment.tzinfo)


def retention_years() -> int:
    return load_settings().retention_years


def _chunks(values) -> list[list]:
    values = list(values)
    return [values[i:i + _CHUNK] for i in range(0, len(values), _CHUNK)]


@dataclass(frozen=True)
class _Decided:
    batch: Batch
    decision: str
    at: datetime


def _decided_batches(session: Session) -> dict[int, _Decided]:
    """Batches in a final state with the moment of their final decision (the sahkan / tolak event)."""
    batches = {b.id: b for b in session.exec(select(Batch).where(Batch.state.in_(FINAL_STATES)))}
    moments: dict[int, datetime] = {}
    for ids in _chunks(batches):
        for batch_id, at in session.exec(select(BatchEvent.batch_id, BatchEvent.at).where(
                BatchEvent.batch_id.in_(ids), BatchEvent.action.in_(DECIDING_ACTIONS))):
            moments[batch_id] = max(at, moments.get(batch_id, at))
    return {bid: _Decided(b, b.state, moments.get(bid, b.state_changed_at)) for bid, b in batches.items()}


def _candidates(session: Session, years: int) -> list[DueOriginal]:
    """Every original not yet purged whose clock has started, with the moment it falls due."""
    decided = _decided_batches(session)
    if not decided:
        return []
    by_meeting = {d.batch.musyawarah_id: d for d in decided.values()}
    names = dict(session.exec(select(Wilayah.kode, Wilayah.nama)).all())
    out: list[DueOriginal] = []

    def add(kind: str, object_id, stored: StoredFile, d: _Decided) -> None:
        b = d.batch
        out.append(DueOriginal(kind, str(object_id), stored.id, stored.sha256, stored.size, "batch", b.id, b.uuid,
                               f"{names.get(b.kelurahan_kode, b.kelurahan_kode)} {b.periode}", b.kelurahan_kode,
                               names.get(b.kelurahan_kode, b.kelurahan_kode), b.periode, d.decision, d.at,
                               add_years(d.at, years)))

    for photo, stored in session.exec(
            select(MeetingPhoto, StoredFile).join(StoredFile, StoredFile.id == MeetingPhoto.file_id)
            .where(StoredFile.purged_at.is_(None)).order_by(MeetingPhoto.id)):
        if photo.musyawarah_id in by_meeting:
            add("meeting_photo", photo.id, stored, by_meeting[photo.musyawarah_id])

    for doc, stored in session.exec(
            select(Document, StoredFile).join(StoredFile, StoredFile.id == Document.scan_file_id)
            .where(StoredFile.purged_at.is_(None)).order_by(Document.id)):
        if doc.musyawarah_id is not None:
            if doc.musyawarah_id in by_meeting:
                add("scan", doc.uuid, stored, by_meeting[doc.musyawarah_id])
        elif doc.doc_type in MULTI_BATCH_DOCS:
            listed = [decided.get(bid) for bid in json.loads(doc.covers)]
            if listed and all(listed):
                last = max(listed, key=lambda d: d.at)
                out.append(DueOriginal("scan", doc.uuid, stored.id, stored.sha256, stored.size, "document", doc.id,
                                       doc.uuid, f"{doc.doc_type.replace('_', ' ').title()} Nomor {doc.nomor}",
                                       doc.wilayah_kode, names.get(doc.wilayah_kode, doc.wilayah_kode), doc.periode,
                                       last.decision, last.at, add_years(last.at, years)))

    photos = session.exec(
        select(VisitPhoto, StoredFile, Assignment.kelurahan_kode, Assignment.no_kk, Assignment.proposal_id)
        .join(StoredFile, StoredFile.id == VisitPhoto.original_id).join(Visit, Visit.id == VisitPhoto.visit_id)
        .join(Assignment, Assignment.id == Visit.assignment_id)
        .where(StoredFile.purged_at.is_(None)).order_by(VisitPhoto.id)).all()
    if photos:
        kelurahan = sorted({kel for _, _, kel, _, _ in photos})
        family_meetings: dict[tuple[str, str], set[int]] = {}
        meeting_of: dict[int, int] = {}
        for kels in _chunks(kelurahan):
            for pid, kel, no_kk, mid in session.exec(select(Proposal.id, Proposal.kelurahan_kode, Proposal.no_kk,
                                                            Proposal.musyawarah_id)
                                                     .where(Proposal.kelurahan_kode.in_(kels))):
                family_meetings.setdefault((kel, no_kk), set()).add(mid)
                meeting_of[pid] = mid
        for photo, stored, kel, no_kk, proposal_id in photos:
            meetings_ = set(family_meetings.get((kel, no_kk), set()))
            if proposal_id in meeting_of:
                meetings_.add(meeting_of[proposal_id])
            if not meetings_ or any(m not in by_meeting for m in meetings_):
                continue  # no proposal, or one of the family's proposals is still on its way: no clock yet
            add("visit_photo", photo.uuid, stored, max((by_meeting[m] for m in meetings_), key=lambda d: d.at))
    return out


def _due(session: Session, now: datetime, years: int) -> list[DueOriginal]:
    return sorted((c for c in _candidates(session, years) if c.due_at <= now),
                  key=lambda c: (c.due_at, c.group_label, c.kind, c.object_id))


# ---------------------------------------------------------------- who may see and purge


def _require_view(actor: Actor) -> None:
    if Role(actor.role) == Role.ADMIN:
        return
    require(actor, Action.AUDIT_VIEW, actor.wilayah_kode)


def _require_purge(actor: Actor) -> None:
    if Role(actor.role) != Role.ADMIN or actor.wilayah_kode != "31":
        raise AccessDenied("Penghapusan berkas asli karena masa retensi hanya dilakukan oleh administrator "
                           "provinsi.")


# ---------------------------------------------------------------- services


def due(*, actor: Actor, session: Session, now: datetime | None = None) -> list[dict]:
    """The originals due for purging in the actor's wilayah (the admin: all of them). No personal data."""
    _require_view(actor)
    now = now or utcnow()
    rows = _due(session, now, retention_years())
    if Role(actor.role) != Role.ADMIN:
        rows = [r for r in rows if in_scope(actor.wilayah_kode, r.wilayah_kode)]
    return [asdict(r) for r in rows]


def by_group(rows: list[dict]) -> list[dict]:
    """Due originals grouped per batch (or multi-batch document), oldest due first: what the screen lists."""
    groups: dict[tuple[str, int], dict] = {}
    for r in rows:
        g = groups.setdefault((r["group_type"], r["group_id"]), {
            "group_label": r["group_label"], "wilayah_kode": r["wilayah_kode"], "wilayah_nama": r["wilayah_nama"],
            "periode": r["periode"], "decision": r["decision"], "decided_at": r["decided_at"],
            "due_at": r["due_at"], "count": 0, "bytes": 0, "kinds": {}})
        g["count"] += 1
        g["bytes"] += r["size"]
        g["kinds"][r["kind"]] = g["kinds"].get(r["kind"], 0) + 1
        g["due_at"] = min(g["due_at"], r["due_at"])
    return sorted(groups.values(), key=lambda g: (g["due_at"], g["group_label"]))


def purge(*, actor: Actor, session: Session, now: datetime | None = None, dry_run: bool = False) -> dict:
    """Purge every due original in the caller's transaction; the bytes leave the store after it commits.

    Returns ``{"due", "purged", "files", "bytes", "kept_shared", "dry_run", "years"}``: ``files`` are the
    contents (SHA-256) removed from the store (on a dry run: that would be removed), ``kept_shared`` the due
    originals whose bytes stay because a row that is not purged still needs the same content."""
    _require_purge(actor)
    now = now or utcnow()
    years = retention_years()
    rows = _due(session, now, years)
    due_ids = {r.stored_file_id for r in rows}
    sizes = {r.sha256: r.size for r in rows}
    still_needed = _live_shas(session, sizes, exclude_ids=due_ids)
    leftovers = _leftovers(session, exclude=set(sizes))
    to_delete = sorted((set(sizes) - still_needed) | set(leftovers))
    result = {"due": len(rows), "purged": 0 if dry_run else len(rows), "files": to_delete,
              "bytes": sum(sizes.get(sha) or leftovers.get(sha, 0) for sha in to_delete),
              "kept_shared": sorted(set(sizes) & still_needed), "dry_run": dry_run, "years": years}
    if dry_run:
        return result
    table = StoredFile.__table__
    for ids in _chunks(sorted(due_ids)):
        session.execute(table.update().where(table.c.id.in_(ids)).values(purged_at=now, purged_after_years=years))
    groups: dict[tuple[str, int], list[DueOriginal]] = {}
    for r in rows:
        groups.setdefault((r.group_type, r.group_id), []).append(r)
    for (group_type, _), items in groups.items():
        first = items[0]
        audit.record(session, actor, "retention.purged", object_type=group_type, object_id=first.group_uuid,
                     wilayah_kode=first.wilayah_kode,
                     after={"masa_retensi_tahun": years, "keputusan": first.decision,
                            "diputuskan_pada": first.decided_at.isoformat(),
                            "asli": [{"jenis": r.kind, "objek": r.object_id, "sha256": r.sha256, "byte": r.size,
                                      "berkas_dihapus": r.sha256 in to_delete} for r in items]})
    audit.record(session, actor, "retention.run", object_type="installation", object_id=now.isoformat(),
                 wilayah_kode=None,
                 after={"masa_retensi_tahun": years, "jumlah_asli": len(rows), "berkas_dihapus": to_delete,
                        "byte": result["bytes"], "tetap_dipakai_baris_lain": result["kept_shared"],
                        "sisa_penghapusan_sebelumnya": sorted(leftovers)})
    session.flush()
    _delete_after_commit(session, filestore.default_store(), to_delete)
    return result


def _live_shas(session: Session, shas, *, exclude_ids: set[int] = frozenset()) -> set[str]:
    """Contents some row that is not purged (and not among ``exclude_ids``) still points to."""
    live: set[str] = set()
    for part in _chunks(sorted(shas)):
        stmt = select(StoredFile.id, StoredFile.sha256).where(StoredFile.sha256.in_(part),
                                                              StoredFile.purged_at.is_(None))
        live |= {sha for fid, sha in session.exec(stmt) if fid not in exclude_ids}
    return live


def _leftovers(session: Session, *, exclude: set[str]) -> dict[str, int]:
    """Bytes of earlier purges still in the store (a run interrupted after its commit), no longer needed."""
    purged = dict(session.exec(select(StoredFile.sha256, StoredFile.size).where(StoredFile.purged_at.is_not(None))
                               .distinct()).all())
    candidates = set(purged) - exclude
    if not candidates:
        return {}
    needed = _live_shas(session, candidates)
    store = filestore.default_store()
    return {sha: purged[sha] for sha in sorted(candidates - needed) if store.exists(sha)}


def _delete_after_commit(session: Session, store, shas: list[str]) -> None:
    """The reverse of ``core.db.session_scope``'s clean-up of new files: delete only once the commit succeeded,
    and only what a fresh look at the database still shows as needed by no row."""
    if not shas:
        return
    engine = session.get_bind()
    pending = {"shas": list(shas)}

    def after_commit(_session) -> None:
        shas_, pending["shas"] = pending["shas"], []
        if not shas_:
            return
        try:
            with engine.connect() as conn:
                live = set()
                for part in _chunks(shas_):
                    live |= set(conn.execute(sa.select(StoredFile.__table__.c.sha256).where(
                        StoredFile.__table__.c.sha256.in_(part), StoredFile.__table__.c.purged_at.is_(None)))
                        .scalars())
            for sha in shas_:
                if sha not in live:
                    store.delete(sha)
        except Exception:  # noqa: BLE001 - the purge is committed; the next run removes what is left
            log.exception("retention: files not deleted after commit; the next run retries")

    def after_rollback(_session) -> None:
        pending["shas"] = []

    event.listen(session, "after_commit", after_commit, once=True)
    event.listen(session, "after_rollback", after_rollback, once=True)


# ---------------------------------------------------------------- readers of originals


def purged_message(stored: StoredFile) -> str:
    years = stored.purged_after_years or retention_years()
    return (f"Berkas asli telah dihapus pada {tanggal(stored.purged_at)} sesuai masa retensi ({years} tahun "
            "setelah pengesahan).")


def ensure_present(stored: StoredFile) -> None:
    """Every reader of an original calls this first: a purged one is answered with the message, not a failure."""
    if stored is not None and stored.purged_at is not None:
        raise OriginalPurged(purged_message(stored))


def scan_notice(document: Document, session: Session) -> str | None:
    """The message shown instead of the download button when a document's signed scan was purged."""
    if document is None or document.scan_file_id is None:
        return None
    stored = session.get(StoredFile, document.scan_file_id)
    return purged_message(stored) if stored is not None and stored.purged_at is not None else None
