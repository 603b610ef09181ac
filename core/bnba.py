"""The by-name-by-address (BNBA) list of a musyawarah's proposals as XLSX: one row per affected person."""

from __future__ import annotations

import io

import pandas as pd
from sqlmodel import Session

from core import audit, wilayah
from core.access import Actor
from core.meetings import get_meeting
from core.proposals import JENIS, KEPUTUSAN, NONAKTIF_REASONS, list_proposals
from core.spreadsheet import safe

COLUMNS = ["No", "Jenis usulan", "Alasan", "NIK", "No KK", "Nama", "Jenis kelamin", "Tanggal lahir",
           "Hubungan keluarga", "Alamat", "RT", "RW", "Kelurahan", "Kecamatan", "Kota/Kabupaten", "Desil", "Program",
           "Keputusan", "Catatan"]


def rows(meeting_id: int, *, actor: Actor, session: Session) -> pd.DataFrame:
    meeting = get_meeting(meeting_id, actor=actor, session=session)
    chain = {w.tingkat: w.nama for w in wilayah.lineage(session, meeting.kelurahan_kode)}
    kota = chain.get("kota") or chain.get("kabupaten") or ""
    records = []
    for item in list_proposals(meeting_id, actor=actor, session=session):
        reason = NONAKTIF_REASONS.get(item["alasan_nonaktif"], "") if item["jenis"] == "nonaktif" else ""
        alasan = "; ".join(x for x in (reason, item["alasan"]) if x)
        for m in item["anggota"]:
            records.append({
                "No": len(records) + 1, "Jenis usulan": JENIS[item["jenis"]], "Alasan": alasan, "NIK": m["nik"],
                "No KK": item["no_kk"], "Nama": m["nama"], "Jenis kelamin": m["jenis_kelamin"],
                "Tanggal lahir": m["tanggal_lahir"].strftime("%d/%m/%Y") if m["tanggal_lahir"] else "",
                "Hubungan keluarga": m["hubungan"], "Alamat": item["alamat"], "RT": item["rt"], "RW": item["rw"],
                "Kelurahan": chain.get("kelurahan", ""), "Kecamatan": chain.get("kecamatan", ""),
                "Kota/Kabupaten": kota, "Desil": item["desil"] if item["desil"] is not None else "",
                "Program": ", ".join(item["programs"]), "Keputusan": KEPUTUSAN.get(item["keputusan"], ""),
                "Catatan": item["catatan_keputusan"],
            })
    return pd.DataFrame(records, columns=COLUMNS)


def xlsx(meeting_id: int, *, actor: Actor, session: Session) -> bytes:
    """Every cell written as text (NIK and No KK stay 16 digits when opened in Excel); the export is audited."""
    meeting = get_meeting(meeting_id, actor=actor, session=session)
    frame = rows(meeting_id, actor=actor, session=session).astype(str).map(safe)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="BNBA", startrow=2)
        sheet = writer.sheets["BNBA"]
        sheet.cell(row=1, column=1, value=f"Daftar usulan (BNBA) musyawarah {wilayah.describe(session, meeting.kelurahan_kode)}"
                                          f" periode {meeting.periode}")
        for row in sheet.iter_rows(min_row=4):
            for cell in row:
                cell.number_format = "@"
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    audit.record(session, actor, "proposal.exported", object_type="musyawarah", object_id=meeting.uuid,
                 wilayah_kode=meeting.kelurahan_kode, after={"baris": len(frame), "format": "xlsx"})
    return buffer.getvalue()
