"""Finding families in the register: by NIK, No KK, any part of a name, RT/RW and desil — within one's wilayah.

Names are matched anywhere (not only at the start) through a trigram index: SQLite FTS5 ``trigram`` and
PostgreSQL ``pg_trgm``. Result lists show masked NIKs; the full number appears only in the family view.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from core.access import Action, Actor, Role, require, scope_filter
from core.errors import AccessDenied, InvalidInput, NotFound
from core.models import Family, Flag, Person, RegisterChange, RegisterImport, StoredFile, Wilayah
from core.screening import RULES, mask_nik

MAX_RESULTS = 200
_FTS = sa.table("person_fts", sa.column("rowid"))  # SQLite's trigram index of names (see migration 0002)


@dataclass(frozen=True)
class RegisterQuery:
    text: str = ""  # a NIK, a No KK (16 digits) or part of a name
    kelurahan_kode: str | None = None
    rt: str = ""
    rw: str = ""
    desil: tuple[int, ...] = ()
    include_absent: bool = False
    limit: int = 50


def _require_register_reader(actor: Actor, kode: str) -> None:
    if Role(actor.role) == Role.PETUGAS:
        raise AccessDenied("Petugas lapangan hanya melihat keluarga yang ditugaskan kepadanya, bukan seluruh "
                           "data DTSEN.")
    require(actor, Action.FAMILY_VIEW, kode)


def search(query: RegisterQuery, *, actor: Actor, session: Session) -> list[dict]:
    """Persons matching the query, with their family's desil and place; at most ``limit`` (≤ 200)."""
    scope = query.kelurahan_kode or actor.wilayah_kode
    _require_register_reader(actor, scope)
    limit = max(1, min(query.limit, MAX_RESULTS))
    text = (query.text or "").strip()
    digits = re.sub(r"[\s.\-]", "", text)
    by_name = bool(text) and not re.fullmatch(r"[0-9]+", digits)
    if by_name and session.get_bind().dialect.name == "sqlite":
        # Drive the query from the full-text index: its matches stream in order and LIMIT stops them early,
        # instead of materialising every match of a common name first; the scope's person-id range keeps the
        # index from walking through other kelurahan's matches.
        stmt = select(Person, Family, Wilayah.nama).select_from(_FTS).join(Person, Person.id == _FTS.c.rowid)
        bounds = _person_id_range(session, scope)
        if bounds is not None:
            stmt = stmt.where(_FTS.c.rowid.between(*bounds))
    else:
        stmt = select(Person, Family, Wilayah.nama)
    stmt = (stmt.join(Family, Family.id == Person.family_id).join(Wilayah, Wilayah.kode == Family.kelurahan_kode)
            .where(scope_filter(Family.kelurahan_kode, scope)))
    if re.fullmatch(r"[0-9]{16}", digits):
        # A union of two indexed look-ups: an OR across person and family would scan the whole register.
        stmt = stmt.where(Person.id.in_(
            select(Person.id).where(Person.nik == digits)
            .union(select(Person.id).join(Family, Family.id == Person.family_id).where(Family.no_kk == digits))))
    elif re.fullmatch(r"[0-9]{4,15}", digits):
        raise InvalidInput("Ketik NIK atau No KK lengkap (16 angka), atau bagian dari nama.", code="query_partial_number",
                           field="cari")
    elif text:
        stmt = stmt.where(_name_condition(session, text))
    if query.rt:
        stmt = stmt.where(Family.rt == query.rt.strip().zfill(3))
    if query.rw:
        stmt = stmt.where(Family.rw == query.rw.strip().zfill(3))
    if query.desil:
        stmt = stmt.where(Family.desil.in_(list(query.desil)))
    if not query.include_absent:
        stmt = stmt.where(Family.status == "aktif", Person.status == "aktif")
    rows = session.exec(stmt.limit(limit)).all()
    return [{
        "person_id": p.id, "family_id": f.id, "nama": p.nama, "nik": mask_nik(p.nik), "no_kk": mask_nik(f.no_kk),
        "hubungan": p.hubungan, "jenis_kelamin": p.jenis_kelamin, "kelurahan": kel, "rt": f.rt, "rw": f.rw,
        "desil": f.desil, "status": "aktif" if (f.status == "aktif" and p.status == "aktif") else "absen",
    } for p, f, kel in rows]


_RANGES: dict[tuple[str, str], tuple[tuple, tuple[int, int] | None]] = {}


def _person_id_range(session: Session, scope: str) -> tuple[int, int] | None:
    """Lowest and highest person id in a scope below the province, cached until the next register import."""
    if scope == "31":
        return None
    # Cheap (index ends only) and changed by every import that adds persons. One aggregate per query: SQLite
    # reads min() or max() from the index end only when it is alone; min and max together scan every person.
    latest = (session.exec(select(sa.func.max(RegisterImport.id))).one(),
              session.exec(select(sa.func.min(Person.id))).one(), session.exec(select(sa.func.max(Person.id))).one())
    key = (str(session.get_bind().url), scope)
    cached = _RANGES.get(key)
    if cached is None or cached[0] != latest:
        lo, hi = session.exec(select(sa.func.min(Person.id), sa.func.max(Person.id))
                              .join(Family, Family.id == Person.family_id)
                              .where(scope_filter(Family.kelurahan_kode, scope))).one()
        cached = (latest, None if lo is None else (lo, hi))
        _RANGES[key] = cached
    return cached[1]


def _name_condition(session: Session, text: str):
    cleaned = re.sub(r"\s+", " ", text).strip()
    if len(cleaned) < 3:
        raise InvalidInput("Ketik minimal 3 huruf nama.", code="query_too_short", field="cari")
    if session.get_bind().dialect.name == "sqlite":
        phrase = '"' + cleaned.replace('"', '""') + '"'
        return sa.text("person_fts MATCH :phrase").bindparams(phrase=phrase)
    pattern = "%" + cleaned.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return Person.nama.ilike(pattern, escape="\\")


def family_view(family_id: int, *, actor: Actor, session: Session) -> dict:
    """A family with full NIKs, its members, the extract it came from, its history and its open flags."""
    family = session.get(Family, family_id)
    if family is None:
        raise NotFound("Keluarga tidak ditemukan.", code="unknown_family")
    _require_register_reader(actor, family.kelurahan_kode)
    members = session.exec(select(Person).where(Person.family_id == family.id).order_by(Person.id)).all()
    imports = {i.id: i for i in session.exec(select(RegisterImport).where(
        RegisterImport.id.in_([family.first_import_id, family.last_import_id]))).all()}
    last = imports[family.last_import_id]
    history = session.exec(select(RegisterChange, RegisterImport)
                           .join(RegisterImport, RegisterImport.id == RegisterChange.import_id)
                           .where(RegisterChange.family_id == family.id).order_by(RegisterChange.id)).all()
    flags = session.exec(select(Flag).where(Flag.family_id == family.id).order_by(Flag.id)).all()
    sha = session.exec(select(StoredFile.sha256).where(StoredFile.id == last.file_id)).first()
    return {
        "id": family.id, "uuid": family.uuid, "no_kk": family.no_kk, "id_dtsen": family.id_dtsen,
        "desil": family.desil, "alamat": family.alamat, "rt": family.rt, "rw": family.rw, "status": family.status,
        "kelurahan_kode": family.kelurahan_kode,
        "ekstrak": {"berkas": last.filename, "diimpor": last.imported_at, "oleh": last.imported_by, "sha256": sha,
                    "pertama": imports[family.first_import_id].imported_at},
        "anggota": [{"nik": m.nik, "nama": m.nama, "jenis_kelamin": m.jenis_kelamin, "tanggal_lahir": m.tanggal_lahir,
                     "hubungan": m.hubungan, "pekerjaan": m.pekerjaan, "status": m.status} for m in members],
        "riwayat": [{"perubahan": c.change, "berkas": i.filename, "waktu": i.imported_at,
                     "sebelum": json.loads(c.before) if c.before else None,
                     "sesudah": json.loads(c.after) if c.after else None} for c, i in history],
        "temuan": [flag_dict(f) for f in flags],
    }


def flag_dict(f: Flag) -> dict:
    rule = RULES.get(f.code)
    return {"id": f.id, "code": f.code, "severity": f.severity, "judul": rule.title if rule else f.code,
            "pesan": f.message, "nik": mask_nik(f.nik) if f.nik else "", "status": f.status,
            "catatan": f.resolution_note, "oleh": f.resolved_by, "family_id": f.family_id,
            "penyelesaian": rule.resolution if rule else ""}


def import_history(kelurahan_kode: str, *, actor: Actor, session: Session) -> list[dict]:
    _require_register_reader(actor, kelurahan_kode)
    rows = session.exec(select(RegisterImport).where(RegisterImport.kelurahan_kode == kelurahan_kode)
                        .order_by(RegisterImport.id.desc())).all()
    return [{"id": r.id, "berkas": r.filename, "waktu": r.imported_at, "oleh": r.imported_by, "orang": r.persons,
             "keluarga": r.families, "baru": r.new, "berubah": r.changed, "tetap": r.unchanged, "absen": r.absent,
             "temuan": r.problems, "dilewati": r.skipped_rows} for r in rows]
