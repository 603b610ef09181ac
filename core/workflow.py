"""The road of a batch (pengajuan) from the Lurah through the Camat to the Walikota/Bupati, as one table.

Every move goes through ``act``: it locks the batch, looks the move up in ``TRANSITIONS`` (a move that is not in
the table is refused with a named error), checks the actor's role and wilayah and the move's preconditions, then
applies it to the batch and its items in one transaction, with an event and an audit entry. Two people acting on
the same batch at once: the second finds the state changed and gets a clear message; nothing is overwritten.

Items (the agreed proposals) have states too: ``diusulkan`` → ``diteruskan`` → ``disahkan``, or ``dikembalikan`` /
``ditolak`` with a reason at the camat or walikota level. Returned and rejected items leave the batch and wait in
the kelurahan's next pre-list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from core import audit, documents, verification, wilayah
from core.access import Action, Actor, Role, require
from core.errors import AccessDenied, InvalidInput, NotFound, StaleEdit
from core.faultpoint import faultpoint
from core.models import Assignment, Batch, BatchEvent, BatchRevision, Document, Flag, KotaSetting, Musyawarah, \
    Proposal, Visit
from core.timefmt import WIB, utcnow

STATES = {"draft": "Draf di kelurahan", "diajukan": "Diajukan ke Camat", "diteruskan": "Diteruskan ke Walikota/Bupati",
          "dikembalikan": "Dikembalikan ke kelurahan", "disahkan": "Disahkan", "ditolak": "Ditolak"}
ITEM_STATES = {"diusulkan": "Diusulkan", "diteruskan": "Diteruskan", "disahkan": "Disahkan",
               "dikembalikan": "Dikembalikan", "ditolak": "Ditolak"}
ACTIONS = {"ajukan": "Ajukan ke Camat", "tarik": "Tarik kembali", "teruskan": "Teruskan ke Walikota/Bupati",
           "kembalikan": "Kembalikan ke kelurahan", "revisi": "Buka revisi", "sahkan": "Sahkan",
           "kembalikan_ke_camat": "Kembalikan ke Camat", "tolak": "Tolak"}


@dataclass(frozen=True)
class Move:
    to: str
    roles: frozenset[Role]
    permission: Action
    requires: str  # what must hold, as shown to users and tested


TRANSITIONS: dict[tuple[str, str], Move] = {
    ("draft", "ajukan"): Move("diajukan", frozenset({Role.LURAH}), Action.BATCH_SUBMIT,
                              "musyawarah ditutup (atau pernyataan tidak diadakan); verifikasi wajib selesai atau "
                              "dikecualikan dengan alasan; BA, SPTJM dan BAST final dengan pindaian; tidak ada "
                              "temuan penghalang"),
    ("diajukan", "tarik"): Move("draft", frozenset({Role.LURAH}), Action.BATCH_SUBMIT, "Camat belum bertindak"),
    ("diajukan", "teruskan"): Move("diteruskan", frozenset({Role.CAMAT}), Action.BATCH_REVIEW,
                                   "setiap usulan diteruskan atau dikembalikan dengan alasan"),
    ("diajukan", "kembalikan"): Move("dikembalikan", frozenset({Role.CAMAT}), Action.BATCH_REVIEW, "alasan"),
    ("dikembalikan", "revisi"): Move("draft", frozenset({Role.LURAH, Role.OPERATOR}), Action.MEETING_RECORD,
                                     "membuka revisi baru"),
    ("diteruskan", "sahkan"): Move("disahkan", frozenset({Role.WALIKOTA}), Action.BATCH_RATIFY,
                                   "setiap usulan disahkan atau dikembalikan/ditolak dengan alasan"),
    ("diteruskan", "kembalikan_ke_camat"): Move("diajukan", frozenset({Role.WALIKOTA}), Action.BATCH_RATIFY,
                                                "alasan"),
    ("diteruskan", "tolak"): Move("ditolak", frozenset({Role.WALIKOTA}), Action.BATCH_RATIFY, "alasan; final"),
}
NEEDS_REASON = {"kembalikan", "kembalikan_ke_camat", "tolak"}
EVENT_LABELS = {**ACTIONS, "impor": "Diimpor dari paket pengajuan"}  # events also record imports
ITEM_ACTIONS = {"teruskan": {"kembalikan"}, "sahkan": {"kembalikan", "tolak"}}
DEFAULT_CUTOFF_DAY = 25


class TransitionRefused(InvalidInput):
    code = "transition_refused"


# ---------------------------------------------------------------- batches

def ensure_batch(meeting: Musyawarah, session: Session) -> Batch:
    """The batch of a closed musyawarah (created in ``draft`` the first time it is needed)."""
    batch = session.exec(select(Batch).where(Batch.musyawarah_id == meeting.id)).first()
    if batch is None:
        batch = Batch(kelurahan_kode=meeting.kelurahan_kode, periode=meeting.periode, musyawarah_id=meeting.id)
        session.add(batch)
        session.flush()
    return batch


def batch_id_for_meeting(meeting_id: int, *, actor: Actor, session: Session) -> int:
    """The batch of a closed musyawarah of the actor's kelurahan (opened in ``draft`` on first use)."""
    from core.meetings import get_meeting

    meeting = get_meeting(meeting_id, actor=actor, session=session)
    if meeting.status != "closed":
        raise InvalidInput("Musyawarah belum ditutup: pengajuan dibuat sesudah Lurah menutup musyawarah.",
                           code="meeting_open")
    return ensure_batch(meeting, session).id


def blockers_for(batch_id: int, *, actor: Actor, session: Session) -> list[dict]:
    return submission_blockers(get_batch(batch_id, actor=actor, session=session), session)


def batch_of_meeting(meeting_id: int, session: Session) -> Batch | None:
    return session.exec(select(Batch).where(Batch.musyawarah_id == meeting_id)).first()


def ensure_editable(meeting_id: int, session: Session, what: str = "Data ini") -> None:
    """Refuse changes to anything of a batch that has left the kelurahan (frozen until a return and a revision)."""
    batch = session.exec(select(Batch).where(Batch.musyawarah_id == meeting_id)
                         .with_for_update(read=True)).first()  # a concurrent "ajukan" waits for this change
    if batch is not None and batch.state != "draft":
        raise InvalidInput(f"{what} terkunci: pengajuan periode {batch.periode} berstatus "
                           f"'{STATES[batch.state]}'. Perubahan hanya mungkin sesudah dikembalikan dan dibuka "
                           "revisi.", code="batch_frozen")


def get_batch(batch_id: int, *, actor: Actor, session: Session, lock: bool = False) -> Batch:
    batch = session.get(Batch, batch_id, with_for_update=lock, populate_existing=lock)
    if batch is None:
        raise NotFound("Pengajuan tidak ditemukan.", code="unknown_batch")
    require(actor, Action.FAMILY_VIEW, batch.kelurahan_kode)
    return batch


def items(batch: Batch, session: Session, statuses: tuple[str, ...] | None = None) -> list[Proposal]:
    """The batch's items: the agreed proposals of its musyawarah (optionally only in some item states)."""
    stmt = select(Proposal).where(Proposal.musyawarah_id == batch.musyawarah_id,
                                  Proposal.keputusan == "disepakati", Proposal.status != "dibatalkan")
    if statuses:
        stmt = stmt.where(Proposal.status.in_(statuses))
    return list(session.exec(stmt.order_by(Proposal.urutan)))


def item_ids(batch: Batch, session: Session, statuses: tuple[str, ...]) -> list[int]:
    """The ids of the batch's items in some states (moves touch thousands of items without loading them)."""
    return list(session.exec(select(Proposal.id).where(
        Proposal.musyawarah_id == batch.musyawarah_id, Proposal.keputusan == "disepakati",
        Proposal.status != "dibatalkan", Proposal.status.in_(statuses)).order_by(Proposal.urutan)))


# ---------------------------------------------------------------- cut-off date

def cutoff_day(kota_kode: str, session: Session) -> int:
    row = session.get(KotaSetting, kota_kode)
    return int(json.loads(row.settings).get("batas_pengajuan", DEFAULT_CUTOFF_DAY)) if row else DEFAULT_CUTOFF_DAY


def cutoff_date(periode: str, kota_kode: str, session: Session) -> date:
    year, month = (int(x) for x in periode.split("-"))
    return date(year, month, cutoff_day(kota_kode, session))


def set_cutoff_day(kota_kode: str, day: int, *, expected_version: int, actor: Actor, session: Session) -> None:
    """The kota's monthly cut-off: batches submitted after this day of their period's month are late."""
    require(actor, Action.KOTA_SETTINGS, kota_kode)
    if not 1 <= int(day) <= 28:
        raise InvalidInput("Tanggal batas pengajuan harus antara 1 dan 28 (ada di setiap bulan).",
                           code="cutoff_invalid", field="batas_pengajuan")
    row = session.get(KotaSetting, kota_kode, with_for_update=True, populate_existing=True)
    if (row.version if row else 0) != expected_version:
        raise StaleEdit("Aturan kota ini telah diubah orang lain sejak dibuka. Muat ulang lalu ulangi.")
    settings = json.loads(row.settings) if row else {}
    before = settings.get("batas_pengajuan", DEFAULT_CUTOFF_DAY)
    settings["batas_pengajuan"] = int(day)
    row = row or KotaSetting(kota_kode=kota_kode, settings="{}", version=0)
    row.settings, row.version, row.updated_at = json.dumps(settings), row.version + 1, utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, "kota.cutoff_changed", object_type="kota", object_id=kota_kode,
                 wilayah_kode=kota_kode, before={"batas_pengajuan": before}, after={"batas_pengajuan": int(day)})


# ---------------------------------------------------------------- what blocks a submission

def _verified(props: list[Proposal], session: Session) -> set[int]:
    ids = [p.id for p in props]
    families = [p.family_id for p in props if p.family_id]
    done: set[int] = set()
    if not ids:
        return done
    rows = session.exec(select(Assignment.proposal_id, Assignment.family_id)
                        .join(Visit, Visit.assignment_id == Assignment.id)
                        .where(Visit.status == "selesai",
                               sa.or_(Assignment.proposal_id.in_(ids), Assignment.family_id.in_(families or [0]))))
    by_family = {p.family_id: p.id for p in props if p.family_id}
    for proposal_id, family_id in rows:
        if proposal_id in ids:
            done.add(proposal_id)
        elif family_id in by_family:
            done.add(by_family[family_id])
    return done


def missing_verifications(batch: Batch, session: Session) -> list[Proposal]:
    """Active items the kota's rule sends into the field that have no finished visit and no waiver."""
    from core.proposals import proposal_dicts

    props = items(batch, session, ("diusulkan",))
    rule = verification.rule_for(batch.kelurahan_kode, session=session)
    done = _verified(props, session)
    dicts = {d["id"]: d for d in proposal_dicts(props, session)}
    return [p for p in props if verification.needs_verification(dicts[p.id], rule) and p.id not in done
            and not p.verification_waiver]


def blocking_flags(batch: Batch, session: Session) -> list[Flag]:
    props = items(batch, session, ("diusulkan",))
    ids = [p.id for p in props] or [0]
    families = [p.family_id for p in props if p.family_id] or [0]
    return list(session.exec(select(Flag).where(
        Flag.severity == "blocking", Flag.status == "open",
        sa.or_(Flag.proposal_id.in_(ids), sa.and_(Flag.family_id.in_(families), Flag.source == "register")))))


def submission_blockers(batch: Batch, session: Session) -> list[dict]:
    """What still stands between this batch and ``ajukan``: each with a code and an Indonesian sentence."""
    meeting = session.get(Musyawarah, batch.musyawarah_id)
    out: list[dict] = []
    if meeting.status != "closed":
        out.append({"code": "meeting_open", "pesan": "Musyawarah belum ditutup oleh Lurah."})
    missing = missing_verifications(batch, session)
    if missing:
        total = len([p for p in items(batch, session, ("diusulkan",))])
        out.append({"code": "verification_missing",
                    "pesan": f"{len(missing)} dari {total} keluarga belum diverifikasi di lapangan (atau belum "
                             "dikecualikan Lurah dengan alasan)."})
    subject = documents.subject_of("berita_acara", {"meeting_id": meeting.id})
    needed = ["sptjm", "bast_kelurahan"] if meeting.kind != "held" else ["berita_acara", "sptjm", "bast_kelurahan"]
    for doc_type in needed:
        doc = documents.current(doc_type, subject, session)
        label = documents.LABELS[doc_type]
        if doc is None:
            out.append({"code": f"{doc_type}_missing", "pesan": f"{label} belum difinalkan."})
        elif not doc.scan_sha256:
            out.append({"code": f"{doc_type}_scan_missing", "pesan": f"Pindaian {label} belum diunggah."})
    bast = documents.current("bast_kelurahan", subject, session)
    if bast is not None:
        listed = set(json.loads(bast.covers))
        for doc_type in needed[:-1]:
            doc = documents.current(doc_type, subject, session)
            if doc is not None and doc.id not in listed:
                out.append({"code": "bast_stale", "pesan": "BAST menyebut dokumen yang sudah digantikan: terbitkan "
                                                           "ulang BAST."})
                break
    flags = blocking_flags(batch, session)
    if flags:
        out.append({"code": "blocking_flags", "pesan": f"{len(flags)} temuan penghalang belum diselesaikan."})
    return out


def waive_verification(proposal_id: int, reason: str, *, actor: Actor, session: Session) -> None:
    """The Lurah lets an item go without a field visit, for a stated reason (audited)."""
    item = session.get(Proposal, proposal_id, with_for_update=True, populate_existing=True)
    if item is None:
        raise NotFound("Usulan tidak ditemukan.", code="unknown_proposal")
    require(actor, Action.FLAG_WAIVE, item.kelurahan_kode)
    ensure_editable(item.musyawarah_id, session, "Usulan ini")
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise InvalidInput("Tulis alasan verifikasi lapangan tidak dilakukan (minimal 10 karakter).",
                           code="reason_missing", field="alasan")
    item.verification_waiver, item.version = reason, item.version + 1
    session.add(item)
    session.flush()
    audit.record(session, actor, "proposal.verification_waived", object_type="proposal", object_id=item.uuid,
                 wilayah_kode=item.kelurahan_kode, after={"alasan": reason})


# ---------------------------------------------------------------- moves

def act(batch_id: int, action: str, *, actor: Actor, session: Session, reason: str = "",
        item_actions: dict[int, tuple[str, str]] | None = None, expected_state: str | None = None,
        now: datetime | None = None) -> dict:
    """Make one move of the transition table; ``item_actions`` maps item ids to ("kembalikan"|"tolak", reason).

    ``now`` is for the demo and tests that replay a dated story; people always act at the current time."""
    now = now or utcnow()
    batch = get_batch(batch_id, actor=actor, session=session, lock=True)
    if expected_state is not None and batch.state != expected_state:
        raise StaleEdit(f"Pengajuan ini baru saja berubah menjadi '{STATES[batch.state]}' oleh pengguna lain. "
                        "Muat ulang halaman; tindakan Anda tidak dijalankan.")
    move = TRANSITIONS.get((batch.state, action))
    if move is None:
        raise TransitionRefused(f"Pengajuan berstatus '{STATES[batch.state]}' tidak dapat "
                                f"'{ACTIONS.get(action, action)}'.")
    require(actor, move.permission, batch.kelurahan_kode)
    if Role(actor.role) not in move.roles:
        raise AccessDenied(f"'{ACTIONS[action]}' hanya dapat dilakukan oleh "
                           + " atau ".join(r.value.title() for r in sorted(move.roles)) + ".")
    reason = (reason or "").strip()
    if action in NEEDS_REASON and len(reason) < 5:
        raise InvalidInput("Tulis alasannya (minimal 5 karakter): kelurahan akan membacanya.", code="reason_missing",
                           field="alasan")
    decided = _check_item_actions(batch, action, item_actions or {}, session)
    before = batch.state
    details = _apply(batch, action, decided, reason, actor, session, now)
    batch.state, batch.version, batch.state_changed_at = move.to, batch.version + 1, now
    session.add(batch)
    session.add(BatchEvent(batch_id=batch.id, revision=batch.revision, action=action, from_state=before,
                           to_state=move.to, actor_username=actor.username, actor_role=str(actor.role),
                           reason=reason, details=json.dumps(details, ensure_ascii=False), at=now))
    session.flush()
    audit.record(session, actor, f"batch.{action}", object_type="batch", object_id=batch.uuid,
                 wilayah_kode=batch.kelurahan_kode, before={"status": before},
                 after={"status": move.to, "revisi": batch.revision, "alasan": reason or None, **details})
    faultpoint("workflow.before_commit")  # batch, items, event and audit entry written, not committed (tests/fault)
    return batch_dict(batch, session)


def _check_item_actions(batch: Batch, action: str, item_actions: dict[int, tuple[str, str]],
                        session: Session) -> dict[int, tuple[str, str]]:
    if not item_actions:
        return {}
    allowed = ITEM_ACTIONS.get(action)
    if not allowed:
        raise InvalidInput("Tindakan per usulan hanya pada 'Teruskan' dan 'Sahkan'.", code="item_actions_not_allowed")
    open_state = "diusulkan" if action == "teruskan" else "diteruskan"
    open_ids = set(item_ids(batch, session, (open_state,)))
    clean = {}
    for item_id, (what, why) in item_actions.items():
        if item_id not in open_ids:
            raise InvalidInput(f"Usulan #{item_id} bukan bagian pengajuan ini atau sudah diputuskan.",
                               code="item_not_in_batch")
        if what not in allowed:
            raise InvalidInput(f"Tindakan '{what}' untuk usulan tidak dikenal di sini.", code="item_action_unknown")
        if len((why or "").strip()) < 5:
            raise InvalidInput(f"Usulan #{item_id}: tulis alasan {what} (minimal 5 karakter).",
                               code="item_reason_missing", field=str(item_id))
        clean[int(item_id)] = (what, why.strip())
    if len(clean) == len(open_ids):
        raise InvalidInput("Semua usulan dikembalikan atau ditolak: gunakan 'Kembalikan' atau 'Tolak' untuk seluruh "
                           "pengajuan.", code="all_items_returned")
    return clean


def _set_items(ids: list[int], status: str, session: Session, *, level: str = "", reason: str | None = None) -> None:
    table = Proposal.__table__
    for start in range(0, len(ids), 1000):
        values = {"status": status, "updated_at": utcnow(), "version": table.c.version + 1}
        if level:
            values["status_level"] = level
        if reason is not None:
            values["status_reason"] = reason
        session.connection().execute(table.update().where(table.c.id.in_(ids[start:start + 1000])).values(**values))


def _return_items(decided: dict[int, tuple[str, str]], level: str, session: Session) -> None:
    """One executemany for all returns (row by row through the ORM costs a second per hundred)."""
    if not decided:
        return
    table = Proposal.__table__
    statement = (table.update().where(table.c.id == sa.bindparam("item_id"))
                 .values(status=sa.bindparam("new_status"), status_reason=sa.bindparam("why"), status_level=level,
                         updated_at=utcnow(), version=table.c.version + 1))
    session.connection().execute(statement, [
        {"item_id": item_id, "new_status": "dikembalikan" if what == "kembalikan" else "ditolak", "why": why}
        for item_id, (what, why) in decided.items()])


def _apply(batch: Batch, action: str, decided: dict, reason: str, actor: Actor, session: Session,
           now: datetime) -> dict:
    """The move's effects on items, documents and revisions; returns what the event records."""
    if action == "ajukan":
        blockers = submission_blockers(batch, session)
        if blockers:
            raise TransitionRefused("Belum dapat diajukan: " + " ".join(b["pesan"] for b in blockers),
                                    code="submission_blocked")
        kota = wilayah.kota_code(batch.kelurahan_kode)
        batch.late = now.astimezone(WIB).date() > cutoff_date(batch.periode, kota, session)
        batch.submitted_at = now
        _snapshot(batch, session)
        return {"terlambat": batch.late, "usulan": len(item_ids(batch, session, ("diusulkan",)))}
    if action == "tarik":
        last = session.exec(select(BatchEvent).where(BatchEvent.batch_id == batch.id)
                            .order_by(BatchEvent.id.desc())).first()
        if last is None or last.action != "ajukan":
            raise TransitionRefused("Pengajuan tidak dapat ditarik: Camat atau Walikota sudah menindaklanjutinya.",
                                    code="reviewer_acted")
        return {}
    if action == "teruskan":
        kept = [i for i in item_ids(batch, session, ("diusulkan",)) if i not in decided]
        _set_items(kept, "diteruskan", session)
        _return_items(decided, "camat", session)
        _record_bast_receipt(batch, actor, session, now)
        return {"diteruskan": len(kept), "dikembalikan": len(decided)}
    if action == "kembalikan":
        _record_bast_receipt(batch, actor, session, now)
        return {}
    if action == "revisi":
        batch.revision += 1
        _retire_documents(batch, f"Revisi {batch.revision} dibuka", session)
        return {"revisi_baru": batch.revision}
    if action == "sahkan":
        kept = [i for i in item_ids(batch, session, ("diteruskan",)) if i not in decided]
        _set_items(kept, "disahkan", session)
        _return_items(decided, "walikota", session)
        return {"disahkan": len(kept), "dikembalikan": sum(1 for w, _ in decided.values() if w == "kembalikan"),
                "ditolak": sum(1 for w, _ in decided.values() if w == "tolak")}
    if action == "kembalikan_ke_camat":
        _set_items(item_ids(batch, session, ("diteruskan",)), "diusulkan", session)
        return {}
    if action == "tolak":
        ids = item_ids(batch, session, ("diteruskan",))
        _set_items(ids, "ditolak", session, level="walikota", reason=reason)
        return {"ditolak": len(ids)}
    raise TransitionRefused(f"Tindakan '{action}' tidak dikenal.")


def _record_bast_receipt(batch: Batch, actor: Actor, session: Session, now: datetime) -> None:
    subject = documents.subject_of("bast_kelurahan", {"meeting_id": batch.musyawarah_id})
    bast = documents.current("bast_kelurahan", subject, session)
    if bast is not None and not bast.received_at:
        bast.received_by, bast.received_at, bast.version = actor.username, now, bast.version + 1
        session.add(bast)


def _retire_documents(batch: Batch, reason: str, session: Session) -> None:
    """A revision replaces the kelurahan's documents: the old finals read 'digantikan' until their successors
    are finalised (which then name them)."""
    session.execute(sa.update(Document).where(Document.musyawarah_id == batch.musyawarah_id,
                                              Document.doc_type.in_(documents.KELURAHAN_TYPES),
                                              Document.status == "final")
                    .values(status="superseded", supersede_reason=reason))


def _snapshot(batch: Batch, session: Session) -> None:
    from core.batch_views import snapshot

    data = json.dumps(snapshot(batch, session), ensure_ascii=False, sort_keys=True, default=str)
    row = session.exec(select(BatchRevision).where(BatchRevision.batch_id == batch.id,
                                                   BatchRevision.revision == batch.revision)).first()
    if row is None:
        session.add(BatchRevision(batch_id=batch.id, revision=batch.revision, snapshot=data))
    else:
        row.snapshot, row.created_at = data, utcnow()
        session.add(row)


def batch_dict(batch: Batch, session: Session) -> dict:
    return {"id": batch.id, "uuid": batch.uuid, "kelurahan_kode": batch.kelurahan_kode, "periode": batch.periode,
            "musyawarah_id": batch.musyawarah_id, "state": batch.state, "state_label": STATES[batch.state],
            "revision": batch.revision, "late": batch.late, "submitted_at": batch.submitted_at,
            "state_changed_at": batch.state_changed_at, "version": batch.version}
