"""The append-only audit trail: every change, login, logout and failed login, chained by SHA-256.

Each entry's hash covers its own fields and the previous entry's hash, so an edited, inserted or deleted
entry breaks the chain at that point. Appends lock the single ``AuditHead`` row, which serialises writers on
PostgreSQL (row lock) and on SQLite (the write lock), so concurrent writers never fork the chain. An entry is
written in the same transaction as the change it records: both land, or neither does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlmodel import Session, select

from core.access import Action, Actor, require, scope_filter
from core.errors import InvalidInput
from core.models import AuditEntry, AuditHead
from core.timefmt import as_utc, utcnow

GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _timestamp(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(entry: AuditEntry) -> str:
    """The hash over everything that makes an entry what it is, including the previous entry's hash."""
    material = [
        entry.uuid, entry.seq, _timestamp(entry.created_at), entry.actor_username, entry.actor_role,
        entry.channel, entry.action, entry.object_type, entry.object_id, entry.wilayah_kode,
        entry.before, entry.after, entry.prev_hash,
    ]
    return hashlib.sha256(json.dumps(material, ensure_ascii=False).encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    object_type: str,
    object_id: Any,
    wilayah_kode: str | None = None,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (it commits or rolls back with the change itself)."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    entry = AuditEntry(
        seq=head.last_seq + 1,
        created_at=utcnow(),
        actor_username=actor.username,
        actor_role=str(actor.role),
        channel=actor.channel,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        wilayah_kode=wilayah_kode,
        before=canonical_json(before),
        after=canonical_json(after),
        prev_hash=head.last_hash,
        hash="",
    )
    entry.hash = entry_hash(entry)
    head.last_seq = entry.seq
    head.last_hash = entry.hash
    session.add(entry)
    session.add(head)
    session.flush()
    session.info["audit_head"] = (entry.seq, entry.hash)  # written outside the database after commit
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_broken_seq: int | None = None
    first_broken_id: int | None = None
    # stable code: hash_mismatch | prev_hash_mismatch | sequence_gap | head_mismatch | checkpoint_ahead |
    # checkpoint_mismatch | document_anchor_mismatch
    problem: str | None = None
    message: str = ""


def verify_chain(session: Session, *, batch_size: int = 5000) -> ChainReport:
    """Walk the whole chain in order and report the first entry that does not fit."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    last_id = 0
    while True:
        rows = session.exec(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch_size)
        ).all()
        if not rows:
            break
        for entry in rows:
            last_id = entry.id
            if entry.seq != expected_seq:
                return _broken(entry, count, "sequence_gap",
                               f"Entri #{entry.seq} (id {entry.id}): urutan terputus, seharusnya #{expected_seq} "
                               "(ada entri yang dihapus atau disisipkan).")
            if entry.prev_hash != expected_prev:
                return _broken(entry, count, "prev_hash_mismatch",
                               f"Entri #{entry.seq} (id {entry.id}): tidak tersambung dengan entri sebelumnya "
                               "(ada entri yang dihapus, disisipkan atau diubah).")
            if entry_hash(entry) != entry.hash:
                return _broken(entry, count, "hash_mismatch",
                               f"Entri #{entry.seq} (id {entry.id}): isinya telah diubah setelah dicatat.")
            expected_prev = entry.hash
            expected_seq += 1
            count += 1
    head = session.get(AuditHead, 1)
    if head is None or head.last_seq != count or head.last_hash != expected_prev:
        return ChainReport(False, count, count + 1, None, "head_mismatch",
                           f"Entri terakhir yang tercatat (#{head.last_seq if head else '?'}) tidak ada lagi: "
                           "entri di ujung log telah dihapus.")
    outside = _check_anchors(session, count)
    if outside is not None:
        return outside
    return ChainReport(True, count, message=f"Rantai log audit utuh: {count} entri diperiksa.")


def _hash_at(session: Session, seq: int) -> str | None:
    return session.exec(select(AuditEntry.hash).where(AuditEntry.seq == seq)).first()


def _check_anchors(session: Session, count: int) -> ChainReport | None:
    """Compare the chain with what was recorded elsewhere: the checkpoint file and the document registry."""
    from core import audit_checkpoint
    from core.models import Document

    checkpoint = audit_checkpoint.read(str(session.get_bind().url))
    if checkpoint:
        if checkpoint["seq"] > count:
            return ChainReport(False, count, count + 1, None, "checkpoint_ahead",
                               f"Titik periksa di luar basis data mencatat {checkpoint['seq']} entri, tetapi log "
                               f"hanya berisi {count}: entri di ujung log telah dihapus.")
        if _hash_at(session, checkpoint["seq"]) != checkpoint["hash"]:
            return ChainReport(False, count, checkpoint["seq"], None, "checkpoint_mismatch",
                               f"Entri #{checkpoint['seq']} tidak sama dengan titik periksa di luar basis data: "
                               "rantai log audit telah disusun ulang.")
    for nomor, seq, anchored in session.exec(select(Document.nomor, Document.audit_seq, Document.audit_hash)
                                             .where(Document.audit_seq > 0)):
        if seq > count or _hash_at(session, seq) != anchored:
            return ChainReport(False, count, seq, None, "document_anchor_mismatch",
                               f"Dokumen Nomor {nomor} mencatat entri log #{seq} yang tidak lagi sama: log audit "
                               "telah diubah sesudah dokumen itu difinalkan.")
    return None


def _broken(entry: AuditEntry, count: int, problem: str, message: str) -> ChainReport:
    return ChainReport(False, count, entry.seq, entry.id, problem, message)


@dataclass(frozen=True)
class AuditQuery:
    action: str | None = None
    username: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 500


def list_entries(query: AuditQuery, *, actor: Actor, session: Session) -> list[dict]:
    """Entries the actor may read (their wilayah and beneath; the province sees all), newest first."""
    require(actor, Action.AUDIT_VIEW, actor.wilayah_kode)
    if query.limit < 1 or query.limit > 10_000:
        raise InvalidInput("Batas jumlah entri harus antara 1 dan 10.000.", field="limit")
    stmt = select(AuditEntry)
    if actor.wilayah_kode != "31":  # province-wide auditors also see entries with no wilayah (system events)
        stmt = stmt.where(scope_filter(AuditEntry.wilayah_kode, actor.wilayah_kode))
    if query.action:
        stmt = stmt.where(AuditEntry.action == query.action)
    if query.username:
        stmt = stmt.where(AuditEntry.actor_username == query.username)
    if query.since:
        stmt = stmt.where(AuditEntry.created_at >= query.since)
    if query.until:
        stmt = stmt.where(AuditEntry.created_at < query.until)
    rows = session.exec(stmt.order_by(AuditEntry.seq.desc()).limit(query.limit)).all()
    return [entry_as_dict(e) for e in rows]


def own_recent_activity(*, actor: Actor, session: Session, limit: int = 10) -> list[dict]:
    """What this user did lately (everyone may see their own trail)."""
    rows = session.exec(
        select(AuditEntry).where(AuditEntry.actor_username == actor.username)
        .order_by(AuditEntry.seq.desc()).limit(limit)
    ).all()
    return [entry_as_dict(e) for e in rows]


def entry_as_dict(e: AuditEntry) -> dict:
    return {
        "seq": e.seq, "uuid": e.uuid, "created_at": _timestamp(e.created_at), "actor": e.actor_username,
        "role": e.actor_role, "channel": e.channel, "action": e.action, "object_type": e.object_type,
        "object_id": e.object_id, "wilayah": e.wilayah_kode,
        "before": json.loads(e.before) if e.before else None,
        "after": json.loads(e.after) if e.after else None, "hash": e.hash,
    }


def diff(before: dict, after: dict, fields: Iterable[str]) -> tuple[dict, dict]:
    """Only the fields that changed, for a readable before → after."""
    changed = [f for f in fields if before.get(f) != after.get(f)]
    return {f: before.get(f) for f in changed}, {f: after.get(f) for f in changed}
