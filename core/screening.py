"""Pre-screening of register data: every check is a flag with a stable code, a severity and Indonesian text.

Used on import (whole extracts, column-wise with pandas, so 100,000 rows take well under a second) and, as later
features arrive, on proposal entry and before submission. python-stdnum is the oracle for NIK structure: the
column-wise check here gives the same verdict as ``stdnum.id.nik.is_valid`` (a property test holds it to that).
"""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from stdnum import numdb

from core.access import Role

BLOCKING, WARNING = "blocking", "warning"


@dataclass(frozen=True)
class FlagRule:
    code: str
    severity: str
    title: str  # short Indonesian name of the check
    resolution: str  # who may resolve or waive it, and how
    waivable_by: frozenset[Role] = frozenset()  # blocking flags that these roles may waive with a reason
    note_by: frozenset[Role] = frozenset()  # warnings these roles close with a note


_KEL = frozenset({Role.OPERATOR, Role.LURAH})

RULES: dict[str, FlagRule] = {r.code: r for r in [
    FlagRule("required_missing", BLOCKING, "Kolom wajib kosong", "perbaiki berkas lalu impor ulang"),
    FlagRule("nik_invalid", BLOCKING, "NIK tidak valid", "perbaiki berkas lalu impor ulang"),
    FlagRule("nik_excel_float", BLOCKING, "NIK/No KK dirusak Excel", "format kolom sebagai Teks, isi ulang angkanya"),
    FlagRule("kk_invalid", BLOCKING, "No KK tidak valid", "perbaiki berkas lalu impor ulang"),
    FlagRule("nik_duplicate", BLOCKING, "NIK ganda dalam satu KK", "perbaiki berkas lalu impor ulang"),
    FlagRule("nik_in_two_kk", BLOCKING, "NIK di dua KK", "perbaiki berkas, atau Lurah mengesampingkan dengan alasan",
             waivable_by=frozenset({Role.LURAH})),
    FlagRule("desil_conflict", BLOCKING, "Desil berbeda dalam satu KK", "perbaiki berkas lalu impor ulang"),
    FlagRule("desil_invalid", BLOCKING, "Desil tidak valid", "perbaiki berkas lalu impor ulang"),
    FlagRule("tanggal_lahir_invalid", BLOCKING, "Tanggal lahir tidak terbaca", "perbaiki berkas lalu impor ulang"),
    FlagRule("kecamatan_unknown", WARNING, "Kode kecamatan tidak dikenal", "ditinjau operator/Lurah dengan catatan",
             note_by=_KEL),
    FlagRule("non_dki", WARNING, "KTP/KK luar DKI", "dibahas di musyawarah; ditutup dengan catatan", note_by=_KEL),
    FlagRule("age_implausible", WARNING, "Umur tidak masuk akal", "periksa tanggal lahir; ditutup dengan catatan",
             note_by=_KEL),
    FlagRule("nik_birthdate_mismatch", WARNING, "NIK tidak cocok dengan tanggal lahir/jenis kelamin",
             "periksa data; ditutup dengan catatan", note_by=_KEL),
    FlagRule("dup_other_kelurahan", WARNING, "Terdaftar juga di kelurahan lain",
             "wajib diberi catatan (pastikan domisili) oleh operator/Lurah", note_by=_KEL),
    FlagRule("exclusion_hint", WARNING, "Petunjuk pengecualian DKI", "diputuskan musyawarah; ditutup dengan catatan",
             note_by=_KEL),
    FlagRule("dup_proposal", WARNING, "Diusulkan juga di kelurahan lain",
             "wajib diberi catatan (pastikan domisili); usulan ganda dalam satu musyawarah ditolak saat dimasukkan",
             note_by=_KEL),
    FlagRule("row_duplicate", WARNING, "Baris kembar", "baris kembar diimpor sekali saja"),
]}


def rule(code: str) -> FlagRule:
    return RULES[code]


# --- identity numbers -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def province_codes() -> frozenset[str]:
    """Two-digit province codes known to python-stdnum's register (the same data its NIK check uses)."""
    db = numdb.get("id/loc")
    return frozenset(p for p in (f"{i:02d}" for i in range(100)) if db.info(p)[0][1])


@functools.lru_cache(maxsize=1)
def _max_day_table() -> np.ndarray:
    """days[yy, month] for year 2000+yy: the most lenient century, as python-stdnum tries 19yy then 20yy."""
    table = np.zeros((100, 13), dtype=np.int16)
    for yy in range(100):
        for month in range(1, 13):
            table[yy, month] = calendar.monthrange(2000 + yy, month)[1]
    return table


# Patterns as strings (not compiled): pandas then runs them in Arrow's native engine instead of row by row.
_SEPARATORS = r"[ \-.]"
EXCEL_FLOAT = r"^\s*[0-9](?:[.,][0-9]+)?[eE]\+?[0-9]+\s*$"


@functools.lru_cache(maxsize=1)
def _ascii_table() -> dict[int, str]:
    """python-stdnum's own Unicode → ASCII map (non-breaking spaces, en dashes, …), so both agree."""
    try:
        from stdnum.util import _char_map  # the oracle's data; fall back to the common cases if it moves
    except ImportError:  # pragma: no cover
        _char_map = {"\u00a0": " ", "\u2013": "-", "\u2014": "-", "\u00b7": "."}
    return str.maketrans(dict(_char_map))


def compact(series: pd.Series) -> pd.Series:
    """What python-stdnum's ``compact`` does: map Unicode look-alikes, drop spaces, dashes and dots, strip."""
    text = series.astype(str)
    if not text.str.isascii().all():  # the Unicode map is only needed for non-ASCII input (rare, but real)
        text = text.str.translate(_ascii_table())
    return text.str.replace(_SEPARATORS, "", regex=True).str.strip()


def nik_valid(series: pd.Series) -> pd.Series:
    """Column-wise equivalent of ``stdnum.id.nik.is_valid`` (structure, birth date, province code)."""
    s = compact(series)
    shape = s.str.fullmatch(r"[0-9]{16}").fillna(False).to_numpy(dtype=bool)
    result = np.zeros(len(s), dtype=bool)
    if not shape.any():
        return pd.Series(result, index=series.index)
    good = s[shape]
    day = good.str.slice(6, 8).astype(int).to_numpy() % 40
    month = good.str.slice(8, 10).astype(int).to_numpy()
    yy = good.str.slice(10, 12).astype(int).to_numpy()
    month_ok = (month >= 1) & (month <= 12)
    max_day = _max_day_table()[yy, np.where(month_ok, month, 0)]
    date_ok = month_ok & (day >= 1) & (day <= max_day)
    province_ok = good.str.slice(0, 2).isin(province_codes()).to_numpy()
    result[np.flatnonzero(shape)] = date_ok & province_ok
    return pd.Series(result, index=series.index)


def kk_valid(series: pd.Series) -> pd.Series:
    """A No KK: 16 digits whose province code exists."""
    s = compact(series)
    return s.str.fullmatch(r"[0-9]{16}").fillna(False) & s.str.slice(0, 2).isin(province_codes())


def mask_nik(nik: str) -> str:
    """``3175012345670012`` → ``3175••••••••0012``: enough to recognise, not enough to misuse."""
    if len(nik) != 16:
        return "•" * len(nik)
    return nik[:4] + "•" * 8 + nik[-4:]


def nik_birth_parts(nik: str) -> tuple[int, int, int, str] | None:
    """(day, month, two-digit year, sex L/P) encoded in a NIK; women have 40 added to the day."""
    if not re.fullmatch(r"[0-9]{16}", nik or ""):
        return None
    raw_day = int(nik[6:8])
    return raw_day % 40, int(nik[8:10]), int(nik[10:12]), "P" if raw_day > 40 else "L"


def birth_date_with_century(nik: str, recorded: date | None) -> date | None:
    """The NIK's birth date, taking the century from the recorded birth date (stdnum alone guesses 19yy)."""
    parts = nik_birth_parts(nik)
    if parts is None:
        return None
    day, month, yy, _ = parts
    if recorded is not None and recorded.year % 100 == yy:
        century = recorded.year - yy
    else:
        century = 2000 if 2000 + yy <= date.today().year else 1900
    try:
        return date(century + yy, month, day)
    except ValueError:
        return None


# --- exclusion hints (Jakarta's own pre-screening: shown as warnings, never silent filters) -------------------

EXCLUDED_JOBS = r"(?i)\b(?:pns|asn|pppk|tni|polri|polisi|tentara|bumn|bumd|dprd|pegawai negeri)\b"
TRUTHY = {"ya", "y", "ada", "1", "true", "punya", "memiliki"}
NJOP_LIMIT = 1_000_000_000
