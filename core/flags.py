"""Screening flags after import: listing them in one's wilayah and closing them with a note (audited).

Warnings are closed with a note by the roles their rule names (operator/Lurah); a blocking flag can only be
waived by the roles its rule allows, with a reason. Nobody deletes a flag: closing keeps who, when and why.
"""

from __future__ import annotations

from sqlmodel import Session, select

from core import audit
from core.access import Action, Actor, Role, require, scope_filter
from core.errors import AccessDenied, InvalidInput, NotFound, StaleEdit
from core.models import Flag
from core.register_search import flag_dict
from core.screening import BLOCKING, RULES
from core.timefmt import utcnow


def list_flags(*, actor: Actor, session: Session, kelurahan_kode: str | None = None, status: str = "open",
               code: str | None = None, limit: int = 1000) -> list[dict]:
    scope = kelurahan_kode or actor.wilayah_kode
    if Role(actor.role) == Role.PETUGAS:
        raise AccessDenied("Petugas lapangan tidak membuka daftar temuan data DTSEN.")
    require(actor, Action.FAMILY_VIEW, scope)
    stmt = select(Flag).where(scope_filter(Flag.kelurahan_kode, scope))
    if status:
        stmt = stmt.where(Flag.status == status)
    if code:
        stmt = stmt.where(Flag.code == code)
    return [flag_dict(f) for f in session.exec(stmt.order_by(Flag.id).limit(limit)).all()]


def close_flag(flag_id: int, note: str, *, actor: Actor, session: Session) -> dict:
    """Resolve a warning with a note, or waive a waivable blocking flag with a reason."""
    flag = session.get(Flag, flag_id)
    if flag is None:
        raise NotFound("Temuan tidak ditemukan.", code="unknown_flag")
    require(actor, Action.MEETING_RECORD, flag.kelurahan_kode)
    if flag.status != "open":
        raise StaleEdit("Temuan ini sudah ditutup oleh " + (flag.resolved_by or "pengguna lain") + ".")
    rule = RULES[flag.code]
    allowed = rule.waivable_by if flag.severity == BLOCKING else rule.note_by
    if Role(actor.role) not in allowed:
        raise AccessDenied(f"Temuan {flag.code} tidak dapat ditutup oleh peran Anda ({rule.resolution}).")
    note = (note or "").strip()
    if len(note) < 10:
        raise InvalidInput("Tulis catatan atau alasan minimal 10 karakter.", code="note_missing", field="catatan")
    flag.status = "waived" if flag.severity == BLOCKING else "resolved"
    flag.resolved_by, flag.resolution_note, flag.resolved_at = actor.username, note, utcnow()
    session.add(flag)
    audit.record(session, actor, "flag.waived" if flag.status == "waived" else "flag.resolved", object_type="flag",
                 object_id=flag.uuid, wilayah_kode=flag.kelurahan_kode, before={"status": "open"},
                 after={"status": flag.status, "kode": flag.code, "catatan": note})
    return flag_dict(flag)
