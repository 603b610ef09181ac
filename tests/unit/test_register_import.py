"""Importing a DTSEN extract (core.register.import_extract) on SQLite and PostgreSQL.

Extracts are built in the tests with ``core.demo_register.generate`` (a dozen families) or as literal CSV text,
then damaged the way real extracts are: empty files, Windows-1252 names, semicolons, title rows, Excel floats,
duplicated rows, a NIK in two KKs, mixed desil, unknown column names. Checks the all-or-nothing rule (counted
in the tables), re-import counts and history, the file store and audit trail, screening flags and access.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlmodel import select
from stdnum.id import nik as stdnum_nik

from core import db, dtsen_file, filestore, flags, register
from core.demo_register import generate, nik_for, to_csv, to_xlsx
from core.errors import AccessDenied, InvalidInput
from core.models import AuditEntry, Family, Flag, Person, RegisterChange, RegisterImport, StoredFile
from core.register_search import RegisterQuery, search

KEL = "31.75.01.1003"  # Kayu Manis
OTHER = "31.75.01.1004"  # Palmeriam
REASON = "alasan yang cukup panjang"
TABLES = ("family", "person", "registerimport", "storedfile", "auditentry", "flag", "registerchange")


@pytest.fixture
def operator(engine, make_account):
    return make_account(engine, "operator.km", "operator", KEL)


@pytest.fixture
def lurah(engine, make_account):
    return make_account(engine, "lurah.km", "lurah", KEL)


@pytest.fixture
def other_operator(engine, make_account):
    return make_account(engine, "operator.pm", "operator", OTHER)


def do_import(engine, data: bytes, actor, filename: str = "dtsen.csv", kode: str = KEL, **kwargs):
    with db.session_scope(engine) as session:
        return register.import_extract(data, filename, kode, actor=actor, session=session, **kwargs)


def table_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}


def fetch(engine, stmt):
    with db.session_scope(engine) as session:
        return list(session.exec(stmt).all())


def problems_of(result, code: str) -> pd.DataFrame:
    return result.problems[result.problems["code"] == code]


def extract(families: int = 8, seed: int = 11, kode: str = KEL) -> pd.DataFrame:
    return generate(kode, families, seed=seed)


def first_index(frame: pd.DataFrame, relation: str, min_size: int = 1) -> int:
    sizes = frame.groupby("No KK")["NIK"].transform("size")
    return frame.index[(frame["Hubungan Keluarga"] == relation) & (sizes >= min_size)][0]


# --- unreadable and empty files ---------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \r\n  \n"])
def test_empty_file_is_refused(engine, operator, data):
    """Guards file_empty: an empty upload is an InvalidInput with a stable code, and writes nothing."""
    before = table_counts(engine)
    with pytest.raises(InvalidInput) as info:
        do_import(engine, data, operator)
    assert info.value.code == "file_empty"
    assert table_counts(engine) == before


def test_header_only_file_is_refused(engine, operator):
    """Guards file_no_rows: a header without data rows is refused, not imported as an empty register."""
    before = table_counts(engine)
    with pytest.raises(InvalidInput) as info:
        do_import(engine, b"No KK,NIK,Nama,Desil\r\n", operator)
    assert info.value.code == "file_no_rows"
    assert table_counts(engine) == before


# --- encodings, separators, layouts -----------------------------------------------------------------------


def test_windows_1252_names_round_trip(engine, operator):
    """Guards decoding: a Windows-1252 CSV keeps accented names (JOSÉ), not mojibake or replacement marks."""
    frame = extract(4)
    frame.at[0, "Nama"] = "JOSÉ SANTOSO"
    frame.at[1, "Nama"] = "MARÍA ÑOÑO"
    data = to_csv(frame, encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the fixture really is not UTF-8
    result = do_import(engine, data, operator)
    assert result.imported
    names = {p.nama for p in fetch(engine, select(Person))}
    assert {"JOSÉ SANTOSO", "MARÍA ÑOÑO"} <= names
    assert not any("\ufffd" in n or "Ã" in n for n in names)


def test_semicolon_separated_csv(engine, operator):
    """Guards separator detection: a semicolon CSV (Excel in Indonesian locale) imports every person."""
    frame = extract(6)
    frame.at[0, "Alamat"] = "Jl. Kayu Manis, Gg. 2"  # a comma inside a value must not split it
    result = do_import(engine, to_csv(frame, sep=";"), operator)
    assert result.imported, result.problems
    assert len(fetch(engine, select(Person))) == len(frame)
    assert len(fetch(engine, select(Family))) == frame["No KK"].nunique()
    head = fetch(engine, select(Family).where(Family.no_kk == frame.at[0, "No KK"]))[0]
    assert head.alamat == "Jl. Kayu Manis, Gg. 2"


def test_xlsx_with_title_row_numbers_rows_as_the_spreadsheet(engine, operator):
    """Guards header detection under a title row and row numbers: header at row 3, first data row is 4."""
    frame = extract(5)
    frame.at[0, "Desil"] = "11"  # desil_invalid on the first data row
    frame.at[3, "NIK"] = "0075010101800001"  # nik_invalid on the fourth data row
    data = to_xlsx(frame, title="Ekstrak DTSEN Kelurahan Kayu Manis — periode 2026-11")
    parsed = dtsen_file.read(data, "dtsen.xlsx")
    assert parsed.header_row == 3 and parsed.first_data_row == 4
    result = do_import(engine, data, operator, filename="dtsen.xlsx")
    assert not result.imported
    assert problems_of(result, "desil_invalid")["row"].tolist() == [4]
    assert problems_of(result, "nik_invalid")["row"].tolist() == [7]
    assert problems_of(result, "nik_invalid")["column"].tolist() == ["NIK"]


def test_xlsx_import_succeeds(engine, operator):
    """Guards the XLSX path end to end (calamine reader, text cells): every person imported."""
    frame = extract(5)
    result = do_import(engine, to_xlsx(frame, title="Judul"), operator, filename="dtsen.xlsx")
    assert result.imported, result.problems
    assert {p.nik for p in fetch(engine, select(Person))} == set(frame["NIK"])


def test_xlsx_row_numbers_after_a_blank_row(engine, operator):
    """Guards problem row numbers in a workbook with an empty row between data rows."""
    frame = extract(4)
    frame.at[4, "Desil"] = "12"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(frame.columns))  # row 1
    for i, values in enumerate(frame.itertuples(index=False)):
        if i == 2:
            ws.append([])  # row 4 left empty
        ws.append(list(values))
    buffer = io.BytesIO()
    wb.save(buffer)
    result = do_import(engine, buffer.getvalue(), operator, filename="dtsen.xlsx")
    # frame row 4 is the 5th data row: rows 2, 3, (blank 4), 5, 6, 7
    assert problems_of(result, "desil_invalid")["row"].tolist() == [7]


def test_xlsx_date_number_and_blank_cells_as_excel_saves_them(engine, operator):
    """Guards the cell rules of the XLSX reader: a real Excel date cell is the birth date, a number cell in Desil
    and RT is the number written in it, padded spaces and an empty optional cell are nothing."""
    frame = extract(3)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(frame.columns))
    columns = list(frame.columns)
    for values in frame.itertuples(index=False):
        row = list(values)
        day, month, year = (int(part) for part in row[columns.index("Tanggal Lahir")].split("/"))
        row[columns.index("Tanggal Lahir")] = datetime.date(year, month, day)  # a date cell, not text
        row[columns.index("Desil")] = int(row[columns.index("Desil")])
        row[columns.index("Nama")] = "  " + row[columns.index("Nama")] + " "
        row[columns.index("Pekerjaan")] = None
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    result = do_import(engine, buffer.getvalue(), operator, filename="dtsen.xlsx")
    assert result.imported, result.problems
    people = {p.nik: p for p in fetch(engine, select(Person))}
    for values in frame.itertuples(index=False):
        person = people[values.NIK]
        assert person.tanggal_lahir.strftime("%d/%m/%Y") == values[columns.index("Tanggal Lahir")]
        assert person.nama == values.Nama and person.pekerjaan == ""
    desil = {f.no_kk: f.desil for f in fetch(engine, select(Family))}
    assert desil == {kk: int(d) for kk, d in zip(frame["No KK"], frame["Desil"])}


def test_csv_row_numbers_after_a_blank_line(engine, operator):
    """Guards problem row numbers in a CSV with an empty line (what a spreadsheet shows as an empty row)."""
    frame = extract(4)
    frame.at[4, "Desil"] = "12"
    lines = to_csv(frame).decode().splitlines()
    lines.insert(3, "")  # line 4 blank: data rows are lines 2, 3, 5, 6, 7…
    result = do_import(engine, ("\n".join(lines) + "\n").encode(), operator)
    assert problems_of(result, "desil_invalid")["row"].tolist() == [7]


# --- Excel floats -----------------------------------------------------------------------------------------


def test_excel_float_nik_in_csv_is_blocking(engine, operator):
    """Guards nik_excel_float: '3.17501E+15' text is refused with the right row, column and how-to-fix."""
    frame = extract(5)
    frame.at[2, "NIK"] = "3.17501E+15"
    frame.at[5, "No KK"] = "3,17501E+15"  # Indonesian decimal comma
    before = table_counts(engine)
    result = do_import(engine, to_csv(frame), operator)
    assert not result.imported
    floats = problems_of(result, "nik_excel_float")
    assert sorted(zip(floats["row"], floats["column"])) == [(4, "NIK"), (7, "No KK")]
    assert all("Teks" in m for m in floats["message"])
    assert problems_of(result, "nik_invalid").empty  # one finding per mangled cell, not two
    assert table_counts(engine) == before


def test_excel_float_nik_as_numeric_xlsx_cell_is_blocking(engine, operator):
    """Guards numeric cells: a NIK stored by Excel as a number is refused even when its text looks whole."""
    frame = extract(4)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(frame.columns))
    for i, values in enumerate(frame.itertuples(index=False)):
        row = list(values)
        if i == 1:
            row[2] = int(row[2])  # NIK as a number cell (row 3 in the sheet)
        if i == 3:
            row[2] = float(row[2])  # and as a float cell (row 5)
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    before = table_counts(engine)
    result = do_import(engine, buffer.getvalue(), operator, filename="dtsen.xlsx")
    assert not result.imported
    floats = problems_of(result, "nik_excel_float")
    assert floats["row"].tolist() == [3, 5]
    assert set(floats["column"]) == {"NIK"}
    assert table_counts(engine) == before


# --- duplicates, two KKs, desil ---------------------------------------------------------------------------


def test_identical_duplicate_rows_are_imported_once(engine, operator):
    """Guards row_duplicate: an identical repeated row is a warning, the person is stored once."""
    frame = extract(5)
    doubled = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)
    result = do_import(engine, to_csv(doubled), operator)
    assert result.imported, result.blocking
    dup = problems_of(result, "row_duplicate")
    assert dup["row"].tolist() == [len(doubled) + 1]
    assert set(dup["severity"]) == {"warning"}
    people = fetch(engine, select(Person))
    assert len(people) == len(frame)
    assert sum(p.nik == frame.at[1, "NIK"] for p in people) == 1


def _nik_in_two_kk(frame: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """Copy a wife's identity into another family; returns (frame, row a, row b) as sheet rows."""
    frame = frame.copy()
    a = first_index(frame, "ISTRI")
    b = frame.index[(frame["No KK"] != frame.at[a, "No KK"]) & (frame["Hubungan Keluarga"] == "ISTRI")][0]
    for col in ("NIK", "Nama", "Jenis Kelamin", "Tanggal Lahir"):
        frame.at[b, col] = frame.at[a, col]
    return frame, a + 2, b + 2


def test_nik_in_two_kk_blocks_both_rows(engine, operator):
    """Guards nik_in_two_kk: both rows are named, severity blocking, and nothing is written."""
    frame, row_a, row_b = _nik_in_two_kk(extract(6))
    before = table_counts(engine)
    result = do_import(engine, to_csv(frame), operator)
    assert not result.imported
    found = problems_of(result, "nik_in_two_kk")
    assert sorted(found["row"]) == sorted([row_a, row_b])
    assert set(found["severity"]) == {"blocking"}
    assert table_counts(engine) == before


def test_lurah_may_waive_nik_in_two_kk_with_reason(engine, lurah):
    """Guards the waiver: the Lurah imports with a reason; a waived flag and a flag.waived audit entry remain."""
    frame, _, _ = _nik_in_two_kk(extract(6))
    result = do_import(engine, to_csv(frame), lurah, waive={"nik_in_two_kk": REASON})
    assert result.imported
    shared = frame.at[first_index(frame, "ISTRI"), "NIK"]
    waived = fetch(engine, select(Flag).where(Flag.code == "nik_in_two_kk"))
    assert len(waived) == 2 and {f.status for f in waived} == {"waived"}
    assert {f.nik for f in waived} == {shared}
    assert all(f.resolution_note == REASON and f.resolved_by == "lurah.km" for f in waived)
    assert len({f.family_id for f in waived}) == 2
    entries = fetch(engine, select(AuditEntry).where(AuditEntry.action == "flag.waived"))
    assert len(entries) == 1
    after = json.loads(entries[0].after)
    assert after["kode"] == "nik_in_two_kk" and after["alasan"] == REASON
    assert len(fetch(engine, select(Person).where(Person.nik == shared))) == 2


def test_operator_may_not_waive(engine, operator):
    """Guards the waiver rule: an operator's waive is refused (AccessDenied) and writes nothing."""
    frame, _, _ = _nik_in_two_kk(extract(6))
    before = table_counts(engine)
    with pytest.raises(AccessDenied):
        do_import(engine, to_csv(frame), operator, waive={"nik_in_two_kk": REASON})
    assert table_counts(engine) == before


def test_waiver_needs_a_reason(engine, lurah):
    """Guards the waiver rule: a waiver without a real reason is refused."""
    frame, _, _ = _nik_in_two_kk(extract(6))
    with pytest.raises(InvalidInput) as info:
        do_import(engine, to_csv(frame), lurah, waive={"nik_in_two_kk": "  "})
    assert info.value.code == "waiver_reason_missing"


def test_mixed_desil_in_one_kk_is_blocking(engine, operator):
    """Guards desil_conflict: members of one KK with different desil block the import, on every member's row."""
    frame = extract(6)
    i = first_index(frame, "ISTRI")
    kk = frame.at[i, "No KK"]
    old = int(frame.at[i, "Desil"])
    frame.at[i, "Desil"] = str(old % 10 + 1)
    result = do_import(engine, to_csv(frame), operator)
    assert not result.imported
    conflict = problems_of(result, "desil_conflict")
    assert sorted(conflict["row"]) == sorted(frame.index[frame["No KK"] == kk] + 2)
    assert set(conflict["severity"]) == {"blocking"}
    assert set(conflict["column"]) == {"Desil"}


def test_children_born_after_2000_are_not_invalid(engine, operator):
    """Guards the century: NIKs of children born after 2000 (incl. 29/02/2000) are valid, as stdnum says."""
    frame = extract(10)
    i = first_index(frame, "ANAK")
    frame.at[i, "Tanggal Lahir"] = "29/02/2000"
    female = frame.at[i, "Jenis Kelamin"] == "P"
    frame.at[i, "NIK"] = nik_for(frame.at[i, "NIK"][:6], pd.Timestamp("2000-02-29").date(), female, 4321)
    born = pd.to_datetime(frame["Tanggal Lahir"], format="%d/%m/%Y")
    assert (born.dt.year > 2000).sum() >= 2
    assert all(stdnum_nik.is_valid(n) for n in frame["NIK"])
    result = do_import(engine, to_csv(frame), operator)
    assert result.imported
    assert problems_of(result, "nik_invalid").empty
    assert problems_of(result, "nik_birthdate_mismatch").empty
    assert problems_of(result, "age_implausible").empty
    child = fetch(engine, select(Person).where(Person.nik == frame.at[i, "NIK"]))[0]
    assert child.tanggal_lahir.year == 2000


# --- all or nothing -----------------------------------------------------------------------------------------


def _with_one_bad_family(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    frame = frame.copy()
    i = first_index(frame, "ISTRI")
    frame.at[i, "NIK"] = "0075010101800001"  # province 00: nik_invalid
    return frame, frame.at[i, "No KK"]


def test_any_blocking_problem_writes_nothing(engine, operator):
    """Guards all-or-nothing: one invalid NIK means no family, person, import, file, audit entry or flag."""
    frame, _ = _with_one_bad_family(extract(8))
    before = table_counts(engine)
    result = do_import(engine, to_csv(frame), operator)
    assert not result.imported
    assert result.counts["blocking"] >= 1
    assert table_counts(engine) == before


def test_dry_run_writes_nothing(engine, operator):
    """Guards dry_run: a clean extract is checked but not stored."""
    before = table_counts(engine)
    result = do_import(engine, to_csv(extract(5)), operator, dry_run=True)
    assert not result.imported
    assert table_counts(engine) == before


def test_skip_invalid_imports_only_clean_families(engine, operator):
    """Guards the explicit partial import: the bad family is left out whole and skipped_rows reports it."""
    frame, bad_kk = _with_one_bad_family(extract(8))
    result = do_import(engine, to_csv(frame), operator, skip_invalid=True)
    assert result.imported
    bad_size = int((frame["No KK"] == bad_kk).sum())
    assert result.counts["skipped_rows"] == bad_size
    families = {f.no_kk for f in fetch(engine, select(Family))}
    assert bad_kk not in families
    assert families == set(frame["No KK"]) - {bad_kk}
    assert len(fetch(engine, select(Person))) == len(frame) - bad_size
    record = fetch(engine, select(RegisterImport))[0]
    assert record.skipped_rows == bad_size


# --- column names -------------------------------------------------------------------------------------------


def test_column_names_spelt_differently_are_recognised(engine, operator):
    """Guards the synonym table: Nomor KK, NIK ART, Nama Lengkap, Tgl Lahir, SHDK map to Muskel's fields."""
    frame = extract(4).rename(columns={"No KK": "Nomor KK", "NIK": "NIK ART", "Nama": "Nama Lengkap",
                                       "Tanggal Lahir": "Tgl Lahir", "Hubungan Keluarga": "SHDK"})
    result = do_import(engine, to_csv(frame), operator)
    assert result.imported, result.problems
    assert result.mapping["Nomor KK"] == "no_kk" and result.mapping["NIK ART"] == "nik"
    assert result.mapping["Tgl Lahir"] == "tanggal_lahir" and result.mapping["SHDK"] == "hubungan"
    people = fetch(engine, select(Person))
    assert all(p.tanggal_lahir is not None and p.hubungan for p in people)
    assert {p.nama for p in people} == set(frame["Nama Lengkap"])


def test_unknown_column_needs_a_column_map(engine, operator):
    """Guards columns_missing: an unrecognised NIK column is refused until the user maps it."""
    frame = extract(4).rename(columns={"NIK": "Kolom Aneh"})
    with pytest.raises(InvalidInput) as info:
        do_import(engine, to_csv(frame), operator)
    assert info.value.code == "columns_missing"
    assert "NIK" in info.value.message
    result = do_import(engine, to_csv(frame), operator, column_map={"Kolom Aneh": "nik"})
    assert result.imported
    assert {p.nik for p in fetch(engine, select(Person))} == set(frame["Kolom Aneh"])


# --- re-import ------------------------------------------------------------------------------------------------


def test_reimport_counts_and_history(engine, operator):
    """Guards re-import: new/changed/unchanged/absent counts, absent kept, before/after history, 'kembali'."""
    first = extract(10, seed=21)
    assert do_import(engine, to_csv(first), operator, filename="dtsen-2026-10.csv").imported
    kks = list(dict.fromkeys(first["No KK"]))
    changed_kk, gone = kks[0], kks[1:3]
    extra = generate(KEL, 3, seed=99, id_prefix="NEW")
    assert not set(extra["No KK"]) & set(first["No KK"]) and not set(extra["NIK"]) & set(first["NIK"])
    second = first[~first["No KK"].isin(gone)].copy()
    second.loc[second["No KK"] == changed_kk, "Alamat"] = "Jl. Baru No. 1"
    second = pd.concat([second, extra], ignore_index=True)

    result = do_import(engine, to_csv(second), operator, filename="dtsen-2026-11.csv")
    assert result.imported
    assert {k: result.counts[k] for k in ("new", "changed", "unchanged", "absent")} == \
        {"new": 3, "changed": 1, "unchanged": 7, "absent": 2}
    families = {f.no_kk: f for f in fetch(engine, select(Family))}
    assert len(families) == 13  # nothing deleted
    assert {kk for kk, f in families.items() if f.status == "absen"} == set(gone)
    gone_people = fetch(engine, select(Person).where(Person.family_id == families[gone[0]].id))
    assert len(gone_people) == int((first["No KK"] == gone[0]).sum())
    change = fetch(engine, select(RegisterChange).where(RegisterChange.family_id == families[changed_kk].id,
                                                        RegisterChange.change == "berubah"))
    assert len(change) == 1
    before, after = json.loads(change[0].before), json.loads(change[0].after)
    assert before["alamat"] == first.loc[first["No KK"] == changed_kk, "Alamat"].iloc[0]
    assert after["alamat"] == "Jl. Baru No. 1"
    record = fetch(engine, select(RegisterImport).where(RegisterImport.id == result.import_id))[0]
    assert (record.new, record.changed, record.unchanged, record.absent) == (3, 1, 7, 2)

    third = first.copy()  # the first extract again: the two absent come back, the three new leave
    result = do_import(engine, to_csv(third), operator, filename="dtsen-2026-12.csv")
    assert {k: result.counts[k] for k in ("new", "changed", "unchanged", "absent")} == \
        {"new": 0, "changed": 3, "unchanged": 7, "absent": 3}
    families = {f.no_kk: f for f in fetch(engine, select(Family))}
    assert all(families[kk].status == "aktif" for kk in gone)
    back = fetch(engine, select(RegisterChange).where(RegisterChange.family_id == families[gone[0]].id)
                 .order_by(RegisterChange.id))
    assert [c.change for c in back] == ["baru", "absen", "kembali"]


def test_reimport_updates_members_by_nik_and_keeps_both_snapshots(engine, operator):
    """Guards the member side of a re-import: a renamed member is found by the new name (and no longer by the
    old), a new member is added, a missing member stays as 'absen', a family's new desil is stored, and each
    changed family's history holds what it was and what it became."""
    first = extract(6, seed=41)
    assert do_import(engine, to_csv(first), operator).imported
    kks = list(dict.fromkeys(first["No KK"]))
    members = first.index[first["No KK"] == kks[0]]
    assert len(members) >= 2
    renamed, leaving = members[0], members[-1]
    old_name, left_nik = first.at[renamed, "Nama"], first.at[leaving, "NIK"]
    newcomer = first.loc[[members[0]]].copy()
    newcomer["NIK"] = nik_for(newcomer.at[members[0], "NIK"][:6], datetime.date(2026, 3, 5), True, 7777)
    newcomer["Nama"], newcomer["Hubungan Keluarga"], newcomer["Tanggal Lahir"] = "ZULAIKHA BAYI", "ANAK", "05/03/2026"
    second = pd.concat([first.drop(index=leaving), newcomer], ignore_index=True)
    second.loc[second["NIK"] == first.at[renamed, "NIK"], "Nama"] = "QOMARIAH WIDYASTUTI"
    new_desil = 10 if int(first.loc[first["No KK"] == kks[1], "Desil"].iloc[0]) != 10 else 9
    second.loc[second["No KK"] == kks[1], "Desil"] = str(new_desil)

    result = do_import(engine, to_csv(second), operator)
    assert {k: result.counts[k] for k in ("new", "changed", "unchanged", "absent")} == \
        {"new": 0, "changed": 2, "unchanged": 4, "absent": 0}
    families = {f.no_kk: f for f in fetch(engine, select(Family))}
    assert families[kks[1]].desil == new_desil
    people = {p.nik: p for p in fetch(engine, select(Person).where(Person.family_id == families[kks[0]].id))}
    assert set(people) == set(first.loc[members, "NIK"]) | set(newcomer["NIK"])
    assert people[left_nik].status == "absen"
    assert people[newcomer["NIK"].iloc[0]].tanggal_lahir == datetime.date(2026, 3, 5)
    assert {p.status for nik, p in people.items() if nik != left_nik} == {"aktif"}
    with db.session_scope(engine) as session:
        found = search(RegisterQuery(text="omariah widya"), actor=operator, session=session)
        assert [r["nama"] for r in found] == ["QOMARIAH WIDYASTUTI"]
        assert not [r for r in search(RegisterQuery(text=old_name), actor=operator, session=session)
                    if r["family_id"] == families[kks[0]].id and r["nama"] == old_name]
    history = {c.family_id: c for c in fetch(engine, select(RegisterChange).where(RegisterChange.change == "berubah"))}
    assert set(history) == {families[kks[0]].id, families[kks[1]].id}
    before, after = json.loads(history[families[kks[0]].id].before), json.loads(history[families[kks[0]].id].after)
    assert [m["nik"] for m in before["anggota"]] == sorted(first.loc[members, "NIK"])
    assert [m["nik"] for m in after["anggota"]] == sorted(set(first.loc[members, "NIK"]) | set(newcomer["NIK"]))
    by_nik = {m["nik"]: m for m in after["anggota"]}
    assert by_nik[left_nik]["status"] == "absen" and by_nik[newcomer["NIK"].iloc[0]]["tanggal_lahir"] == "2026-03-05"
    assert {m["nama"] for m in before["anggota"]} >= {old_name} and "QOMARIAH WIDYASTUTI" not in \
        {m["nama"] for m in before["anggota"]}
    desil_change = json.loads(history[families[kks[1]].id].before), json.loads(history[families[kks[1]].id].after)
    assert (desil_change[0]["desil"], desil_change[1]["desil"]) == (int(first.loc[first["No KK"] == kks[1],
                                                                                     "Desil"].iloc[0]), new_desil)


def test_reimport_with_many_changes_reports_progress_in_order(engine, operator, monkeypatch):
    """Guards the progress bar of a long re-import: the changed families are counted as they are updated, in
    Indonesian, and the bar never goes back."""
    monkeypatch.setattr(register, "_PROGRESS_EVERY", 2)
    first = extract(6, seed=43)
    assert do_import(engine, to_csv(first), operator).imported
    moved = first.assign(Desil=(first["Desil"].astype(int) % 10 + 1).astype(str))
    seen = []
    result = do_import(engine, to_csv(moved), operator, progress=lambda f, text: seen.append((f, text)))
    assert result.counts["changed"] == 6
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    counted = [text for _, text in seen if text.startswith("Memperbarui keluarga yang berubah… ")]
    assert counted == [f"Memperbarui keluarga yang berubah… {n} dari 6" for n in (0, 2, 4)]


def test_reimporting_the_same_file_changes_nothing(engine, operator):
    """Guards the content hash: the same extract twice is all 'unchanged', with no new history rows."""
    data = to_csv(extract(6))
    do_import(engine, data, operator)
    changes = len(fetch(engine, select(RegisterChange)))
    result = do_import(engine, data, operator)
    assert {k: result.counts[k] for k in ("new", "changed", "unchanged", "absent")} == \
        {"new": 0, "changed": 0, "unchanged": 6, "absent": 0}
    assert len(fetch(engine, select(RegisterChange))) == changes



def test_missing_birth_dates_and_desil_import_and_reimport(engine, operator):
    """Guards optional columns: members without a birth date and a family without desil are imported (stored
    empty), and a later change of that family's address is still seen as a change."""
    first = extract(5, seed=31)
    kks = list(dict.fromkeys(first["No KK"]))
    undated = first.index[first["No KK"] == kks[0]]
    first.loc[undated, "Tanggal Lahir"] = ""
    first.loc[first["No KK"] == kks[1], "Desil"] = ""
    result = do_import(engine, to_csv(first), operator)
    assert result.imported and result.counts["new"] == 5
    with engine.connect() as conn:
        dates = conn.execute(sa.text("SELECT p.tanggal_lahir FROM person p JOIN family f ON f.id = p.family_id "
                                     "WHERE f.no_kk = :kk"), {"kk": kks[0]}).scalars().all()
        desil = conn.execute(sa.text("SELECT desil FROM family WHERE no_kk = :kk"), {"kk": kks[1]}).scalar_one()
    assert len(dates) == len(undated) and all(d is None for d in dates)
    assert desil is None

    second = first.copy()
    second.loc[second["No KK"] == kks[1], "Alamat"] = "Jl. Pindahan No. 9"
    result = do_import(engine, to_csv(second), operator)
    assert {k: result.counts[k] for k in ("new", "changed", "unchanged", "absent")} == \
        {"new": 0, "changed": 1, "unchanged": 4, "absent": 0}

# --- file store and audit -----------------------------------------------------------------------------------


def test_original_file_is_kept_in_the_file_store(engine, operator):
    """Guards provenance: the exact uploaded bytes are stored and StoredFile.sha256 is their SHA-256."""
    data = to_csv(extract(4))
    result = do_import(engine, data, operator, filename="ekstrak.csv")
    record = fetch(engine, select(RegisterImport).where(RegisterImport.id == result.import_id))[0]
    stored = fetch(engine, select(StoredFile).where(StoredFile.id == record.file_id))[0]
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data) and stored.original_name == "ekstrak.csv"
    assert filestore.default_store().get(stored.sha256) == data


def test_one_audit_entry_per_import_with_counts(engine, operator):
    """Guards the audit trail: each import records one register.imported entry with its counts and SHA-256."""
    first = extract(5)
    do_import(engine, to_csv(first), operator)
    second = first[first["No KK"] != first.at[0, "No KK"]]
    data = to_csv(second)
    do_import(engine, data, operator)
    entries = fetch(engine, select(AuditEntry).where(AuditEntry.action == "register.imported")
                    .order_by(AuditEntry.seq))
    assert len(entries) == 2
    assert all(e.actor_username == "operator.km" and e.wilayah_kode == KEL for e in entries)
    after = json.loads(entries[1].after)
    assert (after["new"], after["changed"], after["unchanged"], after["absent"]) == (0, 0, 4, 1)
    assert after["persons"] == len(second)
    assert after["sha256"] == hashlib.sha256(data).hexdigest()


# --- screening warnings become flags -------------------------------------------------------------------------


def _with_warnings(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Plant non_dki, age_implausible and exclusion_hint; returns the frame and the affected NIKs/KKs."""
    frame = frame.copy()
    wife = first_index(frame, "ISTRI")
    frame.at[wife, "NIK"] = "3275" + frame.at[wife, "NIK"][4:]  # Kota Bekasi
    child = first_index(frame, "ANAK")
    kk = frame.at[child, "No KK"]
    head = frame.index[(frame["No KK"] == kk) & (frame["Hubungan Keluarga"] == "KEPALA KELUARGA")][0]
    head_born = pd.to_datetime(frame.at[head, "Tanggal Lahir"], format="%d/%m/%Y").date()
    older = head_born.replace(year=head_born.year - 1)
    frame.at[child, "Tanggal Lahir"] = older.strftime("%d/%m/%Y")
    frame.at[child, "NIK"] = nik_for(frame.at[child, "NIK"][:6], older, frame.at[child, "Jenis Kelamin"] == "P",
                                     int(frame.at[child, "NIK"][-4:]))
    pns = frame.index[(frame["Hubungan Keluarga"] == "KEPALA KELUARGA") & (frame["No KK"] != kk)][-1]
    frame.at[pns, "Pekerjaan"] = "PNS"
    return frame, {"non_dki": frame.at[wife, "NIK"], "age_implausible": frame.at[child, "NIK"],
                   "exclusion_hint": frame.at[pns, "NIK"]}


def test_warnings_become_open_flags(engine, operator):
    """Guards screening on import: warnings never block and become open flags on the right person."""
    frame, planted = _with_warnings(extract(10))
    result = do_import(engine, to_csv(frame), operator)
    assert result.imported, result.blocking
    open_flags = fetch(engine, select(Flag).where(Flag.status == "open"))
    for code, nik in planted.items():
        matching = [f for f in open_flags if f.code == code and f.nik == nik]
        assert len(matching) == 1, (code, [(f.code, f.nik) for f in open_flags])
        assert matching[0].severity == "warning" and matching[0].family_id is not None
        assert matching[0].kelurahan_kode == KEL and matching[0].import_id == result.import_id
    assert "Jawa Barat" in next(f.message for f in open_flags if f.code == "non_dki")


def test_dup_other_kelurahan_names_only_the_kelurahan(engine, operator, other_operator):
    """Guards dup_other_kelurahan: 'Kel. Palmeriam' is named, the other family's name/KK/members are not."""
    palmeriam = generate(OTHER, 3, seed=5, id_prefix="PM")
    assert do_import(engine, to_csv(palmeriam), other_operator, kode=OTHER).imported
    shared = palmeriam.iloc[1]
    frame = extract(5)
    i = first_index(frame, "ISTRI")
    frame.at[i, "NIK"] = shared["NIK"]
    frame.at[i, "Tanggal Lahir"] = shared["Tanggal Lahir"]
    frame.at[i, "Jenis Kelamin"] = shared["Jenis Kelamin"]
    frame.at[i, "Nama"] = "NAMA DI KAYU MANIS"
    result = do_import(engine, to_csv(frame), operator)
    assert result.imported
    dup = problems_of(result, "dup_other_kelurahan")
    assert dup["row"].tolist() == [i + 2]
    flag = fetch(engine, select(Flag).where(Flag.code == "dup_other_kelurahan", Flag.kelurahan_kode == KEL))
    assert len(flag) == 1 and flag[0].status == "open" and flag[0].nik == shared["NIK"]
    for message in [*dup["message"], flag[0].message]:
        assert "Kel. Palmeriam" in message
        assert shared["No KK"] not in message and shared["Nama"] not in message
        assert shared["ID DTSEN"] not in message and shared["Alamat"] not in message
        assert not any(n in message for n in palmeriam["Nama"])


def test_reimport_keeps_open_flags_and_respects_closed_ones(engine, operator):
    """Guards flag identity on re-import: open flags are not duplicated; a flag closed with a note stays closed."""
    frame, planted = _with_warnings(extract(10))
    data = to_csv(frame)
    do_import(engine, data, operator)
    first = fetch(engine, select(Flag).order_by(Flag.id))
    assert first and all(f.status == "open" for f in first)
    closed = next(f for f in first if f.code == "exclusion_hint")
    with db.session_scope(engine) as session:
        flags.close_flag(closed.id, "Sudah pensiun sejak 2024, dicek RT.", actor=operator, session=session)
    do_import(engine, data, operator)
    again = fetch(engine, select(Flag).order_by(Flag.id))
    assert [(f.id, f.code, f.nik) for f in again] == [(f.id, f.code, f.nik) for f in first]
    by_id = {f.id: f for f in again}
    assert by_id[closed.id].status == "resolved"
    assert by_id[closed.id].resolution_note == "Sudah pensiun sejak 2024, dicek RT."
    assert all(f.status == "open" for f in again if f.id != closed.id)


def test_flag_whose_finding_is_gone_is_closed_by_the_next_import(engine, operator):
    """Guards stale flags: when a corrected extract no longer has the finding, its open flag is resolved."""
    frame, planted = _with_warnings(extract(10))
    do_import(engine, to_csv(frame), operator)
    fixed = frame.copy()
    fixed.loc[fixed["NIK"] == planted["exclusion_hint"], "Pekerjaan"] = "WIRASWASTA"
    do_import(engine, to_csv(fixed), operator)
    hint = fetch(engine, select(Flag).where(Flag.code == "exclusion_hint"))
    assert len(hint) == 1 and hint[0].status == "resolved" and hint[0].resolved_by == "import"


# --- access ---------------------------------------------------------------------------------------------------


def test_operator_of_another_kelurahan_is_refused(engine, other_operator):
    """Guards scope: an operator of Palmeriam cannot import into Kayu Manis, and nothing is written."""
    before = table_counts(engine)
    with pytest.raises(AccessDenied):
        do_import(engine, to_csv(extract(3)), other_operator, kode=KEL)
    assert table_counts(engine) == before


def test_kecamatan_is_not_an_import_target(engine, lurah):
    """Guards not_a_kelurahan: extracts are imported per kelurahan, never for a kecamatan."""
    with pytest.raises(InvalidInput) as info:
        do_import(engine, to_csv(extract(3)), lurah, kode="31.75.01")
    assert info.value.code == "not_a_kelurahan"


def test_petugas_may_not_import(engine, make_account):
    """Guards the role matrix: a field officer of the kelurahan cannot import an extract."""
    petugas = make_account(engine, "petugas.km", "petugas", KEL)
    with pytest.raises(AccessDenied):
        do_import(engine, to_csv(extract(3)), petugas)
