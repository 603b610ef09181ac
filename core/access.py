"""Who may do what, where: the one place that answers "may this actor do this action on this wilayah".

Every service calls ``require`` before it reads or writes; pages only decide what to show. A wilayah is in an
actor's scope when its Kemendagri code equals the actor's code or lies beneath it (``31.75.01.1003`` is under
``31.75.01``, ``31.75`` and ``31``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa

from core.errors import AccessDenied


class Role(StrEnum):
    OPERATOR = "operator"
    LURAH = "lurah"
    PETUGAS = "petugas"
    CAMAT = "camat"
    WALIKOTA = "walikota"
    DINSOS = "dinsos"
    AUDITOR = "auditor"
    ADMIN = "admin"


# The wilayah levels at which each role may be placed.
ROLE_LEVELS: dict[Role, frozenset[str]] = {
    Role.OPERATOR: frozenset({"kelurahan"}),
    Role.LURAH: frozenset({"kelurahan"}),
    Role.PETUGAS: frozenset({"kelurahan"}),
    Role.CAMAT: frozenset({"kecamatan"}),
    Role.WALIKOTA: frozenset({"kota", "kabupaten"}),
    Role.DINSOS: frozenset({"kota", "kabupaten", "provinsi"}),
    Role.AUDITOR: frozenset({"kota", "kabupaten", "provinsi"}),
    Role.ADMIN: frozenset({"provinsi"}),
}

ROLE_LABELS: dict[Role, str] = {
    Role.OPERATOR: "Operator Kelurahan",
    Role.LURAH: "Lurah",
    Role.PETUGAS: "Petugas Lapangan",
    Role.CAMAT: "Camat",
    Role.WALIKOTA: "Walikota",
    Role.DINSOS: "Dinas Sosial",
    Role.AUDITOR: "Auditor",
    Role.ADMIN: "Administrator",
}


class Action(StrEnum):
    """Everything an actor can ask a service to do. Later features add their services under these names."""

    WILAYAH_VIEW = "wilayah.view"  # see the wilayah tree and the accounts in it
    ACCOUNT_MANAGE = "account.manage"  # create, reset, unlock, disable, change role/wilayah
    OFFICE_MANAGE = "office.manage"  # letterhead data of an office
    AUDIT_VIEW = "audit.view"  # read the audit log and verify the chain
    FAMILY_VIEW = "family.view"  # personal data of families (NIK, KK, addresses)
    REGISTER_IMPORT = "register.import"  # import a DTSEN extract
    MEETING_RECORD = "meeting.record"  # musyawarah: attendance, proposals, decisions
    MEETING_CLOSE = "meeting.close"
    VERIFICATION_ASSIGN = "verification.assign"
    VERIFICATION_RECORD = "verification.record"  # a field visit and its photos
    FLAG_WAIVE = "flag.waive"
    DOCUMENT_DRAFT = "document.draft"
    DOCUMENT_FINALISE = "document.finalise"
    BATCH_SUBMIT = "batch.submit"
    BATCH_REVIEW = "batch.review"  # camat: forward or return
    BATCH_RATIFY = "batch.ratify"  # walikota/bupati: ratify, return or reject
    RESULT_EXPORT = "result.export"  # ratified by-name lists for SIKS-NG
    KOTA_SETTINGS = "kota.settings"  # rules of a kota/kabupaten, e.g. which proposals need a field visit


_KELURAHAN_STAFF = {
    Action.WILAYAH_VIEW,
    Action.FAMILY_VIEW,
    Action.REGISTER_IMPORT,
    Action.MEETING_RECORD,
    Action.VERIFICATION_ASSIGN,
    Action.VERIFICATION_RECORD,
    Action.DOCUMENT_DRAFT,
}

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.OPERATOR: frozenset(_KELURAHAN_STAFF),
    Role.LURAH: frozenset(
        _KELURAHAN_STAFF
        | {Action.MEETING_CLOSE, Action.FLAG_WAIVE, Action.DOCUMENT_FINALISE, Action.BATCH_SUBMIT}
    ),
    # A field officer's families are further limited to their assignments by the verification service.
    Role.PETUGAS: frozenset({Action.WILAYAH_VIEW, Action.FAMILY_VIEW, Action.VERIFICATION_RECORD}),
    Role.CAMAT: frozenset(
        {Action.WILAYAH_VIEW, Action.FAMILY_VIEW, Action.BATCH_REVIEW, Action.DOCUMENT_DRAFT,
         Action.DOCUMENT_FINALISE}
    ),
    Role.WALIKOTA: frozenset(
        {Action.WILAYAH_VIEW, Action.FAMILY_VIEW, Action.BATCH_RATIFY, Action.DOCUMENT_DRAFT,
         Action.DOCUMENT_FINALISE, Action.RESULT_EXPORT, Action.KOTA_SETTINGS}
    ),
    Role.DINSOS: frozenset({Action.WILAYAH_VIEW, Action.FAMILY_VIEW, Action.RESULT_EXPORT}),
    Role.AUDITOR: frozenset({Action.WILAYAH_VIEW, Action.FAMILY_VIEW, Action.AUDIT_VIEW}),
    # The admin runs accounts and offices and never sees families' personal data.
    Role.ADMIN: frozenset({Action.WILAYAH_VIEW, Action.ACCOUNT_MANAGE, Action.OFFICE_MANAGE}),
}

ACTION_LABELS: dict[Action, str] = {
    Action.WILAYAH_VIEW: "melihat wilayah",
    Action.ACCOUNT_MANAGE: "mengelola akun",
    Action.OFFICE_MANAGE: "mengubah profil kantor",
    Action.AUDIT_VIEW: "membaca log audit",
    Action.FAMILY_VIEW: "melihat data keluarga",
    Action.REGISTER_IMPORT: "mengimpor data DTSEN",
    Action.MEETING_RECORD: "mencatat musyawarah",
    Action.MEETING_CLOSE: "menutup musyawarah",
    Action.VERIFICATION_ASSIGN: "menugaskan verifikasi",
    Action.VERIFICATION_RECORD: "mencatat verifikasi lapangan",
    Action.FLAG_WAIVE: "mengesampingkan peringatan",
    Action.DOCUMENT_DRAFT: "membuat draf dokumen",
    Action.DOCUMENT_FINALISE: "memfinalkan dokumen",
    Action.BATCH_SUBMIT: "mengajukan usulan",
    Action.BATCH_REVIEW: "meninjau usulan kelurahan",
    Action.BATCH_RATIFY: "mengesahkan usulan",
    Action.RESULT_EXPORT: "mengunduh hasil pengesahan",
    Action.KOTA_SETTINGS: "mengubah aturan kota/kabupaten",
}


@dataclass(frozen=True)
class Actor:
    """The acting account as services see it: plain data, safe to keep across Streamlit reruns."""

    username: str
    nama: str
    role: Role
    wilayah_kode: str
    channel: str = "web"  # web | cli | system


SYSTEM_ACTOR = Actor(username="system", nama="Sistem Muskel", role=Role.ADMIN, wilayah_kode="31", channel="system")


def in_scope(scope_kode: str, kode: str) -> bool:
    """True when ``kode`` is the wilayah ``scope_kode`` or lies beneath it."""
    return kode == scope_kode or kode.startswith(scope_kode + ".")


def scope_filter(column, scope_kode: str):
    """The SQL form of ``in_scope``: ``column`` holds ``scope_kode`` or a code beneath it."""
    return sa.or_(column == scope_kode, column.like(scope_kode + ".%"))


def may(actor: Actor, action: Action, wilayah_kode: str) -> bool:
    """May ``actor`` do ``action`` on something that belongs to ``wilayah_kode``?"""
    return action in ROLE_ACTIONS.get(Role(actor.role), frozenset()) and in_scope(actor.wilayah_kode, wilayah_kode)


def require(actor: Actor, action: Action, wilayah_kode: str) -> None:
    """Raise ``AccessDenied`` with an Indonesian message unless ``may`` allows it."""
    if may(actor, action, wilayah_kode):
        return
    role = Role(actor.role)
    what = ACTION_LABELS.get(action, str(action))
    if action not in ROLE_ACTIONS.get(role, frozenset()):
        raise AccessDenied(f"Peran {ROLE_LABELS[role]} tidak berwenang {what}.")
    raise AccessDenied(f"Anda tidak berwenang {what} di luar wilayah Anda ({actor.wilayah_kode}).")


def require_bulk(actor: Actor, wilayah_kode: str) -> None:
    """Lists of many families' personal data (by-name lists, packages, exports, maps): never for a field officer,
    who sees only the families assigned to them."""
    require(actor, Action.FAMILY_VIEW, wilayah_kode)
    if Role(actor.role) == Role.PETUGAS:
        raise AccessDenied("Petugas lapangan hanya melihat keluarga yang ditugaskan kepadanya.")


def role_label(role: str, wilayah_tingkat: str | None = None) -> str:
    """Kepulauan Seribu is a kabupaten: its head is a Bupati, and every label says so."""
    role = Role(role)
    if role == Role.WALIKOTA and wilayah_tingkat == "kabupaten":
        return "Bupati"
    return ROLE_LABELS[role]
