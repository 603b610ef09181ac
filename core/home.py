"""What a user's home page shows in the foundation: where they stand, who works with them, what they did last."""

from __future__ import annotations

from collections import Counter

from sqlmodel import Session

from core import accounts, audit, drafts, offices, wilayah
from core.access import ACTION_LABELS, ROLE_ACTIONS, Action, Actor, Role, role_label


def overview(*, actor: Actor, session: Session) -> dict:
    place = wilayah.get(session, actor.wilayah_kode)
    kota_level = wilayah.kota_tingkat(session, actor.wilayah_kode)
    people = accounts.list_accounts(actor=actor, session=session)
    by_role = Counter(role_label(p["role"], kota_level) for p in people if p["aktif"])
    profile = offices.get_profile(actor.wilayah_kode, session=session)
    me = accounts.own_profile(actor=actor, session=session)
    return {
        "wilayah": {"kode": place.kode, "nama": wilayah.full_name(place), "tingkat": place.tingkat,
                    "kode_pos": place.kode_pos, "lengkap": wilayah.describe(session, place.kode)},
        "kelurahan_dalam_wilayah": len(wilayah.kelurahan_in_scope(actor=actor, session=session)),
        "akun_per_peran": dict(sorted(by_role.items())),
        "kantor": profile if profile["version"] else None,
        "wewenang": [ACTION_LABELS[a] for a in Action if a in ROLE_ACTIONS[Role(actor.role)]],
        "aktivitas": audit.own_recent_activity(actor=actor, session=session, limit=10),
        "masuk_terakhir": me,
        "draf": drafts.pending_forms(actor=actor, session=session),
    }
