"""Office profiles: the letterhead facts of each kelurahan, kecamatan and kota office (kept by the admin).

They feed the kop surat and the signature blocks of every official document: name, address, contacts, logo, the
head of office, and who signs while the head is away (Plt./Plh., or a.n. on the head's behalf).
"""

from __future__ import annotations

import re

from sqlmodel import Session

from core import audit, wilayah
from core.access import Action, Actor, require
from core.errors import InvalidInput, StaleEdit
from core.models import OfficeProfile
from core.timefmt import utcnow

FIELDS = ("nama_kantor", "alamat", "kode_pos", "telepon", "email", "nama_pimpinan", "nip_pimpinan", "jabatan_pimpinan",
          "pengganti_sebutan", "pengganti_nama", "pengganti_nip", "pengganti_jabatan")
SEBUTAN = {"": "Pimpinan sendiri", "Plt.": "Plt. (pelaksana tugas)", "Plh.": "Plh. (pelaksana harian)",
           "a.n.": "a.n. (atas nama pimpinan)"}
LIMITS = {"nama_kantor": 150, "alamat": 300, "kode_pos": 5, "telepon": 40, "email": 120, "nama_pimpinan": 120,
          "nip_pimpinan": 30, "jabatan_pimpinan": 120, "pengganti_sebutan": 8, "pengganti_nama": 120,
          "pengganti_nip": 30, "pengganti_jabatan": 120}
LABELS = {"nama_kantor": "Nama kantor", "alamat": "Alamat", "kode_pos": "Kode pos", "telepon": "Telepon",
          "email": "Email", "nama_pimpinan": "Nama pimpinan", "nip_pimpinan": "NIP pimpinan",
          "jabatan_pimpinan": "Jabatan pimpinan", "pengganti_sebutan": "Sebutan pengganti",
          "pengganti_nama": "Nama pejabat pengganti", "pengganti_nip": "NIP pejabat pengganti",
          "pengganti_jabatan": "Jabatan pejabat pengganti"}
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_PIXELS = 4000


def get_profile(kode: str, *, session: Session) -> dict:
    """The profile of an office; an office nobody has filled in yet reads as empty fields at version 0."""
    wilayah.get(session, kode)
    profile = session.get(OfficeProfile, kode)
    if profile is None:
        return {"wilayah_kode": kode, **{f: "" for f in FIELDS}, "logo_file_id": None, "version": 0,
                "updated_at": None}
    return {"wilayah_kode": kode, **{f: getattr(profile, f) for f in FIELDS}, "logo_file_id": profile.logo_file_id,
            "version": profile.version, "updated_at": profile.updated_at}


def _check(values: dict) -> dict:
    """Clean the fields; a wrong NIP, email, postal code or an acting signer without a name is refused."""
    for fieldname, limit in LIMITS.items():
        if len(values[fieldname]) > limit:
            raise InvalidInput(f"{LABELS[fieldname]} terlalu panjang ({len(values[fieldname])} karakter; paling "
                               f"banyak {limit}).", code="field_too_long", field=fieldname)
    if values["email"] and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", values["email"]):
        raise InvalidInput("Alamat email kantor tidak valid.", code="email_invalid", field="email")
    for fieldname, label in (("nip_pimpinan", "NIP pimpinan"), ("pengganti_nip", "NIP pejabat pengganti")):
        values[fieldname] = values[fieldname].replace(" ", "")
        if values[fieldname] and not re.fullmatch(r"\d{18}", values[fieldname]):
            raise InvalidInput(f"{label} harus 18 angka.", code="nip_invalid", field=fieldname)
    if values["kode_pos"] and not re.fullmatch(r"\d{5}", values["kode_pos"]):
        raise InvalidInput("Kode pos harus 5 angka.", code="postal_code_invalid", field="kode_pos")
    if values["pengganti_sebutan"] not in SEBUTAN:
        raise InvalidInput("Pilih Plt., Plh., a.n. atau kosong untuk penanda tangan pengganti.",
                           code="acting_invalid", field="pengganti_sebutan")
    if values["pengganti_sebutan"] and not values["pengganti_nama"]:
        raise InvalidInput("Isi nama pejabat yang menandatangani sebagai "
                           f"{values['pengganti_sebutan']}, atau kosongkan pilihan pengganti.",
                           code="acting_name_missing", field="pengganti_nama")
    if values["pengganti_sebutan"] == "a.n." and not values["pengganti_jabatan"]:
        raise InvalidInput("Tanda tangan a.n. memerlukan jabatan pejabat yang menandatangani (misalnya Sekretaris "
                           "Kelurahan).", code="acting_title_missing", field="pengganti_jabatan")
    return values


def update_profile(kode: str, changes: dict, *, expected_version: int, actor: Actor, session: Session) -> dict:
    require(actor, Action.OFFICE_MANAGE, kode)
    wilayah.get(session, kode)
    profile = session.get(OfficeProfile, kode, with_for_update=True, populate_existing=True)
    current_version = profile.version if profile else 0
    if current_version != expected_version:
        raise StaleEdit("Profil kantor ini telah diubah orang lain sejak dibuka. Muat ulang lalu ulangi.")
    values = _check({f: (changes.get(f) or "").strip() for f in FIELDS})
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


def set_logo(kode: str, data: bytes | None, filename: str, *, expected_version: int, actor: Actor,
             session: Session) -> dict:
    """The office's logo for the kop surat (PNG or JPEG, checked by content); ``None`` removes it."""
    from core import filestore, photos

    require(actor, Action.OFFICE_MANAGE, kode)
    wilayah.get(session, kode)
    profile = session.get(OfficeProfile, kode, with_for_update=True, populate_existing=True)
    if (profile.version if profile else 0) != expected_version:
        raise StaleEdit("Profil kantor ini telah diubah orang lain sejak dibuka. Muat ulang lalu ulangi.")
    stored = None
    if data is not None:
        if len(data) > LOGO_MAX_BYTES:
            raise InvalidInput(f"Berkas logo terlalu besar ({len(data) // 1024} KB); paling besar 2 MB. Simpan "
                               "logo sebagai PNG berukuran sekitar 600 piksel.", code="logo_too_large", field="logo")
        facts = photos.identify(data)
        if facts is None or facts[0] not in ("PNG", "JPEG"):
            raise InvalidInput("Logo harus berupa gambar PNG atau JPG (isi berkas diperiksa, bukan namanya).",
                               code="logo_not_image", field="logo")
        kind, width, height = facts
        if max(width, height) > LOGO_MAX_PIXELS:
            raise InvalidInput(f"Logo terlalu besar ({width}×{height} piksel); paling besar {LOGO_MAX_PIXELS} piksel "
                               "per sisi.", code="logo_too_large", field="logo")
        stored = filestore.save(data, media_type=f"image/{kind.lower()}", purpose="logo", actor=actor,
                                session=session, original_name=filename, wilayah_kode=kode)
    if profile is None:
        profile = OfficeProfile(wilayah_kode=kode, version=0)
    before = profile.logo_file_id
    profile.logo_file_id = stored.id if stored else None
    profile.version = (profile.version or 0) + 1
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    audit.record(session, actor, "office.logo_changed", object_type="office", object_id=kode, wilayah_kode=kode,
                 before={"logo": before}, after={"logo": stored.sha256 if stored else None})
    return get_profile(kode, session=session)


def logo_bytes(kode: str, *, session: Session) -> bytes | None:
    """The office's logo (public letterhead material, shown to the admin and printed on documents)."""
    from core.filestore import default_store
    from core.models import StoredFile

    profile = session.get(OfficeProfile, kode)
    if profile is None or profile.logo_file_id is None:
        return None
    return default_store().get(session.get(StoredFile, profile.logo_file_id).sha256)
