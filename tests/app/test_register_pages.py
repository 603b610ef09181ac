"""The DTSEN register screens through AppTest: Impor DTSEN (upload, check, import, partial import, column
mapping), Cari keluarga (masked result list, family view, the camat's kelurahan filter) and Temuan data.

Files are uploaded with AppTest's ``FileUploader.upload``; dataframe row selection is set through the table's
key in session state (the way AppTest offers for selections). Everything runs against the SQLite test database.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from sqlmodel import func, select

from core import db, register
from core.demo_register import break_like_excel, generate, plant_screening_findings, to_csv, to_xlsx
from core.models import Family, Flag, Person, RegisterImport
from tests.app.conftest import screen_text, titles

KAYUMANIS, PALMERIAM = "31.75.01.1003", "31.75.01.1004"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TITLE = "Ekstrak DTSEN Kelurahan Kayu Manis — periode uji"
FULL_NIK = re.compile(r"(?<!\d)\d{16}(?!\d)")


# --- helpers ---------------------------------------------------------------------------------------------------

def _extract(families: int = 30, seed: int = 7, kode: str = KAYUMANIS) -> pd.DataFrame:
    return generate(kode, families, seed=seed)


def _count(model) -> int:
    with db.session_scope() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def _family_kks(kode: str = KAYUMANIS) -> set[str]:
    with db.session_scope() as s:
        return set(s.exec(select(Family.no_kk).where(Family.kelurahan_kode == kode)).all())


def _import(frame: pd.DataFrame, actor, kode: str = KAYUMANIS, name: str = "ekstrak.csv"):
    with db.session_scope() as s:
        result = register.import_extract(to_csv(frame), name, kode, actor=actor, session=s)
    assert result.imported, result.blocking
    return result


def _open(logged_in, actor, page: str):
    at = logged_in(actor)
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _upload(at, name: str, data: bytes, mime: str = XLSX):
    at.file_uploader(key="dtsen_file").set_value((name, data, mime)).run()
    assert not at.exception, at.exception
    return at


def _press(at, key: str):
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def _table_with(at, column: str) -> pd.DataFrame:
    tables = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(tables) == 1, f"expected one table with column {column!r}, found {len(tables)}"
    return tables[0]


def _select_row(at, key: str, row: int):
    """Select a row of a keyed ``st.dataframe(on_select="rerun")`` as a click in the browser would, and rerun."""
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    return at


def _bad_kks(frame: pd.DataFrame, broken: pd.DataFrame) -> set[str]:
    """The families break_like_excel spoiled: the four Excel-float NIKs and both KKs of the shared NIK."""
    changed = broken.index[broken["NIK"] != frame["NIK"]]
    shared = broken["NIK"][broken["NIK"].duplicated(keep=False)]
    return set(broken.loc[changed, "No KK"]) | set(broken.loc[shared.index, "No KK"])


# --- Impor DTSEN -----------------------------------------------------------------------------------------------

def test_import_check_refuses_broken_file_then_imports_clean_one(sqlite_only, make_account, logged_in):
    """Guards: "Periksa saja" on an extract Excel broke writes nothing and lists nik_excel_float with the
    spreadsheet's own row numbers (under a title row) plus the XLSX download; then "Impor" of the clean file
    stores the families, reports the counts and shows the file in the import history."""
    operator = make_account(sqlite_only, "operator.km", "operator", KAYUMANIS, nama="Operator Kayu Manis")
    frame = _extract()
    broken = break_like_excel(frame)
    at = _open(logged_in, operator, "pages/impor_dtsen.py")
    assert titles(at) == ["Impor data DTSEN"]
    assert "Belum ada ekstrak yang diimpor." in [c.value for c in at.caption]
    assert not _errors(at)

    _upload(at, "kayumanis_rusak.xlsx", to_xlsx(broken, TITLE))
    assert any(m.value.startswith(f"**kayumanis_rusak.xlsx** · {len(broken)} baris data · header di baris 3")
               for m in at.markdown), [m.value for m in at.markdown]
    _press(at, "dtsen_check")
    [error] = _errors(at)
    assert error.startswith("Tidak ada yang diimpor: ")
    assert not at.success
    problems = _table_with(at, "Kode")
    float_rows = sorted(problems.loc[problems["Kode"] == "nik_excel_float", "Baris"].tolist())
    # title row 1, empty row 2, header row 3: data row i (0-based) is spreadsheet row i + 4
    assert float_rows == [i + 4 for i in broken.index[broken["NIK"].str.contains("E+", regex=False)]]
    assert float_rows == [9, 10, 11, 12]
    assert set(problems.loc[problems["Kode"] == "nik_excel_float", "Kolom"]) == {"NIK"}
    assert "nik_in_two_kk" in set(problems["Kode"])
    assert problems["Jenis"].iloc[0] == "penghalang", "blocking problems come first"
    [download] = at.get("download_button")
    assert download.key == "dtsen_problems_xlsx" and "XLSX" in download.label
    assert (_count(Family), _count(Person), _count(RegisterImport)) == (0, 0, 0), "a check must write nothing"
    assert "Belum ada ekstrak yang diimpor." in [c.value for c in at.caption]

    _upload(at, "kayumanis.xlsx", to_xlsx(frame, TITLE))
    _press(at, "dtsen_check")  # a clean file passes the check, and the check still writes nothing
    assert not _errors(at) and not at.success
    assert any(i.value.startswith("Pemeriksaan selesai: tidak ada masalah penghalang") for i in at.info)
    assert (_count(Family), _count(RegisterImport)) == (0, 0)

    _press(at, "dtsen_import")
    assert not _errors(at)
    [success] = [s.value for s in at.success]
    families = frame["No KK"].nunique()
    assert success == (f"Ekstrak kayumanis.xlsx diimpor: {len(frame)} orang. Keluarga baru {families}, berubah 0, "
                       "tetap 0, tidak ada lagi di ekstrak (absen) 0."), success
    assert "dilewati" not in success
    assert _family_kks() == set(frame["No KK"])
    assert _count(Person) == len(frame)
    history = _table_with(at, "Berkas")
    assert history["Berkas"].tolist() == ["kayumanis.xlsx"]
    assert history[["Oleh", "Orang", "Keluarga", "Baru"]].iloc[0].tolist() == [
        "operator.km", len(frame), families, families]
    assert "Belum ada ekstrak yang diimpor." not in [c.value for c in at.caption]


def test_import_broken_file_only_with_explicit_skip_imports_only_clean_families(sqlite_only, make_account,
                                                                                 logged_in):
    """Guards: "Impor" of a file with blocking problems imports nothing unless "skip_invalid" is ticked; with it,
    exactly the families without a blocking problem are imported (whole), and the skipped rows are reported."""
    operator = make_account(sqlite_only, "operator.km", "operator", KAYUMANIS)
    frame = _extract()
    broken = break_like_excel(frame)
    bad = _bad_kks(frame, broken)
    assert 2 < len(bad) < frame["No KK"].nunique()
    at = _open(logged_in, operator, "pages/impor_dtsen.py")
    _upload(at, "kayumanis_rusak.xlsx", to_xlsx(broken, TITLE))

    _press(at, "dtsen_import")
    [error] = _errors(at)
    assert error.startswith("Tidak ada yang diimpor")
    assert _count(Family) == 0 and _count(RegisterImport) == 0

    at.checkbox(key="skip_invalid").check().run()
    _press(at, "dtsen_import")
    assert not _errors(at)
    [success] = [s.value for s in at.success]
    skipped = int(broken["No KK"].isin(bad).sum())
    assert success.endswith(f" {skipped} baris dilewati."), success
    assert _family_kks() == set(frame["No KK"]) - bad
    history = _table_with(at, "Berkas")
    assert history["Keluarga"].tolist() == [frame["No KK"].nunique() - len(bad)]


def test_unrecognised_nik_header_is_mapped_on_screen(sqlite_only, make_account, logged_in):
    """Guards: a NIK column under an unknown name is refused with a clear message until the user maps it in
    "Pemetaan kolom" (map_ selectboxes); after mapping it to NIK the import works and stores the NIKs."""
    operator = make_account(sqlite_only, "operator.km", "operator", KAYUMANIS)
    frame = _extract(families=12, seed=11).rename(columns={"NIK": "Nomor Identitas"})
    at = _open(logged_in, operator, "pages/impor_dtsen.py")
    _upload(at, "kolom_aneh.csv", to_csv(frame, sep=";"), "text/csv")
    [nik_box] = [b for b in at.selectbox if b.key == "map_2_Nomor Identitas"]
    assert nik_box.value == "(abaikan)"
    assert at.selectbox(key="map_1_No KK").value == "no_kk"
    [mapping] = [e for e in at.expander if e.label == "Pemetaan kolom"]
    assert mapping.proto.expanded, "a missing required column must open the mapping"

    _press(at, "dtsen_import")
    [error] = _errors(at)
    assert "Kolom wajib tidak ditemukan: NIK" in error
    assert _count(Family) == 0

    at.selectbox(key="map_2_Nomor Identitas").set_value("nik").run()
    assert not at.exception, at.exception
    _press(at, "dtsen_import")
    assert not _errors(at), _errors(at)
    assert any(s.value.startswith(f"Ekstrak kolom_aneh.csv diimpor: {len(frame)} orang.") for s in at.success)
    with db.session_scope() as s:
        assert set(s.exec(select(Person.nik)).all()) == set(frame["Nomor Identitas"])


def test_new_upload_does_not_show_the_previous_files_result(sqlite_only, make_account, logged_in):
    """Guards: after a check refused one file, uploading a corrected file must not show the refusal
    ("Tidak ada yang diimpor: N masalah penghalang") and the old problem list as if they were about the new file."""
    operator = make_account(sqlite_only, "operator.km", "operator", KAYUMANIS)
    frame = _extract()
    at = _open(logged_in, operator, "pages/impor_dtsen.py")
    _upload(at, "kayumanis_rusak.xlsx", to_xlsx(break_like_excel(frame), TITLE))
    _press(at, "dtsen_check")
    assert _errors(at)
    _upload(at, "kayumanis.xlsx", to_xlsx(frame, TITLE))
    assert any(m.value.startswith("**kayumanis.xlsx**") for m in at.markdown)
    assert not _errors(at), _errors(at)
    assert not [d for d in at.dataframe if "Kode" in d.value.columns]
    assert not at.get("download_button")


def test_large_extract_row_count_uses_indonesian_digit_grouping(sqlite_only, make_account, logged_in):
    """Guards: the uploaded file's row count is grouped the Indonesian way ("1.0xx baris data", not "1,0xx" or
    "10xx"), and the file name next to it is shown as uploaded."""
    operator = make_account(sqlite_only, "operator.km", "operator", KAYUMANIS)
    frame = _extract(families=330, seed=5)
    assert 1000 <= len(frame) < 10000
    at = _open(logged_in, operator, "pages/impor_dtsen.py")
    _upload(at, "ekstrak,nov.csv", to_csv(frame), "text/csv")
    grouped = f"{len(frame) // 1000}.{len(frame) % 1000:03d}"
    assert f"**ekstrak,nov.csv** · {grouped} baris data · header di baris 1" in [m.value for m in at.markdown], \
        [m.value for m in at.markdown]


# --- Cari keluarga ---------------------------------------------------------------------------------------------

def test_search_lists_masked_niks_and_family_view_shows_full_ones(sqlite_only, make_account, logged_in):
    """Guards: a name search lists people with masked NIKs only (no full NIK anywhere on screen) and the
    "orang ditemukan" count; a 2-letter name is refused in Indonesian; selecting a row opens the family with
    its full NIKs."""
    operator = make_account(sqlite_only, "operator.km", "operator", KAYUMANIS)
    frame = _extract()
    _import(frame, operator)
    surname = frame.at[0, "Nama"].split()[-1]
    part = surname[1:5].lower()  # a part from the middle of the name, lower case
    expected = frame[frame["Nama"].str.contains(part.upper())]
    assert 0 < len(expected) < 50

    at = _open(logged_in, operator, "pages/cari_keluarga.py")
    assert titles(at) == ["Cari keluarga"]
    assert not at.dataframe
    at.text_input(key="reg_text").input(part).run()
    assert not at.exception and not _errors(at), _errors(at)
    assert f"{len(expected)} orang ditemukan." in [c.value for c in at.caption]
    results = at.dataframe(key="reg_results").value
    assert sorted(results["Nama"]) == sorted(expected["Nama"])
    assert all(re.fullmatch(r"\d{4}•{8}\d{4}", n) for n in results["NIK"]), results["NIK"].tolist()
    assert not FULL_NIK.search(results.to_string())
    shown = screen_text(at)
    assert not [nik for nik in frame["NIK"] if nik in shown], "a full NIK is on the result screen"
    assert not [kk for kk in frame["No KK"] if kk in shown], "a full No KK is on the result screen"

    _select_row(at, "reg_results", 0)
    first = results.iloc[0]
    family = frame[frame["No KK"].str.endswith(first["No KK"][-4:]) & frame["No KK"].str.startswith(
        first["No KK"][:4])]
    kk = family["No KK"].iloc[0]
    assert [s.value for s in at.subheader][0].startswith(f"KK {kk} · desil ")
    members = _table_with(at, "L/P")
    assert sorted(members["NIK"]) == sorted(family["NIK"])
    assert all(FULL_NIK.fullmatch(n) for n in members["NIK"])

    at.text_input(key="reg_text").input("ab").run()
    assert not at.exception
    [error] = _errors(at)
    assert "minimal 3 huruf" in error
    assert not [d for d in at.dataframe if d.key == "reg_results"]


def test_camat_filters_by_kelurahan_and_finds_kayu_manis_people(sqlite_only, make_account, logged_in):
    """Guards: a camat (several kelurahan in scope) gets the Kelurahan selectbox; "Semua" searches the whole
    kecamatan, choosing Kayu Manis narrows to it; an operator of one kelurahan gets no such selectbox."""
    operator = make_account(sqlite_only, "operator.km", "operator", KAYUMANIS)
    lurah_pm = make_account(sqlite_only, "lurah.pm", "lurah", PALMERIAM)
    camat = make_account(sqlite_only, "camat.mt", "camat", "31.75.01")
    kayumanis, palmeriam = _extract(seed=7), _extract(families=20, seed=8, kode=PALMERIAM)
    _import(kayumanis, operator)
    _import(palmeriam, lurah_pm, kode=PALMERIAM)
    surname = next(n for n in kayumanis["Nama"].str.split().str[-1]
                   if palmeriam["Nama"].str.endswith(" " + n).any())
    in_km = kayumanis[kayumanis["Nama"].str.endswith(" " + surname)]
    in_pm = palmeriam[palmeriam["Nama"].str.endswith(" " + surname)]
    assert len(in_km) + len(in_pm) < 50

    at = _open(logged_in, camat, "pages/cari_keluarga.py")
    place = at.selectbox(key="reg_place")
    assert place.value is None
    assert KAYUMANIS in place.options or "Kayu Manis" in place.options, place.options
    at.text_input(key="reg_text").input(surname.lower()).run()
    assert not at.exception and not _errors(at), _errors(at)
    results = at.dataframe(key="reg_results").value
    assert sorted(results["Nama"]) == sorted([*in_km["Nama"], *in_pm["Nama"]])
    assert set(results["Kelurahan"]) == {"Kayu Manis", "Palmeriam"}

    at.selectbox(key="reg_place").set_value(KAYUMANIS).run()
    assert not at.exception and not _errors(at), _errors(at)
    results = at.dataframe(key="reg_results").value
    assert sorted(results["Nama"]) == sorted(in_km["Nama"])
    assert set(results["Kelurahan"]) == {"Kayu Manis"}
    assert f"{len(in_km)} orang ditemukan." in [c.value for c in at.caption]

    own = _open(logged_in, operator, "pages/cari_keluarga.py")
    assert not [s for s in own.selectbox if s.key == "reg_place"]


# --- Temuan data -----------------------------------------------------------------------------------------------

def _import_with_findings(make_account, sqlite_only):
    operator = make_account(sqlite_only, "operator.km", "operator", KAYUMANIS)
    frame = plant_screening_findings(_extract())
    _import(frame, operator)
    return operator, frame


def test_operator_sees_open_findings_and_can_close_one(sqlite_only, make_account, logged_in):
    """Guards: the screening warnings of an import (non_dki, age_implausible, exclusion_hint) appear as open
    findings with masked NIKs; the operator can select one and close it with a note, after which it is no longer
    open."""
    operator, frame = _import_with_findings(make_account, sqlite_only)
    at = _open(logged_in, operator, "pages/temuan_data.py")
    assert titles(at) == ["Temuan data DTSEN"]
    table = at.dataframe(key="flag_table").value
    assert sorted(table["Kode"]) == ["age_implausible", "exclusion_hint", "non_dki", "non_dki"]
    assert "4 temuan." in [c.value for c in at.caption]
    assert not FULL_NIK.search(table.to_string())
    bekasi = table.loc[table["Kode"] == "non_dki", "NIK"].tolist()
    assert all(n.startswith("3275") for n in bekasi), bekasi
    assert not [b for b in at.button if "Tutup temuan" in b.label], "no close button before a finding is chosen"

    _select_row(at, "flag_table", 0)
    flag_id = _open_flag_ids()[0]
    at.text_area(key=f"flag_note_{flag_id}").input("Sudah dicek: domisili di Kayu Manis sejak 2019.").run()
    _press(at, "flag_close")
    assert not _errors(at), _errors(at)
    assert flag_id not in _open_flag_ids()
    assert sorted(at.dataframe(key="flag_table").value["Kode"]) == ["age_implausible", "exclusion_hint", "non_dki"]


def _open_flag_ids() -> list[int]:
    with db.session_scope() as s:
        return list(s.exec(select(Flag.id).where(Flag.status == "open").order_by(Flag.id)).all())


def test_auditor_sees_findings_read_only(sqlite_only, make_account, logged_in):
    """Guards: an auditor of the kota sees the kelurahan's open findings but gets no "Tutup temuan" button even
    with a row selected (the operator, in the same state, does)."""
    operator, _ = _import_with_findings(make_account, sqlite_only)
    auditor = make_account(sqlite_only, "auditor.jt", "auditor", "31.75")
    at = _open(logged_in, auditor, "pages/temuan_data.py")
    assert not _errors(at), _errors(at)
    table = at.dataframe(key="flag_table").value
    assert {"non_dki", "age_implausible", "exclusion_hint"} <= set(table["Kode"])
    _select_row(at, "flag_table", 0)
    assert not [b for b in at.button if "Tutup temuan" in b.label]
    assert not at.text_area

    mine = _open(logged_in, operator, "pages/temuan_data.py")
    _select_row(mine, "flag_table", 0)
    assert [b.label for b in mine.button if "Tutup temuan" in b.label] == ["Tutup temuan dengan catatan"]


def test_petugas_cannot_reach_register_pages(sqlite_only, make_account, logged_in):
    """Guards: a petugas lapangan has no route to Temuan data, Cari keluarga or Impor DTSEN (switch_page is
    refused), so the whole register and its findings stay hidden from field officers."""
    _import_with_findings(make_account, sqlite_only)
    petugas = make_account(sqlite_only, "petugas.km", "petugas", KAYUMANIS)
    at = logged_in(petugas)
    for page in ("pages/temuan_data.py", "pages/cari_keluarga.py", "pages/impor_dtsen.py"):
        with pytest.raises(ValueError):
            at.switch_page(page)
    assert "Temuan data DTSEN" not in titles(at)
