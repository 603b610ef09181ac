"""Jakarta's wilayah (Kemendagri codes): loading the reference list and reading the tree in an actor's scope."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from core.access import Action, Actor, require, role_label, scope_filter
from core.config import REFERENCE_DIR
from core.errors import InvalidInput, NotFound
from core.models import User, Wilayah

WILAYAH_CSV = REFERENCE_DIR / "wilayah_dki_jakarta.csv"
LEVELS = ("provinsi", "kota", "kabupaten", "kecamatan", "kelurahan")
LEVEL_LABELS = {
    "provinsi": "Provinsi",
    "kota": "Kota Administrasi",
    "kabupaten": "Kabupaten Administrasi",
    "kecamatan": "Kecamatan",
    "kelurahan": "Kelurahan",
}


def load_reference(session: Session, path: Path = WILAYAH_CSV) -> dict[str, int]:
    """Insert or update every wilayah from the shipped CSV; returns counts of inserted and updated rows."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    existing = {w.kode: w for w in session.exec(select(Wilayah)).all()}
    inserted = updated = 0
    # Parents before children, so the self-referencing foreign key holds at every insert.
    for row in sorted(rows, key=lambda r: len(r["kode"])):
        values = {
            "tingkat": row["tingkat"].strip(),
            "nama": row["nama"].strip(),
            "kode_induk": row["kode_induk"].strip() or None,
            "kode_pos": (row.get("kode_pos") or "").strip() or None,
        }
        current = existing.get(row["kode"])
        if current is None:
            session.add(Wilayah(kode=row["kode"].strip(), **values))
            inserted += 1
        elif any(getattr(current, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(current, k, v)
            session.add(current)
            updated += 1
        session.flush()
    return {"inserted": inserted, "updated": updated}


def get(session: Session, kode: str) -> Wilayah:
    wilayah = session.get(Wilayah, kode)
    if wilayah is None:
        raise NotFound(f"Kode wilayah {kode!r} tidak dikenal. Gunakan kode Kemendagri bertitik, misalnya 31.75.01.1003.",
                       code="unknown_wilayah", field="wilayah")
    return wilayah


def require_known(session: Session, kode: str) -> Wilayah:
    """Like ``get`` but the error is an input error (for forms and the command line)."""
    try:
        return get(session, kode)
    except NotFound as exc:
        raise InvalidInput(exc.message, code="unknown_wilayah", field="wilayah") from exc


def full_name(wilayah: Wilayah) -> str:
    """``Kelurahan Kayu Manis``; kota and kabupaten names already carry their prefix."""
    if wilayah.tingkat in ("kota", "kabupaten"):
        return wilayah.nama
    if wilayah.tingkat == "provinsi":
        return f"Provinsi {wilayah.nama}"
    return f"{LEVEL_LABELS[wilayah.tingkat]} {wilayah.nama}"


def lineage(session: Session, kode: str) -> list[Wilayah]:
    """The wilayah and its parents, from the province down."""
    chain: list[Wilayah] = []
    current = session.get(Wilayah, kode)
    while current is not None:
        chain.append(current)
        current = session.get(Wilayah, current.kode_induk) if current.kode_induk else None
    return list(reversed(chain))


def kota_tingkat(session: Session, kode: str) -> str | None:
    """'kota' or 'kabupaten' for the kota-level ancestor of ``kode`` (None for the province)."""
    kota = session.get(Wilayah, kota_code(kode)) if "." in kode else None
    return kota.tingkat if kota else None


def describe(session: Session, kode: str) -> str:
    """``Kelurahan Kayu Manis, Kecamatan Matraman, Kota Administrasi Jakarta Timur``"""
    chain = [w for w in lineage(session, kode) if w.tingkat != "provinsi"]
    if not chain:
        return "Provinsi DKI Jakarta"
    return ", ".join(full_name(w) for w in reversed(chain))


def counts_by_level(session: Session) -> dict[str, int]:
    rows = session.exec(select(Wilayah.tingkat, sa.func.count()).group_by(Wilayah.tingkat)).all()
    found = dict(rows)
    return {level: found.get(level, 0) for level in LEVELS}


@dataclass
class TreeNode:
    kode: str
    nama: str
    tingkat: str
    kode_pos: str | None
    children: list["TreeNode"]
    accounts: list[dict]


def tree_in_scope(*, actor: Actor, session: Session) -> TreeNode:
    """The actor's wilayah with everything beneath it, and the accounts placed in each node."""
    require(actor, Action.WILAYAH_VIEW, actor.wilayah_kode)
    root = get(session, actor.wilayah_kode)
    stmt = select(Wilayah).where(scope_filter(Wilayah.kode, root.kode))
    wilayah = session.exec(stmt.order_by(Wilayah.kode)).all()
    users = session.exec(
        select(User).where(scope_filter(User.wilayah_kode, root.kode))
        .order_by(User.username)
    ).all()
    nodes = {w.kode: TreeNode(w.kode, full_name(w), w.tingkat, w.kode_pos, [], []) for w in wilayah}
    kota_levels = kota_levels_by_code(session)
    for user in users:
        nodes[user.wilayah_kode].accounts.append({
            "username": user.username, "nama": user.nama, "jabatan": user.jabatan, "aktif": user.is_active,
            "peran": role_label(user.role, kota_levels.get(kota_code(user.wilayah_kode))),
        })
    for w in wilayah:
        if w.kode != root.kode and w.kode_induk in nodes:
            nodes[w.kode_induk].children.append(nodes[w.kode])
    return nodes[root.kode]


def kota_code(kode: str) -> str:
    """``31.75.01.1003`` → ``31.75``"""
    return ".".join(kode.split(".")[:2])


def kota_levels_by_code(session: Session) -> dict[str, str]:
    """{'31.01': 'kabupaten', '31.71': 'kota', …}: decides between Walikota and Bupati."""
    rows = session.exec(select(Wilayah).where(Wilayah.tingkat.in_(["kota", "kabupaten"]))).all()
    return {w.kode: w.tingkat for w in rows}


def kelurahan_in_scope(*, actor: Actor, session: Session) -> list[Wilayah]:
    require(actor, Action.WILAYAH_VIEW, actor.wilayah_kode)
    stmt = select(Wilayah).where(Wilayah.tingkat == "kelurahan", scope_filter(Wilayah.kode, actor.wilayah_kode))
    return list(session.exec(stmt.order_by(Wilayah.kode)).all())



def options(session: Session) -> list[tuple[str, str, str]]:
    """Every wilayah as (kode, "31.75.01.1003 · Kelurahan Kayu Manis (Matraman)", tingkat) for pickers."""
    rows = session.exec(select(Wilayah).order_by(Wilayah.kode)).all()
    names = {w.kode: w.nama for w in rows}
    result = []
    for w in rows:
        parent = f" ({names[w.kode_induk]})" if w.tingkat == "kelurahan" and w.kode_induk in names else ""
        result.append((w.kode, f"{w.kode} · {full_name(w)}{parent}", w.tingkat))
    return result
