"""The DTSEN register of a kelurahan: importing extracts (all or nothing), and finding families in it.

An import is one transaction: the original file goes into the file store, families and members are inserted or
updated by No KK and NIK, families missing from the newer extract are marked ``absen`` (never deleted), every
change to a family is kept in ``RegisterChange``, the screening warnings become open flags, and one audit entry
records the import with its counts and the file's SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlmodel import Session, select

from core import audit, bulk_insert, dtsen_file, filestore, screening, wilayah
from core.access import Action, Actor, Role, require
from core.errors import AccessDenied, InvalidInput
from core.faultpoint import faultpoint
from core.models import Family, Flag, Person, RegisterChange, RegisterImport, new_uuid, new_uuids
from core.register_check import check
from core.timefmt import angka, utcnow

Progress = Callable[[float, str], None]
FAMILY_FIELDS = ("id_dtsen", "desil", "alamat", "rt", "rw")
PERSON_FIELDS = ("nik", "nama", "jenis_kelamin", "tanggal_lahir", "hubungan", "pekerjaan")
_CHUNK = 5000  # ids per IN (…) list


@dataclass
class ImportResult:
    imported: bool
    counts: dict[str, int]
    problems: pd.DataFrame
    mapping: dict[str, str]
    import_id: int | None = None
    waived: dict[str, str] = field(default_factory=dict)

    @property
    def blocking(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == screening.BLOCKING]


def _noop(_fraction: float, _text: str) -> None:
    pass


def import_extract(
    data: bytes,
    filename: str,
    kelurahan_kode: str,
    *,
    actor: Actor,
    session: Session,
    column_map: dict[str, str] | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    waive: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Check an extract and, unless a blocking problem remains (or ``dry_run``), import it in this transaction.

    ``waive`` maps waivable blocking codes to the reason (only roles the flag rule allows, e.g. the Lurah for
    ``nik_in_two_kk``). ``skip_invalid`` imports only the rows without blocking problems — an explicit choice.
    """
    progress = progress or _noop
    place = wilayah.require_known(session, kelurahan_kode)
    if place.tingkat != "kelurahan":
        raise InvalidInput(f"{wilayah.full_name(place)} bukan kelurahan: ekstrak DTSEN diimpor per kelurahan.",
                           code="not_a_kelurahan", field="kelurahan")
    require(actor, Action.REGISTER_IMPORT, kelurahan_kode)
    waive = {code: (reason or "").strip() for code, reason in (waive or {}).items()}
    _check_waivers(waive, actor)

    progress(0.05, "Membaca berkas…")
    extract = dtsen_file.read(data, filename)
    mapping = dtsen_file.apply_mapping(extract, column_map)
    progress(0.2, "Memeriksa data…")
    result = check(extract, mapping, kelurahan_kode, session=session)
    problems = result.problems
    blocking = problems[(problems["severity"] == screening.BLOCKING) & ~problems["code"].isin(list(waive))]
    counts = {"persons": int((~result.rows["drop"]).sum()), "problems": len(problems),
              "blocking": len(blocking), "warnings": int((problems["severity"] == screening.WARNING).sum()),
              "new": 0, "changed": 0, "unchanged": 0, "absent": 0, "skipped_rows": 0}
    if dry_run or (len(blocking) and not skip_invalid):
        return ImportResult(False, counts, problems, mapping, waived=waive)

    rows = result.rows[~result.rows["drop"]]
    if len(blocking):
        bad_rows = set(blocking["row"])
        bad_kk = set(rows.loc[rows["row"].isin(bad_rows), "no_kk"])
        keep = ~rows["no_kk"].isin(bad_kk)  # a family is imported whole or not at all
        counts["skipped_rows"] = int((~keep).sum())
        rows = rows[keep]
    if rows.empty:
        raise InvalidInput("Tidak ada baris yang dapat diimpor: semua baris bermasalah.", code="nothing_to_import",
                           field="berkas")
    progress(0.35, "Menyimpan berkas asli…")
    stored = filestore.save(data, media_type=_media_type(data), purpose="dtsen_extract", actor=actor,
                            session=session, original_name=filename, wilayah_kode=kelurahan_kode)
    record = RegisterImport(kelurahan_kode=kelurahan_kode, file_id=stored.id, filename=filename[:255],
                            imported_by=actor.username)
    session.add(record)
    session.flush()
    progress(0.45, "Memperbarui keluarga…")
    applied = _apply(rows, kelurahan_kode, record, session, progress)
    counts.update(applied)
    counts["persons"] = len(rows)
    progress(0.9, "Mencatat temuan penyaringan…")
    _record_flags(problems, rows, waive, kelurahan_kode, record, actor, session)
    for name in ("persons", "new", "changed", "unchanged", "absent", "problems", "skipped_rows"):
        setattr(record, name, counts[name])
    record.families = int(rows["no_kk"].nunique())
    session.add(record)
    audit.record(session, actor, "register.imported", object_type="register_import", object_id=record.uuid,
                 wilayah_kode=kelurahan_kode,
                 after={"berkas": filename, "sha256": stored.sha256, **{k: counts[k] for k in (
                     "persons", "new", "changed", "unchanged", "absent", "problems", "skipped_rows")},
                     "dikesampingkan": waive or None})
    progress(1.0, "Selesai.")
    return ImportResult(True, counts, problems, mapping, import_id=record.id, waived=waive)


def _check_waivers(waive: dict[str, str], actor: Actor) -> None:
    for code, reason in waive.items():
        flag_rule = screening.RULES.get(code)
        if flag_rule is None or not flag_rule.waivable_by:
            raise InvalidInput(f"Temuan {code!r} tidak dapat dikesampingkan: perbaiki datanya.",
                               code="not_waivable", field="waive")
        if Role(actor.role) not in flag_rule.waivable_by:
            raise AccessDenied(f"Hanya {', '.join(r.value for r in flag_rule.waivable_by)} yang dapat "
                               f"mengesampingkan temuan {code}.")
        if len(reason) < 10:
            raise InvalidInput(f"Alasan mengesampingkan {code} wajib diisi (minimal 10 karakter).",
                               code="waiver_reason_missing", field="waive")


def _media_type(data: bytes) -> str:
    if data[:4] == b"PK\x03\x04":
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return "text/csv"


def _person_records(rows: pd.DataFrame) -> pd.DataFrame:
    people = pd.DataFrame({
        "no_kk": rows["no_kk"], "nik": rows["nik"], "nama": rows["nama"].str.slice(0, 150),
        "jenis_kelamin": rows["jenis_kelamin"], "hubungan": rows["hubungan"].str.slice(0, 40),
        "pekerjaan": rows["pekerjaan"].str.slice(0, 100),
        "tanggal_lahir": rows["tanggal_lahir_date"].dt.date.astype(object).where(rows["tanggal_lahir_date"].notna(),
                                                                                  None),
    })
    # The birth date as the content hash spells it (``str(date)``, ``None`` when missing), column-wise.
    born = np.datetime_as_string(rows["tanggal_lahir_date"].to_numpy().astype("datetime64[D]"))
    people["_born_text"] = pd.Series(np.where(born == "NaT", "None", born), index=rows.index, dtype="str")
    return people


def _family_records(rows: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """One row per No KK: the head's address (or the first member's), the family's desil, a content hash."""
    is_head = rows["hubungan"].str.lower().str.contains("kepala", na=False)
    ordered = rows.assign(_head=~is_head).sort_values(["_head", "row"], kind="stable")
    first = ordered.drop_duplicates("no_kk").set_index("no_kk")
    desil = rows.dropna(subset=["desil_num"]).groupby("no_kk")["desil_num"].first()
    families = pd.DataFrame({
        "id_dtsen": first["id_dtsen"].str.slice(0, 40), "alamat": first["alamat"].str.slice(0, 300),
        "rt": first["rt"].str.slice(0, 3), "rw": first["rw"].str.slice(0, 3),
    })
    families["desil"] = desil.reindex(families.index).astype("Int64")
    member_text = (people["nik"] + "|" + people["nama"] + "|" + people["jenis_kelamin"] + "|"
                   + people["_born_text"] + "|" + people["hubungan"] + "|" + people["pekerjaan"])
    members = _members_text(people["no_kk"].tolist(), member_text.tolist())
    desil_text = ["" if pd.isna(d) else str(d) for d in families["desil"].astype(object).tolist()]
    head_text = (families["id_dtsen"] + "|" + pd.Series(desil_text, index=families.index, dtype="str") + "|"
                 + families["alamat"] + "|" + families["rt"] + "|" + families["rw"])
    families["content_hash"] = [hashlib.sha256((h + "\n" + members[kk]).encode()).hexdigest()
                                for kk, h in zip(families.index.tolist(), head_text.tolist())]
    return families


def _members_text(kks: list[str], texts: list[str]) -> dict[str, str]:
    """Each family's member texts in sorted order, joined by newlines (the member part of its content hash).

    Plain lists: iterating Arrow-backed columns value by value costs microseconds each. Imported No KKs are all
    16 digits, so sorting ``kk + text`` strings gives the (kk, text) order at a third of the cost of tuples.
    """
    if any(len(kk) != 16 for kk in kks):
        grouped: dict[str, list[str]] = {}
        for kk, text in sorted(zip(kks, texts)):
            grouped.setdefault(kk, []).append(text)
        return {kk: "\n".join(members) for kk, members in grouped.items()}
    ordered = [key[16:] for key in sorted(map(operator.add, kks, texts))]
    sizes = Counter(kks)
    joined, start = {}, 0
    for kk in sorted(sizes):
        joined[kk] = "\n".join(ordered[start:start + sizes[kk]])
        start += sizes[kk]
    return joined


@contextmanager
def name_index_filled_in_bulk(conn: sa.Connection) -> Iterator[None]:
    """Persons inserted inside this block get their SQLite FTS5 name index entries at the end, all at once.

    The row trigger that keeps the index (migration 0002) makes FTS5 flush its pending terms at every statement;
    for a bulk insert it is dropped inside the caller's transaction and recreated from its own stored text, so a
    failure anywhere rolls the trigger back with everything else and other connections never see it missing.
    PostgreSQL's pg_trgm index needs nothing of this.
    """
    trigger = None
    if conn.dialect.name == "sqlite":
        trigger = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'person_fts_ai'").scalar()
    if trigger is None:
        yield
        return
    last_id = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM person").scalar_one()
    conn.exec_driver_sql("DROP TRIGGER person_fts_ai")
    try:
        yield
        conn.exec_driver_sql("INSERT INTO person_fts(rowid, nama) SELECT id, nama FROM person WHERE id > ?",
                             (last_id,))
    finally:
        conn.exec_driver_sql(trigger)


def _insert_persons(conn: sa.Connection, columns: dict[str, list]) -> None:
    with name_index_filled_in_bulk(conn):
        bulk_insert.insert_columns(conn, Person.__table__, columns)


def _chunks(values: list) -> Iterator[list]:
    """``values`` in slices short enough for one ``IN (…)`` list."""
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _apply(rows: pd.DataFrame, kelurahan_kode: str, record: RegisterImport, session: Session,
           progress: Progress) -> dict[str, int]:
    people = _person_records(rows)
    families = _family_records(rows, people)
    existing = {kk: (fid, h, status) for fid, kk, h, status in session.exec(
        select(Family.id, Family.no_kk, Family.content_hash, Family.status)
        .where(Family.kelurahan_kode == kelurahan_kode))}
    family_kk = families.index.tolist()
    family_hash = families["content_hash"].tolist()
    incoming = set(family_kk)
    new_kk = [kk for kk in family_kk if kk not in existing]
    changed_kk = [kk for kk, h in zip(family_kk, family_hash) if kk in existing
                  and (existing[kk][1] != h or existing[kk][2] != "aktif")]
    absent_kk = [kk for kk, (_, _, status) in existing.items() if kk not in incoming and status == "aktif"]
    now = utcnow()
    conn = session.connection()

    if new_kk:
        fresh = families.loc[new_kk] if len(new_kk) < len(families) else families
        n = len(fresh)
        bulk_insert.insert_columns(conn, Family.__table__, {
            "uuid": new_uuids(n), "kelurahan_kode": [kelurahan_kode] * n,
            "no_kk": fresh.index.tolist(), "id_dtsen": fresh["id_dtsen"].tolist(),
            "desil": [None if pd.isna(d) else int(d) for d in fresh["desil"].astype(object).tolist()],
            "alamat": fresh["alamat"].tolist(), "rt": fresh["rt"].tolist(), "rw": fresh["rw"].tolist(),
            "status": ["aktif"] * n, "content_hash": fresh["content_hash"].tolist(),
            "location_source": [""] * n, "location_note": [""] * n,
            "first_import_id": [record.id] * n, "last_import_id": [record.id] * n, "updated_at": [now] * n})
        ids = dict(conn.execute(sa.select(Family.no_kk, Family.id).where(
            Family.kelurahan_kode == kelurahan_kode, Family.first_import_id == record.id)).all())
        progress(0.6, "Menyimpan anggota keluarga…")
        kk_of = people["no_kk"].tolist()
        family_id = [ids.get(kk) for kk in kk_of]
        keep = [fid is not None for fid in family_id]
        members = people if all(keep) else people[keep]
        _insert_persons(conn, {
            "family_id": [fid for fid in family_id if fid is not None], "nik": members["nik"].tolist(),
            "nama": members["nama"].tolist(), "jenis_kelamin": members["jenis_kelamin"].tolist(),
            "tanggal_lahir": members["tanggal_lahir"].tolist(), "hubungan": members["hubungan"].tolist(),
            "pekerjaan": members["pekerjaan"].tolist(), "status": ["aktif"] * len(members)})
        bulk_insert.insert_columns(conn, RegisterChange.__table__, {
            "import_id": [record.id] * len(ids), "family_id": list(ids.values()), "change": ["baru"] * len(ids),
            "before": [None] * len(ids), "after": [None] * len(ids)})

    faultpoint("dtsen.rows_flushed")  # part of the rows written inside the transaction (tests/fault)
    progress(0.8, "Memperbarui keluarga yang berubah…")
    if changed_kk:
        _update_families([existing[kk][0] for kk in changed_kk], changed_kk, families, people, record, conn, now,
                         progress)

    if absent_kk:
        absent_ids = [existing[kk][0] for kk in absent_kk]
        for chunk in _chunks(absent_ids):
            conn.execute(sa.update(Family).where(Family.id.in_(chunk)).values(status="absen", updated_at=now))
        conn.execute(sa.insert(RegisterChange), [
            {"import_id": record.id, "family_id": fid, "change": "absen", "before": json.dumps({"status": "aktif"}),
             "after": json.dumps({"status": "absen"})} for fid in absent_ids])

    changed = set(changed_kk)
    unchanged = [existing[kk][0] for kk in families.index if kk in existing and kk not in changed]
    for chunk in _chunks(unchanged):
        conn.execute(sa.update(Family).where(Family.id.in_(chunk))
                     .values(last_import_id=record.id))
    return {"new": len(new_kk), "changed": len(changed_kk), "absent": len(absent_kk), "unchanged": len(unchanged)}


_PERSON_COLUMNS = ("id", "family_id", "nik", "nama", "jenis_kelamin", "tanggal_lahir", "hubungan", "pekerjaan",
                   "status")
_UPDATED_FIELDS = ("nama", "jenis_kelamin", "tanggal_lahir", "hubungan", "pekerjaan")  # nama first
_PROGRESS_EVERY = 2000  # changed families between two progress messages


def _update_families(family_ids: list[int], kks: list[str], families: pd.DataFrame, people: pd.DataFrame,
                     record: RegisterImport, conn: sa.Connection, now, progress: Progress) -> None:
    """Families whose content changed (or that come back from ``absen``): their fields, their members (updated by
    NIK, new ones added, missing ones marked ``absen``) and one history row each with the before and after
    snapshots — in a few statements for all of them: a round trip per family took minutes when a newer extract
    moved the desil of every family."""
    before_family, current = _current_rows(conn, family_ids)
    incoming: dict[str, list] = {kk: [] for kk in kks}
    mine = people[people["no_kk"].isin(incoming)]
    for member in zip(*(mine[c].tolist() for c in ("no_kk", *PERSON_FIELDS))):
        incoming[member[0]].append(dict(zip(PERSON_FIELDS, member[1:])))
    rows = families.loc[kks]
    updated = zip(rows["id_dtsen"].tolist(), rows["alamat"].tolist(), rows["rt"].tolist(), rows["rw"].tolist(),
                  [None if pd.isna(d) else int(d) for d in rows["desil"].astype(object).tolist()],
                  rows["content_hash"].tolist())
    changes = _Changes()
    total = len(family_ids)
    for done, (family_id, kk, (id_dtsen, alamat, rt, rw, desil, content_hash)) in enumerate(
            zip(family_ids, kks, updated)):
        if done % _PROGRESS_EVERY == 0 and total > _PROGRESS_EVERY:  # when every family changed: seconds
            progress(0.8 + 0.08 * done / total,
                     f"Memperbarui keluarga yang berubah… {angka(done)} dari {angka(total)}")
        old, members = before_family[family_id], current[family_id]
        before = _snapshot(old, members)
        fields = {"id_dtsen": id_dtsen, "alamat": alamat, "rt": rt, "rw": rw, "desil": desil}
        changes.families.append({"b_id": family_id, **fields, "content_hash": content_hash})
        changes.members(family_id, members, incoming[kk])
        changes.history.append((family_id, "kembali" if old["status"] != "aktif" else "berubah",
                                json.dumps(before, ensure_ascii=False, default=str),
                                json.dumps(_snapshot({**fields, "status": "aktif"}, members), ensure_ascii=False,
                                           default=str)))
    changes.write(conn, record, now)


def _current_rows(conn: sa.Connection, family_ids: list[int]) -> tuple[dict[int, dict], dict[int, list[dict]]]:
    """The families' stored fields and their members (all statuses), as plain dicts."""
    person_table, family_table = Person.__table__, Family.__table__
    families: dict[int, dict] = {}
    members: dict[int, list[dict]] = {fid: [] for fid in family_ids}
    for chunk in _chunks(family_ids):
        stored = sa.select(family_table.c.id, family_table.c.status, *[family_table.c[f] for f in FAMILY_FIELDS])
        for row in conn.execute(stored.where(family_table.c.id.in_(chunk))).mappings().all():
            families[row["id"]] = dict(row)
        # No ORDER BY: with one, SQLite walked the whole person table in id order instead of using the family_id
        # index (4.8 s instead of 1.6 s for 30,300 families).
        stored = sa.select(*[person_table.c[c] for c in _PERSON_COLUMNS])
        for row in conn.execute(stored.where(person_table.c.family_id.in_(chunk))).mappings().all():
            members[row["family_id"]].append(dict(row))
    return families, members


@dataclass
class _Changes:
    """What a re-import writes for its changed families, gathered first and then written in bulk."""

    families: list[dict] = field(default_factory=list)
    persons: list[dict] = field(default_factory=list)  # members whose data changed, name unchanged
    renamed: list[dict] = field(default_factory=list)  # members whose name changed
    absent: list[int] = field(default_factory=list)
    added: dict[str, list] = field(default_factory=lambda: {c: [] for c in _PERSON_COLUMNS[1:]})
    history: list[tuple] = field(default_factory=list)

    def members(self, family_id: int, members: list[dict], incoming: list[dict]) -> None:
        """Match the extract's members to the stored ones by NIK; ``members`` becomes the family after import."""
        by_nik = {m["nik"]: m for m in members}
        seen = set()
        for member in incoming:
            seen.add(member["nik"])
            person = by_nik.get(member["nik"])
            if person is None:
                person = {"family_id": family_id, **member, "status": "aktif"}
                members.append(person)
                for column, values in self.added.items():
                    values.append(person[column])
            elif any(person[f] != member[f] for f in _UPDATED_FIELDS) or person["status"] != "aktif":
                # Only members that differ are written, and the name only when it changed: the FTS5 trigger
                # re-indexes a name whenever ``nama`` is in the SET list, even with the same value.
                renamed = person["nama"] != member["nama"]
                person.update(member, status="aktif")
                fields = _UPDATED_FIELDS if renamed else _UPDATED_FIELDS[1:]
                (self.renamed if renamed else self.persons).append(
                    {"b_id": person["id"], **{f: member[f] for f in fields}})
        for person in members:
            if person["nik"] not in seen and person["status"] != "absen":
                person["status"] = "absen"
                self.absent.append(person["id"])

    def write(self, conn: sa.Connection, record: RegisterImport, now) -> None:
        person_table, family_table = Person.__table__, Family.__table__
        conn.execute(sa.update(family_table).where(family_table.c.id == sa.bindparam("b_id")).values(
            status="aktif", last_import_id=record.id, updated_at=now), self.families)
        for updates in (self.persons, self.renamed):
            if updates:
                conn.execute(sa.update(person_table).where(person_table.c.id == sa.bindparam("b_id")).values(
                    status="aktif"), updates)
        for chunk in _chunks(self.absent):
            conn.execute(sa.update(person_table).where(person_table.c.id.in_(chunk)).values(status="absen"))
        if self.added["family_id"]:
            _insert_persons(conn, self.added)
        bulk_insert.insert_columns(conn, RegisterChange.__table__, {
            "import_id": [record.id] * len(self.history), "family_id": [h[0] for h in self.history],
            "change": [h[1] for h in self.history], "before": [h[2] for h in self.history],
            "after": [h[3] for h in self.history]})


def _snapshot(family: dict, members: list[dict]) -> dict:
    """A family as the register history keeps it (before and after a change): its fields and status, and its
    members sorted by NIK with their values as text."""
    return {
        **{f: family[f] for f in FAMILY_FIELDS}, "status": family["status"],
        "anggota": [{f: (str(m[f]) if m[f] is not None else None) for f in PERSON_FIELDS} | {"status": m["status"]}
                    for m in sorted(members, key=lambda m: m["nik"])],
    }


def _record_flags(problems: pd.DataFrame, rows: pd.DataFrame, waive: dict[str, str], kelurahan_kode: str,
                  record: RegisterImport, actor: Actor, session: Session) -> None:
    """Warnings (and waived blocking findings) on imported rows become register flags.

    A finding that is already open stays the same flag; one that somebody already closed with a note stays
    closed; an open flag whose finding is gone is closed with a note naming this import.
    """
    conn = session.connection()
    now = utcnow()
    imported_rows = set(rows["row"])
    keep = problems[problems["row"].isin(imported_rows)
                    & ((problems["severity"] == screening.WARNING) | problems["code"].isin(list(waive)))]
    keep = keep[keep["code"] != "row_duplicate"]
    ids = dict(session.exec(select(Family.no_kk, Family.id).where(Family.kelurahan_kode == kelurahan_kode)).all())
    existing = {(f.code, f.family_id, f.nik): f for f in session.exec(
        select(Flag).where(Flag.kelurahan_kode == kelurahan_kode, Flag.source == "register")).all()}
    found = set()
    new_flags = []
    for p in keep.itertuples(index=False):
        key = (p.code, ids.get(p.no_kk), p.nik if len(p.nik) <= 16 else "")
        if key in found:
            continue
        found.add(key)
        if key in existing and (existing[key].status == "open" or existing[key].resolved_by != "import"):
            continue
        waived = p.code in waive
        new_flags.append({
            "uuid": new_uuid(), "code": p.code, "severity": p.severity, "kelurahan_kode": kelurahan_kode,
            "family_id": key[1], "nik": key[2], "message": p.message, "source": "register", "import_id": record.id,
            "status": "waived" if waived else "open", "resolved_by": actor.username if waived else "",
            "resolution_note": waive.get(p.code, ""), "created_at": now, "resolved_at": now if waived else None})
    gone = [f.id for key, f in existing.items() if f.status == "open" and key not in found]
    for chunk in _chunks(gone):
        conn.execute(sa.update(Flag).where(Flag.id.in_(chunk)).values(
            status="resolved", resolved_by="import", resolved_at=now,
            resolution_note=f"Tidak ditemukan lagi pada impor ekstrak #{record.id}."))
    if new_flags:
        conn.execute(sa.insert(Flag), new_flags)
    for code, reason in waive.items():
        n = int((keep["code"] == code).sum())
        if n:
            audit.record(session, actor, "flag.waived", object_type="register_import", object_id=record.uuid,
                         wilayah_kode=kelurahan_kode, after={"kode": code, "jumlah": n, "alasan": reason})
