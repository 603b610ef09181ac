"""The import's problem list as a downloadable XLSX (generators return bytes; pages only offer them)."""

from __future__ import annotations

import io

import pandas as pd

from core.screening import RULES

SEVERITY_TEXT = {"blocking": "penghalang", "warning": "peringatan"}


def problems_table(problems: pd.DataFrame) -> pd.DataFrame:
    """Indonesian column names, as shown on screen and in the download; blocking problems first."""
    problems = problems.assign(_order=(problems["severity"] != "blocking")).sort_values(["_order", "row"],
                                                                                           kind="stable")
    return pd.DataFrame({
        "Baris": problems["row"].astype(int), "Kolom": problems["column"], "Kode": problems["code"],
        "Jenis": problems["severity"].map(SEVERITY_TEXT), "Temuan": problems["code"].map(
            lambda c: RULES[c].title if c in RULES else c), "Penjelasan": problems["message"],
    })


def problems_xlsx(problems: pd.DataFrame, filename: str) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        problems_table(problems).to_excel(writer, index=False, sheet_name="Masalah", startrow=2)
        sheet = writer.sheets["Masalah"]
        sheet.cell(row=1, column=1, value=f"Hasil pemeriksaan ekstrak DTSEN: {filename}")
        for column, width in zip("ABCDEF", (8, 16, 22, 12, 34, 110)):
            sheet.column_dimensions[column].width = width
    return buffer.getvalue()
