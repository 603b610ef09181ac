"""The ratified result for Dinas Sosial and the Walikota's office: XLSX in the SIKS-NG upload layout (a sheet per
proposal type, columns configurable per kota) and CSV. Every export is audited: it carries full NIKs."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import Workbook
from sqlmodel import Session, select

from core import audit, wilayah
from core.access import Action, Actor, require, scope_filter
from core.errors import InvalidInput, StaleEdit
from core.models import Batch, KotaSetting, Proposal, ProposalMember
from core.proposals import JENIS, NONAKTIF_REASONS
from core.spreadsheet import as_text, safe_row
from core.timefmt import utcnow

SOURCES = {"nik": "NIK", "no_kk": "No KK", "nama": "Nama", "jenis_kelamin": "Jenis kelamin",
           "tanggal_lahir": "Tanggal lahir (DD-MM-YYYY)", "hubungan": "Hubungan keluarga", "alamat": "Alamat",
           "rt": "RT", "rw": "RW", "kode_kelurahan": "Kode Kemendagri kelurahan", "kelurahan": "Kelurahan",
           "kecamatan": "Kecamatan", "kota": "Kota/Kabupaten", "desil": "Desil", "jenis_usulan": "Jenis usulan",
           "alasan": "Alasan", "program": "Program", "periode": "Periode", "batch_id": "ID pengajuan"}
DEFAULT_COLUMNS = [("nik", "NIK"), ("no_kk", "NO_KK"), ("nama", "NAMA"), ("jenis_kelamin", "JENIS_KELAMIN"),
                   ("tanggal_lahir", "TGL_LAHIR"), ("hubungan", "HUB_KELUARGA"), ("alamat", "ALAMAT"), ("rt", "RT"),
                   ("rw", "RW"), ("kode_kelurahan", "KODE_WILAYAH"), ("kelurahan", "KELURAHAN"),
                   ("kecamatan", "KECAMATAN"), ("kota", "KABUPATEN_KOTA"), ("desil", "DESIL"),
                   ("jenis_usulan", "JENIS_USULAN"), ("alasan", "ALASAN"), ("program", "PROGRAM")]


def columns_for(kota_kode: str, session: Session) -> list[tuple[str, str]]:
    row = session.get(KotaSetting, kota_kode)
    stored = json.loads(row.settings).get("kolom_siks_ng") if row else None
    return [tuple(c) for c in stored] if stored else list(DEFAULT_COLUMNS)


def parse_columns(text: str) -> list[tuple[str, str]]:
    """``sumber=JUDUL`` per line; refused with the line number when a source is unknown or a title is empty."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        source, _, header = line.partition("=")
        source, header = source.strip(), header.strip()
        if source not in SOURCES:
            raise InvalidInput(f"Baris {n}: sumber '{source}' tidak dikenal. Pilihan: {', '.join(SOURCES)}.",
                               code="column_source_unknown", field="kolom")
        if not header:
            raise InvalidInput(f"Baris {n}: judul kolom untuk '{source}' kosong.", code="column_header_empty",
                               field="kolom")
        out.append((source, header))
    if not any(s == "nik" for s, _ in out):
        raise InvalidInput("Susunan kolom harus memuat nik.", code="column_nik_missing", field="kolom")
    return out


def set_columns(kota_kode: str, columns: list[tuple[str, str]], *, expected_version: int, actor: Actor,
                session: Session) -> None:
    require(actor, Action.KOTA_SETTINGS, kota_kode)
    row = session.get(KotaSetting, kota_kode, with_for_update=True, populate_existing=True)
    if (row.version if row else 0) != expected_version:
        raise StaleEdit("Aturan kota ini telah diubah orang lain sejak dibuka. Muat ulang lalu ulangi.")
    settings = json.loads(row.settings) if row else {}
    before = settings.get("kolom_siks_ng")
    settings["kolom_siks_ng"] = [list(c) for c in columns]
    row = row or KotaSetting(kota_kode=kota_kode, settings="{}", version=0)
    row.settings, row.version, row.updated_at = json.dumps(settings), row.version + 1, utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, "kota.export_columns_changed", object_type="kota", object_id=kota_kode,
                 wilayah_kode=kota_kode, before={"kolom": before}, after={"kolom": settings["kolom_siks_ng"]})


def ratified_rows(scope_kode: str, periode: str, *, actor: Actor, session: Session) -> list[dict]:
    """One row per member of every ratified item of the ratified batches under a wilayah in a period."""
    require(actor, Action.RESULT_EXPORT, scope_kode)
    stmt = (select(Proposal, ProposalMember, Batch.id).join(ProposalMember, ProposalMember.proposal_id == Proposal.id)
            .join(Batch, Batch.musyawarah_id == Proposal.musyawarah_id)
            .where(scope_filter(Batch.kelurahan_kode, scope_kode), Batch.periode == periode,
                   Batch.state == "disahkan", Proposal.status == "disahkan")
            .order_by(Proposal.kelurahan_kode, Proposal.urutan, ProposalMember.id))
    result = session.exec(stmt).all()
    codes = {p.kelurahan_kode for p, _, _ in result}
    places = {}
    for code in codes:
        chain = {w.tingkat: w.nama for w in wilayah.lineage(session, code)}
        places[code] = (chain.get("kelurahan", ""), chain.get("kecamatan", ""),
                        chain.get("kota") or chain.get("kabupaten", ""))
    rows = []
    for p, m, batch_id in result:
        kel, kec, kota = places[p.kelurahan_kode]
        alasan = NONAKTIF_REASONS.get(p.alasan_nonaktif, p.alasan_nonaktif) if p.jenis == "nonaktif" else p.alasan
        rows.append({"nik": m.nik, "no_kk": p.no_kk, "nama": m.nama, "jenis_kelamin": m.jenis_kelamin,
                     "tanggal_lahir": m.tanggal_lahir.strftime("%d-%m-%Y") if m.tanggal_lahir else "",
                     "hubungan": m.hubungan, "alamat": p.alamat, "rt": p.rt, "rw": p.rw,
                     "kode_kelurahan": p.kelurahan_kode, "kelurahan": kel, "kecamatan": kec, "kota": kota,
                     "desil": "" if p.desil is None else str(p.desil), "jenis_usulan": p.jenis,
                     "jenis_label": JENIS[p.jenis], "alasan": alasan, "program": ", ".join(json.loads(p.programs)),
                     "periode": periode, "batch_id": str(batch_id)})
    return rows


def _audit_export(actor: Actor, session: Session, scope_kode: str, periode: str, fmt: str, n: int) -> None:
    audit.record(session, actor, "result.exported", object_type="wilayah", object_id=scope_kode,
                 wilayah_kode=scope_kode, after={"periode": periode, "format": fmt, "baris": n})


def xlsx(scope_kode: str, periode: str, *, actor: Actor, session: Session) -> bytes:
    """A sheet per proposal type; every cell text, so NIK and No KK keep their 16 digits in Excel."""
    rows = ratified_rows(scope_kode, periode, actor=actor, session=session)
    columns = columns_for(wilayah.kota_code(scope_kode) if scope_kode.count(".") else scope_kode, session)
    book = Workbook()
    book.remove(book.active)
    for jenis, label in JENIS.items():
        sheet = book.create_sheet(title=label[:31])
        sheet.append([header for _, header in columns])
        for row in rows:
            if row["jenis_usulan"] == jenis:
                sheet.append(safe_row(row[source] for source, _ in columns))
        as_text(sheet)
        for line in sheet.iter_rows(min_row=2):
            for cell in line:
                cell.number_format = "@"
    buffer = io.BytesIO()
    book.save(buffer)
    _audit_export(actor, session, scope_kode, periode, "xlsx", len(rows))
    return buffer.getvalue()


def csv_bytes(scope_kode: str, periode: str, *, actor: Actor, session: Session) -> bytes:
    """The same rows in the kota's configured columns, plus the proposal type (all types in one file)."""
    rows = ratified_rows(scope_kode, periode, actor=actor, session=session)
    columns = columns_for(wilayah.kota_code(scope_kode) if scope_kode.count(".") else scope_kode, session)
    if not any(source == "jenis_usulan" for source, _ in columns):
        columns = [*columns, ("jenis_usulan", "JENIS_USULAN")]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for _, header in columns])
    writer.writerows([safe_row(row[source] for source, _ in columns) for row in rows])
    _audit_export(actor, session, scope_kode, periode, "csv", len(rows))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
