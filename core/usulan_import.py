"""Imported usul/sanggah lists (Cek Bansos, walk-ins, PKSP): rows of NIK/KK, name, address, type, reason, source
put on a musyawarah's agenda in one go — all rows or none, every problem named by its spreadsheet row."""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session, select

from core import dtsen_file
from core.access import Actor
from core.errors import InvalidInput, MuskelError
from core.meetings import _open_meeting
from core.models import Family, Person
from core.proposals import JENIS, SUMBER, add_from_register, add_new_family

SYNONYMS = {
    "nik": ("nik", "nomornik", "noktp"), "no_kk": ("nokk", "nomorkk", "kk"), "nama": ("nama", "namalengkap"),
    "alamat": ("alamat",), "rt": ("rt",), "rw": ("rw",), "jenis": ("jenis", "jenisusulan", "tipe", "type"),
    "alasan": ("alasan", "keterangan", "reason"), "sumber": ("sumber", "source", "asal"),
}
JENIS_WORDS = {"baru": "baru", "usul": "baru", "usulan baru": "baru", "perbaikan": "perbaikan",
               "nonaktif": "nonaktif", "sanggah": "nonaktif", "prioritas_program": "prioritas_program",
               "prioritas program": "prioritas_program"}
SUMBER_WORDS = {**{k: k for k in SUMBER}, "cek bansos": "cek_bansos", "walk in": "walk_in", "datang": "walk_in",
                "sdm pkh": "sdm_pkh"}


def import_list(meeting_id: int, data: bytes, filename: str, *, actor: Actor, session: Session) -> dict:
    """Returns {"added": n, "problems": [{"row", "column", "message"}]}; with any problem nothing is added."""
    meeting = _open_meeting(meeting_id, actor, session)
    extract = dtsen_file.read(data, filename)
    lookup = {syn: field for field, syns in SYNONYMS.items() for syn in syns}
    columns = {dtsen_file.normalise_name(c): c for c in extract.frame.columns}
    source = {field: columns[syn] for syn, field in lookup.items() if syn in columns}
    if "nik" not in source and "no_kk" not in source:
        raise InvalidInput("Daftar usul/sanggah memerlukan kolom NIK atau No KK.", code="columns_missing",
                           field="berkas")
    frame = pd.DataFrame({f: extract.frame[c] if c else "" for f, c in
                          ((f, source.get(f)) for f in SYNONYMS)}).fillna("")
    problems, added = [], 0
    savepoint = session.begin_nested()
    for number, row in zip(extract.sheet_rows(), frame.itertuples(index=False)):
        jenis = JENIS_WORDS.get(str(row.jenis).strip().lower(), "baru" if not str(row.jenis).strip() else None)
        sumber = SUMBER_WORDS.get(str(row.sumber).strip().lower(), "cek_bansos" if not str(row.sumber).strip()
                                  else "lainnya")
        if jenis is None:
            problems.append({"row": number, "column": source.get("jenis", "jenis"),
                             "message": f"Jenis {row.jenis!r} tidak dikenal: {', '.join(JENIS)}."})
            continue
        try:
            family = _family_for(meeting.kelurahan_kode, row.no_kk.strip(), row.nik.strip(), session)
            if family is not None:
                niks = [row.nik.strip()] if row.nik.strip() else None
                add_from_register(meeting.id, family.id, jenis=jenis, member_niks=niks, sumber=sumber,
                                  alasan=row.alasan, alasan_nonaktif="lainnya" if jenis == "nonaktif" else "",
                                  actor=actor, session=session)
            else:
                add_new_family(meeting.id, no_kk=row.no_kk, alamat=row.alamat, rt=row.rt, rw=row.rw,
                               members=[{"nik": row.nik, "nama": row.nama}], jenis=jenis, sumber=sumber,
                               alasan=row.alasan, actor=actor, session=session)
            added += 1
        except MuskelError as exc:
            problems.append({"row": number, "column": exc.field or "", "message": exc.message})
    if problems:
        savepoint.rollback()
        return {"added": 0, "problems": problems}
    savepoint.commit()
    return {"added": added, "problems": []}


def _family_for(kelurahan_kode: str, no_kk: str, nik: str, session: Session) -> Family | None:
    if no_kk:
        found = session.exec(select(Family).where(Family.kelurahan_kode == kelurahan_kode,
                                                  Family.no_kk == no_kk)).first()
        if found:
            return found
    if nik:
        return session.exec(select(Family).join(Person, Person.family_id == Family.id)
                            .where(Family.kelurahan_kode == kelurahan_kode, Person.nik == nik)).first()
    return None
