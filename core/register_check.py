"""Checking a whole DTSEN extract before anything is written: normalised rows and every problem found.

All checks run column-wise (pandas), so a 100,000-row extract is judged in well under a second; every problem
carries the spreadsheet row, the column as the file names it, a stable code and an Indonesian explanation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlmodel import Session, select
from stdnum import numdb

from core import screening
from core.dtsen_file import FIELD_LABELS, FIELD_SYNONYMS, Extract
from core.models import Wilayah
from core.screening import BLOCKING, EXCLUDED_JOBS, NJOP_LIMIT, TRUTHY, WARNING

PROBLEM_COLUMNS = ["row", "column", "code", "severity", "message", "nik", "no_kk"]
_MALE = {"l", "lk", "laki-laki", "laki laki", "lakilaki", "laki", "pria", "1", "m"}
_FEMALE = {"p", "pr", "perempuan", "wanita", "2", "f", "w"}


@dataclass
class CheckResult:
    rows: pd.DataFrame  # normalised, one row per person, with "row" (spreadsheet row) and a "drop" marker
    problems: pd.DataFrame  # PROBLEM_COLUMNS

    @property
    def blocking(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == BLOCKING]

    @property
    def warnings(self) -> pd.DataFrame:
        return self.problems[self.problems["severity"] == WARNING]


class _Problems:
    def __init__(self, rows: pd.DataFrame, source_of: dict[str, str]):
        self.rows = rows
        self.source_of = source_of
        self.parts: list[pd.DataFrame] = []

    def add(self, mask, fieldname: str, code: str, message) -> None:
        """``message`` is a string, a Series aligned with the rows, or a function returning either (called only
        when some row is affected: building 100,000 messages nobody sees costs more than the check itself)."""
        mask = pd.Series(mask, index=self.rows.index).fillna(False).astype(bool)
        if not mask.any():
            return
        picked = self.rows[mask]
        if callable(message):
            message = message()
        text = message[mask] if isinstance(message, pd.Series) else message
        self.parts.append(pd.DataFrame({
            "row": picked["row"], "column": self.source_of.get(fieldname, FIELD_LABELS.get(fieldname, fieldname)),
            "code": code, "severity": screening.rule(code).severity, "message": text,
            "nik": picked["nik"], "no_kk": picked["no_kk"],
        }))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=PROBLEM_COLUMNS)
        return pd.concat(self.parts, ignore_index=True).sort_values(["row", "code"], kind="stable")[PROBLEM_COLUMNS]


def normalise(extract: Extract, mapping: dict[str, str]) -> pd.DataFrame:
    """Muskel's columns from the mapped source columns; unmapped fields are empty text."""
    source_for = {target: source for source, target in mapping.items()}
    rows = pd.DataFrame(index=extract.frame.index)
    rows["row"] = extract.sheet_rows()
    for fieldname in FIELD_SYNONYMS:
        source = source_for.get(fieldname)
        rows[fieldname] = extract.frame[source].astype(str).str.strip() if source else ""
    for fieldname in ("nik", "no_kk"):
        rows[fieldname + "_raw"] = rows[fieldname]
        rows[fieldname] = screening.compact(rows[fieldname])
    nama = rows["nama"]
    # Only names with a run of spaces or a tab/newline change (the regex runs on those rows alone).
    spaced = _contains_any(nama, ("  ", "\t", "\n", "\r", "\f"))
    if spaced.any():
        nama = nama.mask(spaced, nama[spaced].str.replace(r"\s+", " ", regex=True))
    rows["nama"] = nama
    sex = rows["jenis_kelamin"].str.lower()
    rows["jenis_kelamin"] = np.where(sex.isin(_MALE), "L", np.where(sex.isin(_FEMALE), "P", ""))
    for fieldname in ("rt", "rw"):
        rows[fieldname] = _subset_where(
            rows[fieldname], r"[0-9]{1,3}", lambda s: s.str.zfill(3),
            lambda s: s.str.extract(r"^[^0-9]*([0-9]{1,3})[^0-9]*$", expand=False).str.zfill(3)
            .fillna(s.str.slice(0, 3)))
    desil = rows["desil"]
    plain = desil.str.fullmatch(r"[0-9]{1,2}").fillna(False)
    desil_num = pd.to_numeric(desil.where(plain), errors="coerce")
    if not plain.all():
        rest = desil[~plain]
        desil_num[~plain] = pd.to_numeric(
            rest.str.extract(r"^\s*(?:desil\s*)?([0-9]{1,2})(?:\.0)?\s*$", flags=re.I, expand=False),
            errors="coerce")
    rows["desil_num"] = desil_num
    rows["tanggal_lahir_date"] = _parse_dates(rows["tanggal_lahir"])
    return rows


def _contains_any(text: pd.Series, needles: tuple[str, ...]) -> pd.Series:
    """Rows containing any of the literal ``needles`` (plain substring searches run natively on Arrow strings)."""
    found = pd.Series(False, index=text.index)
    for needle in needles:
        found |= text.str.contains(needle, regex=False).fillna(False)
    return found


def _subset_where(text: pd.Series, simple: str, fast, slow) -> pd.Series:
    """``fast`` on the rows that fully match the ``simple`` pattern, ``slow`` (the general rule) on the others."""
    easy = text.str.fullmatch(simple).fillna(False)
    if easy.all():
        return fast(text)
    out = pd.Series("", index=text.index, dtype=text.dtype)
    out[easy] = fast(text[easy])
    out[~easy] = slow(text[~easy])
    return out


# The two spellings nearly every extract uses, parsed from their digits (pandas' strptime takes ~1 s per 100,000):
# (shape, year, month, day slices, whether year 0 parses — strptime refuses it, the ISO parser accepts it).
_STRICT_DATES = ((r"[0-9]{2}/[0-9]{2}/[0-9]{4}", (6, 10), (3, 5), (0, 2), False),
                 (r"[0-9]{4}-[0-9]{2}-[0-9]{2}", (0, 4), (5, 7), (8, 10), True))


def _digits(text: pd.Series, span: tuple[int, int]) -> np.ndarray:
    """The integer written at ``span`` of every (all-digit there) string, computed by Arrow in one pass."""
    sliced = pc.utf8_slice_codeunits(pa.array(text, type=pa.large_string()), *span)
    return pc.cast(sliced, pa.int64()).to_numpy()


def _parse_dates(text: pd.Series) -> pd.Series:
    """Dates as YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY or DD.MM.YYYY (invalid ones NaT)."""
    for pattern, year, month, day, year_zero in _STRICT_DATES:
        strict = text.str.fullmatch(pattern).fillna(False)
        if not strict.any():
            continue
        subset = text if strict.all() else text[strict]
        parts = pd.DataFrame({"year": _digits(subset, year), "month": _digits(subset, month),
                              "day": _digits(subset, day)}, index=subset.index)
        if not year_zero:
            parts.loc[parts["year"] == 0, "day"] = 0  # not a date: NaT, as strptime says
        parsed = pd.to_datetime(parts, errors="coerce").astype("datetime64[us]")
        if strict.all():
            return parsed
        rest = _parse_dates_general(text.where(~strict, ""))
        rest[strict] = parsed
        return rest
    return _parse_dates_general(text)


def _parse_dates_general(text: pd.Series) -> pd.Series:
    result = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        missing = result.isna() & (text != "")
        if not missing.any():
            break
        result = result.fillna(pd.to_datetime(text.where(missing), format=fmt, errors="coerce"))
    return result


def check(extract: Extract, mapping: dict[str, str], kelurahan_kode: str, *, session: Session) -> CheckResult:
    rows = normalise(extract, mapping)
    source_of = {target: source for source, target in mapping.items()}
    p = _Problems(rows, source_of)
    nik, kk = rows["nik"], rows["no_kk"]

    # Required fields.
    for fieldname in ("no_kk", "nik", "nama"):
        p.add(rows[fieldname] == "", fieldname, "required_missing",
              f"{FIELD_LABELS[fieldname]} kosong. Isi kolom ini; setiap baris adalah satu orang.")

    # Numbers Excel has destroyed (scientific notation in text, or a number cell in a workbook).
    mangled = {}
    for fieldname in ("nik", "no_kk"):
        raw = rows[fieldname + "_raw"]
        # Scientific notation needs an "e": the regex runs only on the rows that have one.
        has_e = _contains_any(raw, ("e", "E"))
        is_float = pd.Series(False, index=rows.index)
        if has_e.any():
            is_float[has_e] = raw[has_e].str.match(screening.EXCEL_FLOAT).fillna(False)
        source = source_of.get(fieldname)
        if source in extract.numeric_cells:
            is_float = is_float | extract.numeric_cells[source].reindex(rows.index, fill_value=False)
        mangled[fieldname] = is_float & (raw != "")
        label = FIELD_LABELS[fieldname]
        p.add(mangled[fieldname], fieldname, "nik_excel_float",
              lambda raw=raw, label=label: f"{label} " + raw + f" disimpan Excel sebagai angka sehingga digit terakhirnya hilang. Format kolom "
              f"{label} sebagai Teks di Excel, isi ulang angkanya dari sumber aslinya, lalu impor lagi.")

    nik_ok = screening.nik_valid(nik)
    bad_nik = (nik != "") & ~mangled["nik"] & ~nik_ok
    p.add(bad_nik, "nik", "nik_invalid", lambda: _nik_reason(nik, "NIK"))
    kk_ok = screening.kk_valid(kk)
    bad_kk = (kk != "") & ~mangled["no_kk"] & ~kk_ok
    p.add(bad_kk, "no_kk", "kk_invalid", lambda: _nik_reason(kk, "No KK", check_date=False))

    has_date = rows["tanggal_lahir"] != ""
    today = pd.Timestamp(date.today())
    bad_date = has_date & (rows["tanggal_lahir_date"].isna() | (rows["tanggal_lahir_date"] > today))
    p.add(bad_date, "tanggal_lahir", "tanggal_lahir_invalid",
          lambda: "Tanggal lahir " + rows["tanggal_lahir"] + " tidak terbaca atau di masa depan. Tulis sebagai "
          "DD/MM/YYYY atau YYYY-MM-DD.")
    bad_desil = (rows["desil"] != "") & ~rows["desil_num"].between(1, 10)
    p.add(bad_desil, "desil", "desil_invalid",
          lambda: "Desil " + rows["desil"] + " tidak valid: isi angka 1 sampai 10.")

    usable = nik_ok & kk_ok
    rows["drop"] = False
    _duplicates(rows, usable, p)
    _nik_in_two_kk(rows, usable, p)
    _desil_conflict(rows, kk_ok, p)

    # Warnings.
    _region_warnings(rows, nik_ok, kk_ok, p, session)
    _birth_warnings(rows, nik_ok, p)
    _age_warnings(rows, p, today)
    _exclusion_hints(rows, p)
    _other_kelurahan(rows, nik_ok, kelurahan_kode, p, session)
    return CheckResult(rows=rows, problems=p.frame())


def _nik_reason(values: pd.Series, label: str, check_date: bool = True) -> pd.Series:
    digits = values.str.fullmatch(r"[0-9]+").fillna(False)
    length = values.str.len()
    province_ok = values.str.slice(0, 2).isin(screening.province_codes())
    reason = pd.Series(f"{label} " + values + " tidak valid: tanggal lahir di dalamnya tidak mungkin.",
                       index=values.index)
    if not check_date:
        reason[:] = f"{label} " + values + " tidak valid."
    reason = reason.where(province_ok, f"{label} " + values + ": kode provinsi " + values.str.slice(0, 2)
                          + " tidak ada.")
    reason = reason.where(digits & (length == 16),
                          f"{label} " + values + " harus 16 angka (sekarang " + length.astype(str)
                          + " karakter).")
    return reason


def _duplicates(rows: pd.DataFrame, usable: pd.Series, p: _Problems) -> None:
    key = rows.loc[usable, ["no_kk", "nik"]]
    dup_key = key.duplicated(keep=False)
    if not dup_key.any():
        return
    compare = ["no_kk", "nik", "nama", "jenis_kelamin", "tanggal_lahir", "hubungan", "desil", "rt", "rw", "alamat"]
    involved = rows.loc[dup_key[dup_key].index]
    identical_later = involved.duplicated(subset=compare, keep="first")
    groups = involved.groupby(["no_kk", "nik"])[compare].nunique().max(axis=1) > 1
    conflicting = involved.set_index(["no_kk", "nik"]).index.isin(groups[groups].index)
    first_row = involved.groupby(["no_kk", "nik"])["row"].transform("min").astype(str)
    idx = involved.index
    p.add(pd.Series(identical_later & ~conflicting, index=idx).reindex(rows.index, fill_value=False), "nik",
          "row_duplicate", ("Baris ini sama persis dengan baris " + first_row + "; diimpor sekali saja.")
          .reindex(rows.index, fill_value=""))
    rows.loc[idx[identical_later & ~conflicting], "drop"] = True
    p.add(pd.Series(conflicting, index=idx).reindex(rows.index, fill_value=False), "nik", "nik_duplicate",
          ("NIK ini muncul lebih dari sekali dalam KK yang sama dengan isi berbeda (lihat juga baris " + first_row
           + "). Hapus atau perbaiki baris ganda.").reindex(rows.index, fill_value=""))


def _nik_in_two_kk(rows: pd.DataFrame, usable: pd.Series, p: _Problems) -> None:
    valid = rows[usable & ~rows["drop"]]
    valid = valid[valid["nik"].duplicated(keep=False)]  # a NIK seen once is in one KK
    if valid.empty:
        return
    kk_count = valid.groupby("nik")["no_kk"].nunique()
    offenders = kk_count[kk_count > 1].index
    if len(offenders) == 0:
        return
    involved = valid[valid["nik"].isin(offenders)]
    listing = involved.groupby("nik").apply(
        lambda g: "; ".join(f"KK {k} (baris {r})" for k, r in zip(g["no_kk"], g["row"])), include_groups=False)
    message = ("NIK yang sama tercatat di lebih dari satu KK: " + involved["nik"].map(listing)
               + ". Satu orang hanya boleh di satu KK; perbaiki berkas, atau Lurah mengesampingkan dengan alasan.")
    p.add(rows.index.isin(involved.index), "nik", "nik_in_two_kk", message.reindex(rows.index, fill_value=""))


def _desil_conflict(rows: pd.DataFrame, kk_ok: pd.Series, p: _Problems) -> None:
    with_desil = rows[kk_ok & rows["desil_num"].notna() & ~rows["drop"]]
    counts = with_desil.groupby("no_kk")["desil_num"].nunique()
    offenders = counts[counts > 1].index
    if len(offenders) == 0:
        return
    values = with_desil[with_desil["no_kk"].isin(offenders)].groupby("no_kk")["desil_num"].apply(
        lambda s: ", ".join(str(int(v)) for v in sorted(s.unique())))
    mask = rows["no_kk"].isin(offenders) & kk_ok
    message = ("Anggota KK " + rows["no_kk"] + " tercatat dengan desil berbeda (" + rows["no_kk"].map(values)
               + "). Desil milik keluarga: samakan untuk semua anggota.")
    p.add(mask, "desil", "desil_conflict", message.fillna(""))


def _dki_kecamatan_prefixes(session: Session) -> set[str]:
    """``317501``-style region prefixes of Jakarta's kecamatan (from the Kemendagri codes)."""
    codes = session.exec(select(Wilayah.kode).where(Wilayah.tingkat == "kecamatan")).all()
    return {c.replace(".", "") for c in codes}


def _province_name(code: str) -> str:
    info = numdb.get("id/loc").info(code)[0][1]
    return info.get("name_id", code).title() if info else code


def _region_warnings(rows, nik_ok, kk_ok, p: _Problems, session: Session) -> None:
    kept = ~rows["drop"]
    prefixes = _dki_kecamatan_prefixes(session)
    later_member = rows.duplicated(subset=["no_kk"])
    for fieldname, ok, label in (("nik", nik_ok, "KTP"), ("no_kk", kk_ok, "KK")):
        values = rows[fieldname]
        outside = ok & kept & ~values.str.startswith("31")
        if fieldname == "no_kk":  # one warning per family, not per member
            outside &= ~later_member
        p.add(outside, fieldname, "non_dki", lambda values=values, outside=outside, label=label: (
              f"{label} diterbitkan di luar DKI Jakarta (provinsi " + values.str.slice(0, 2).map(
                  {c: _province_name(c) for c in values[outside].str.slice(0, 2).unique()}).astype(object)
              .fillna("?") + "). Bahas di musyawarah apakah keluarga ini berdomisili di kelurahan."))
        unknown = ok & kept & values.str.startswith("31") & ~values.str.slice(0, 6).isin(prefixes)
        if fieldname == "no_kk":
            unknown &= ~later_member
        p.add(unknown, fieldname, "kecamatan_unknown",
              lambda values=values, label=label: f"{label} berkode wilayah " + values.str.slice(0, 6)
              + ", yang bukan kecamatan di DKI Jakarta. Periksa angkanya.")


def _birth_warnings(rows, nik_ok, p: _Problems) -> None:
    born = rows["tanggal_lahir_date"]
    check = nik_ok & born.notna() & ~rows["drop"]
    if not check.any():
        return
    nik = rows["nik"]
    digits = nik.where(nik_ok, "0000000000000000")  # valid NIKs are 16 digits; the others are not compared
    raw_day = pd.Series(_digits(digits, (6, 8)), index=rows.index)
    month = pd.Series(_digits(digits, (8, 10)), index=rows.index)
    yy = pd.Series(_digits(digits, (10, 12)), index=rows.index)
    day = raw_day % 40
    date_mismatch = check & ((born.dt.day != day) | (born.dt.month != month) | (born.dt.year % 100 != yy))
    sex = rows["jenis_kelamin"]
    sex_mismatch = nik_ok & ~rows["drop"] & (sex != "") & ((raw_day > 40) != (sex == "P"))
    p.add(date_mismatch, "tanggal_lahir", "nik_birthdate_mismatch",
          lambda: "Tanggal lahir " + born.dt.strftime("%d/%m/%Y").fillna("") + " tidak cocok dengan tanggal di "
          "dalam NIK (" + nik.str.slice(6, 12) + "). Periksa NIK atau tanggal lahir.")
    p.add(sex_mismatch & ~date_mismatch, "jenis_kelamin", "nik_birthdate_mismatch",
          lambda: "Jenis kelamin " + sex + " tidak cocok dengan NIK (pada perempuan tanggal lahir di NIK ditambah "
          "40).")


def _age_warnings(rows, p: _Problems, today: pd.Timestamp) -> None:
    born = rows["tanggal_lahir_date"]
    kept = ~rows["drop"] & born.notna()
    if not kept.any():
        return
    relation = rows["hubungan"].str.lower()
    is_head = relation.str.contains("kepala", na=False)
    is_child = relation.str.contains("anak", na=False) & ~relation.str.contains("menantu", na=False)
    age = (today - born).dt.days / 365.25
    young_head = kept & is_head & (age < 15)
    p.add(young_head, "tanggal_lahir", "age_implausible",
          lambda: "Kepala keluarga berumur " + age.fillna(0).astype(int).astype(str) + " tahun (di bawah 15). "
          "Periksa tanggal lahir atau hubungan keluarga.")
    heads = rows[kept & is_head].drop_duplicates("no_kk").set_index("no_kk")["tanggal_lahir_date"]
    if heads.empty:
        return
    head_born = pd.Series(heads.reindex(rows["no_kk"]).to_numpy(), index=rows.index)
    older_child = kept & is_child & head_born.notna() & (born < head_born)
    p.add(older_child, "tanggal_lahir", "age_implausible",
          lambda: "Anak lahir " + born.dt.strftime("%d/%m/%Y").fillna("") + ", lebih dulu dari kepala keluarga ("
          + head_born.dt.strftime("%d/%m/%Y").fillna("") + "). Kemungkinan salah ketik tanggal lahir.")


def _exclusion_hints(rows, p: _Problems) -> None:
    kept = ~rows["drop"]
    job = kept & rows["pekerjaan"].str.contains(EXCLUDED_JOBS, na=False)
    p.add(job, "pekerjaan", "exclusion_hint",
          lambda: "Pekerjaan " + rows["pekerjaan"] + ": ASN/TNI/Polri/BUMN-BUMD/DPRD dikecualikan menurut penyaringan DKI. "
          "Musyawarah yang memutuskan.")
    car = kept & rows["punya_mobil"].str.lower().isin(TRUTHY)
    p.add(car, "punya_mobil", "exclusion_hint",
          "Tercatat memiliki mobil: dikecualikan menurut penyaringan DKI. Musyawarah yang memutuskan.")
    given = rows["njop"] != ""
    if not given.any():  # most extracts carry no NJOP column
        return
    njop = pd.to_numeric(rows["njop"].str.replace(r"[^0-9]", "", regex=True), errors="coerce")
    high = kept & (njop > NJOP_LIMIT)
    p.add(high, "njop", "exclusion_hint",
          "NJOP rumah di atas Rp1 miliar: dikecualikan menurut penyaringan DKI. Musyawarah yang memutuskan.")


def _other_kelurahan(rows, nik_ok, kelurahan_kode: str, p: _Problems, session: Session) -> None:
    """NIKs already in another kelurahan's register, named by kelurahan only (no other personal data)."""
    niks = rows.loc[nik_ok & ~rows["drop"], "nik"].unique().tolist()
    if not niks:
        return
    found: dict[str, str] = {}
    # Plain SQL on the transaction's connection: 100,000 NIKs through the ORM's IN-list handling cost ~3x the
    # index lookups themselves. PostgreSQL takes them as one array; SQLite in chunks under its 32,766 variables.
    conn = session.connection()
    sql = ("SELECT person.nik, wilayah.nama, family.status FROM person "
           "JOIN family ON family.id = person.family_id JOIN wilayah ON wilayah.kode = family.kelurahan_kode "
           "WHERE family.kelurahan_kode <> {mark} AND person.status = 'aktif' AND person.nik {match}")
    if conn.dialect.name == "postgresql":
        result = conn.exec_driver_sql(sql.format(mark="%s", match="= ANY(%s)"), (kelurahan_kode, niks)).all()
    else:
        result = []
        for start in range(0, len(niks), 30_000):
            chunk = niks[start:start + 30_000]
            result += conn.exec_driver_sql(sql.format(mark="?", match=f"IN ({', '.join('?' * len(chunk))})"),
                                           (kelurahan_kode, *chunk)).all()
    for nik, nama, status in result:
        found.setdefault(nik, f"Kel. {nama} ({status})")
    if not found:
        return
    where = rows["nik"].map(found)
    p.add(where.notna() & nik_ok & ~rows["drop"], "nik", "dup_other_kelurahan",
          "NIK ini juga terdaftar di " + where.fillna("") + ". Pastikan domisili sebelum diusulkan; beri catatan.")
