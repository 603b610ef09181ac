"""Cells for spreadsheets people open in Excel: text stays text, never a formula.

Names, addresses and reasons are typed by users; a value that starts with "=", "+", "-" or "@" would run as a
formula in Excel (CSV and XLSX alike). Text cells are written as strings and such values get a leading
apostrophe, which Excel shows as nothing.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_row(values) -> list:
    return [safe(v) for v in values]


def as_text(sheet, min_row: int = 2) -> None:
    """Mark every string cell of an openpyxl sheet as a string (openpyxl would store "=…" as a formula)."""
    for row in sheet.iter_rows(min_row=min_row):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
