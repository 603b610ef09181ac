"""Office profiles: the letterhead facts of each kelurahan, kecamatan and kota office (kept by the admin)."""

from __future__ import annotations

import re

from sqlmodel import Session

from core import audit, wilayah
from core.access import Action, Actor, require
from core.errors import InvalidInput, StaleEdit
from core.models import OfficeProfile
from core.timefmt import utcnow

FIELDS = ("alamat", "telepon", "email", "nama_pimpinan", "nip_pimpinan")


def get_profile(kode: str, *, session: Session) -> dict:
    """The profile of an office; an office nobody has filled in yet reads as empty fields at version 0."""
    wilayah.get(session, kode)
    profile = session.get(OfficeProfile, kode)
    if profile is None:
        return {"wilayah_kode": kode, **{f: "" for f in FIELDS}, "version": 0, "updated_at": None}
    return {"wilayah_kode": kode, **{f: getattr(profile, f) for f in FIELDS}, "version": profile.version,
            "updated_at": profile.updated_at}


def update_profile(kode: str, changes: dict, *, expected_version: int, actor: Actor, session: Session) -> dict:
    require(actor, Action.OFFICE_MANAGE, kode)
    wilayah.get(session, kode)
    profile = session.get(OfficeProfile, kode, with_for_update=True, populate_existing=True)
    current_version = profile.version if profile else 0
    if current_version != expected_version:
        raise StaleEdit("Profil kantor ini telah diubah orang lain sejak dibuka. Muat ulang lalu ulangi.")
    values = {f: (changes.get(f) or "").strip() for f in FIELDS}
    if values["email"] and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", values["email"]):
        raise InvalidInput("Alamat email kantor tidak valid.", code="email_invalid", field="email")
    if values["nip_pimpinan"] and not re.fullmatch(r"\d{18}", values["nip_pimpinan"].replace(" ", "")):
        raise InvalidInput("NIP pimpinan harus 18 angka.", code="nip_invalid", field="nip_pimpinan")
    values["nip_pimpinan"] = values["nip_pimpinan"].replace(" ", "")
    before = get_profile(kode, session=session)
    if profile is None:
        profile = OfficeProfile(wilayah_kode=kode, version=0)
    for f, v in values.items():
        setattr(profile, f, v)
    profile.version = current_version + 1
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    old, new = audit.diff(before, values, FIELDS)
    audit.record(session, actor, "office.updated", object_type="office", object_id=kode, wilayah_kode=kode,
                 before=old, after=new)
    return get_profile(kode, session=session)
