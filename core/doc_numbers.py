"""Document numbers: each office's pattern per document type and a running number that never repeats.

The running number is taken under a row lock on the office's counter (SQLite serialises writers already with
``BEGIN IMMEDIATE``); the registry's unique (office, type, number) constraint is the last line of defence. The
counter restarts each year only when the pattern shows the year, so two documents can never share a number.
"""

from __future__ import annotations

import string

import sqlalchemy as sa
from sqlmodel import Session

from core import audit, wilayah
from core.access import Action, Actor, require
from core.errors import InvalidInput, StaleEdit
from core.models import NumberCounter, NumberPattern
from core.timefmt import utcnow

DOC_TYPES = {
    "berita_acara": "Berita Acara Musyawarah Kelurahan",
    "sptjm": "Surat Pernyataan Tanggung Jawab Mutlak (SPTJM)",
    "bast_kelurahan": "BAST Lurah kepada Camat",
    "bast_kecamatan": "BAST Camat kepada Walikota/Bupati",
    "pengesahan": "Pengesahan Walikota/Bupati",
    "laporan_triwulan": "Laporan Triwulan",
}
SHORT = {"berita_acara": "BA", "sptjm": "SPTJM", "bast_kelurahan": "BAST", "bast_kecamatan": "BAST",
         "pengesahan": "PENGESAHAN", "laporan_triwulan": "LAP-TW"}
PLACEHOLDERS = ("nomor", "kode_kelurahan", "kode_kecamatan", "kode_kota", "kode_wilayah", "bulan_romawi", "bulan",
                "tahun")
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


def default_pattern(doc_type: str) -> str:
    return "{nomor}/" + SHORT[doc_type] + "/MUSKEL/{kode_wilayah}/{bulan_romawi}/{tahun}"


MAX_PATTERN = 120  # a rendered number is never longer than its pattern, and the registry holds 120 characters


def check_pattern(pattern: str) -> None:
    try:
        parsed = [(n, spec, conv) for _, n, spec, conv in string.Formatter().parse(pattern) if n is not None]
    except ValueError as exc:
        raise InvalidInput("Pola nomor: kurung kurawal tidak berpasangan.", code="number_pattern_braces",
                           field="pattern") from exc
    if any(spec or conv for _, spec, conv in parsed):
        raise InvalidInput("Pola nomor: tulis placeholder tanpa format tambahan, misalnya {nomor}, bukan {nomor:04d}.",
                           code="number_pattern_format", field="pattern")
    names = [n for n, _, _ in parsed]
    if "nomor" not in names:
        raise InvalidInput("Pola nomor harus memuat {nomor} (nomor urut), misalnya "
                           "{nomor}/BA/MUSKEL/{kode_kelurahan}/{bulan_romawi}/{tahun}.", code="number_pattern_no_seq",
                           field="pattern")
    unknown = sorted(set(names) - set(PLACEHOLDERS))
    if unknown:
        raise InvalidInput(f"Pola nomor memuat placeholder tidak dikenal: {', '.join(unknown)}. Yang tersedia: "
                           f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)}.", code="number_pattern_unknown",
                           field="pattern")
    if len(pattern) > MAX_PATTERN:
        raise InvalidInput(f"Pola nomor terlalu panjang (paling banyak {MAX_PATTERN} karakter).",
                           code="number_pattern_long", field="pattern")


def pattern_for(wilayah_kode: str, doc_type: str, *, session: Session) -> str:
    row = session.get(NumberPattern, (wilayah_kode, doc_type))
    return row.pattern if row else default_pattern(doc_type)


def patterns(wilayah_kode: str, *, session: Session) -> list[dict]:
    out = []
    for doc_type, label in DOC_TYPES.items():
        row = session.get(NumberPattern, (wilayah_kode, doc_type))
        out.append({"doc_type": doc_type, "label": label, "pattern": row.pattern if row else default_pattern(doc_type),
                    "version": row.version if row else 0})
    return out


def update_pattern(wilayah_kode: str, doc_type: str, pattern: str, *, expected_version: int, actor: Actor,
                   session: Session) -> None:
    require(actor, Action.OFFICE_MANAGE, wilayah_kode)
    wilayah.get(session, wilayah_kode)
    if doc_type not in DOC_TYPES:
        raise InvalidInput(f"Jenis dokumen '{doc_type}' tidak dikenal.", code="unknown_doc_type", field="doc_type")
    pattern = pattern.strip()
    check_pattern(pattern)
    row = session.get(NumberPattern, (wilayah_kode, doc_type), with_for_update=True, populate_existing=True)
    if (row.version if row else 0) != expected_version:
        raise StaleEdit("Pola nomor ini telah diubah orang lain sejak dibuka. Muat ulang lalu ulangi.")
    before = row.pattern if row else default_pattern(doc_type)
    row = row or NumberPattern(wilayah_kode=wilayah_kode, doc_type=doc_type, pattern=pattern, version=0,
                               updated_by=actor.username)
    row.pattern, row.version, row.updated_by, row.updated_at = pattern, row.version + 1, actor.username, utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, "number_pattern.updated", object_type="office", object_id=wilayah_kode,
                 wilayah_kode=wilayah_kode, before={"jenis": doc_type, "pola": before},
                 after={"jenis": doc_type, "pola": pattern})


def format_number(pattern: str, seq: int, wilayah_kode: str, *, bulan: int, tahun: int) -> str:
    parts = wilayah_kode.split(".")
    return pattern.format(
        nomor=f"{seq:03d}", kode_wilayah=wilayah_kode, kode_kelurahan=wilayah_kode if len(parts) == 4 else "",
        kode_kecamatan=".".join(parts[:3]) if len(parts) >= 3 else "", kode_kota=".".join(parts[:2]),
        bulan_romawi=ROMAN[bulan - 1], bulan=f"{bulan:02d}", tahun=str(tahun))


def next_number(wilayah_kode: str, doc_type: str, *, bulan: int, tahun: int, session: Session) -> str:
    """Take the office's next running number for ``doc_type`` (inside the caller's transaction)."""
    pattern = pattern_for(wilayah_kode, doc_type, session=session)
    year_key = tahun if "{tahun}" in pattern else 0
    key = {"wilayah_kode": wilayah_kode, "doc_type": doc_type, "tahun": year_key}
    table = NumberCounter.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
        session.execute(insert(table).values(**key, last=0).on_conflict_do_nothing())
    elif session.get(NumberCounter, (wilayah_kode, doc_type, year_key)) is None:
        session.execute(sa.insert(table).values(**key, last=0))
    from core.models import Document

    # A pattern edited by hand (say the year typed in) can render a number already given: skip it, never repeat.
    for _ in range(10000):
        seq = session.execute(
            sa.update(table).where(table.c.wilayah_kode == wilayah_kode, table.c.doc_type == doc_type,
                                   table.c.tahun == year_key).values(last=table.c.last + 1).returning(table.c.last)
        ).scalar_one()
        number = format_number(pattern, seq, wilayah_kode, bulan=bulan, tahun=tahun)
        taken = session.execute(sa.select(Document.id).where(Document.wilayah_kode == wilayah_kode,
                                                             Document.doc_type == doc_type,
                                                             Document.nomor == number)).first()
        if taken is None:
            return number
    raise InvalidInput("Pola nomor ini tidak lagi menghasilkan nomor baru; ubah polanya.", code="number_exhausted")
