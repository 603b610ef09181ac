"""Searching the register (core.register_search) on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm/ILIKE).

A small generated extract with a few planted names is imported, then searched by NIK, No KK, any part of a name,
RT/RW and desil, within the actor's wilayah. Result lists must only ever show masked NIKs; the family view shows
full numbers, members, desil, the extract and history.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlmodel import select

from core import db, register
from core.demo_register import generate, to_csv
from core.errors import AccessDenied, InvalidInput
from core.models import Family
from core.register_search import RegisterQuery, family_view, search

KEL = "31.75.01.1003"  # Kayu Manis
FILENAME = "dtsen-kayumanis-2026-11.csv"
SIXTEEN_DIGITS = re.compile(r"\d{16}")


@pytest.fixture
def operator(engine, make_account):
    return make_account(engine, "operator.km", "operator", KEL)


@pytest.fixture
def frame() -> pd.DataFrame:
    frame = generate(KEL, 12, seed=31)
    frame.at[0, "Nama"] = "BUDI SANTOSO"
    frame.at[1, "Nama"] = "SITI SANDRA"
    frame.at[2, "Nama"] = "MA'RUF AMIN"
    return frame


@pytest.fixture
def register_data(engine, operator, frame) -> pd.DataFrame:
    with db.session_scope(engine) as session:
        result = register.import_extract(to_csv(frame), FILENAME, KEL, actor=operator, session=session)
    assert result.imported, result.blocking
    return frame


def find(engine, actor, text: str = "", **kwargs) -> list[dict]:
    with db.session_scope(engine) as session:
        return search(RegisterQuery(text=text, **kwargs), actor=actor, session=session)


def names(results: list[dict]) -> set[str]:
    return {r["nama"] for r in results}


def test_search_by_full_nik(engine, operator, register_data):
    """Guards NIK lookup: a full 16-digit NIK (also typed with spaces) finds exactly that person."""
    nik = register_data.at[4, "NIK"]
    for typed in (nik, f"{nik[:6]} {nik[6:12]} {nik[12:]}"):
        results = find(engine, operator, typed)
        assert [r["nama"] for r in results] == [register_data.at[4, "Nama"]]


def test_search_by_no_kk_finds_the_family(engine, operator, register_data):
    """Guards No KK lookup: a full No KK finds every member of that family."""
    kk = register_data.at[4, "No KK"]
    results = find(engine, operator, kk)
    assert names(results) == set(register_data.loc[register_data["No KK"] == kk, "Nama"])
    assert len({r["family_id"] for r in results}) == 1


def test_partial_number_is_refused(engine, operator, register_data):
    """Guards against ambiguous number prefixes: a partial NIK is asked to be completed."""
    with pytest.raises(InvalidInput):
        find(engine, operator, register_data.at[4, "NIK"][:10])


@pytest.mark.parametrize("text, expected", [
    ("ANTOSO", {"BUDI SANTOSO"}),  # middle of the name, not only its start
    ("antoso", {"BUDI SANTOSO"}),  # case-insensitive
    ("budi santoso", {"BUDI SANTOSO"}),
    ("siti san", {"SITI SANDRA"}),
    ("ma'ruf", {"MA'RUF AMIN"}),  # an apostrophe in the name
])
def test_search_by_any_part_of_a_name(engine, operator, register_data, text, expected):
    """Guards trigram name search: any part of the name, any case, on both databases."""
    assert names(find(engine, operator, text)) == expected


def test_name_search_matches_the_same_as_a_substring_scan(engine, operator, register_data):
    """Guards the trigram index against missing or extra hits: compared with a plain substring scan."""
    for text in ("WAN", "SARI", "ahmad", "NUR "):
        expected = {n for n in register_data["Nama"] if text.strip().lower() in n.lower()}
        assert names(find(engine, operator, text, limit=200)) == expected, text


@pytest.mark.parametrize("text", ["SA", "a", " s  "])
def test_query_too_short(engine, operator, register_data, text):
    """Guards query_too_short: fewer than 3 letters of a name are refused, not a full-table scan."""
    with pytest.raises(InvalidInput) as info:
        find(engine, operator, text)
    assert info.value.code == "query_too_short"


@pytest.mark.parametrize("text", ["%%%", "___", "S_NTOSO", "SAN%", '"ANTOSO', "'; DROP TABLE person; --",
                                  'AN"TO', "\\%_"])
def test_special_characters_do_not_break_or_widen_the_search(engine, operator, register_data, text):
    """Guards escaping: %, _, quotes and backslashes are literal characters, never wildcards or syntax errors."""
    results = find(engine, operator, text, limit=200)
    assert names(results) == {n for n in register_data["Nama"] if text.strip().lower() in n.lower()}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM person")).scalar_one() == len(register_data)


def test_rt_rw_and_desil_filters(engine, operator, register_data):
    """Guards the filters: RT/RW (typed without leading zeros) and desil narrow the list exactly."""
    rt, rw, desil = register_data.at[4, "RT"], register_data.at[4, "RW"], int(register_data.at[4, "Desil"])
    results = find(engine, operator, rt=str(int(rt)), rw=str(int(rw)), limit=200)
    expected = register_data[(register_data["RT"] == rt) & (register_data["RW"] == rw)]
    assert names(results) == set(expected["Nama"]) and len(results) == len(expected)
    results = find(engine, operator, desil=(desil,), limit=200)
    expected = register_data[register_data["Desil"].astype(int) == desil]
    assert len(results) == len(expected) and {r["desil"] for r in results} == {desil}
    results = find(engine, operator, desil=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), limit=200)
    assert len(results) == len(register_data)


def test_results_show_masked_niks_only(engine, operator, register_data):
    """Guards privacy of result lists: no 16-digit number anywhere in them, the masked form instead."""
    results = find(engine, operator, limit=200)
    assert len(results) == len(register_data)
    for row in results:
        assert not SIXTEEN_DIGITS.search(" ".join(str(v) for v in row.values())), row
    nik = register_data.at[0, "NIK"]
    assert find(engine, operator, nik)[0]["nik"] == nik[:4] + "•" * 8 + nik[-4:]


def test_family_view_shows_full_niks_members_and_extract(engine, operator, register_data):
    """Guards the family view: full NIKs, all members, desil, the extract's filename and history."""
    kk = register_data.at[4, "No KK"]
    family_id = find(engine, operator, kk)[0]["family_id"]
    with db.session_scope(engine) as session:
        view = family_view(family_id, actor=operator, session=session)
    members = register_data[register_data["No KK"] == kk]
    assert view["no_kk"] == kk
    assert {m["nik"] for m in view["anggota"]} == set(members["NIK"])
    assert view["desil"] == int(members["Desil"].iloc[0])
    assert view["ekstrak"]["berkas"] == FILENAME
    assert [h["perubahan"] for h in view["riwayat"]] == ["baru"]


@pytest.mark.parametrize("kode, visible", [("31.75.01", True), ("31.75.02", False)])
def test_camat_sees_only_own_kecamatan(engine, make_account, register_data, kode, visible):
    """Guards scope: a camat of Matraman finds Kayu Manis families, a camat of another kecamatan does not."""
    camat = make_account(engine, f"camat.{kode.replace('.', '')}", "camat", kode)
    results = find(engine, camat, "SANTOSO")
    assert (names(results) == {"BUDI SANTOSO"}) is visible
    if not visible:
        assert results == []
        with pytest.raises(AccessDenied):
            find(engine, camat, "SANTOSO", kelurahan_kode=KEL)
        with db.session_scope(engine) as session:
            family_id = session.exec(select(Family.id)).first()
        with pytest.raises(AccessDenied), db.session_scope(engine) as session:
            family_view(family_id, actor=camat, session=session)


@pytest.mark.parametrize("role, kode", [("petugas", KEL), ("admin", "31")])
def test_petugas_and_admin_are_refused(engine, make_account, register_data, role, kode):
    """Guards the role matrix: field officers and the admin never browse the DTSEN register."""
    actor = make_account(engine, f"{role}.x", role, kode)
    with pytest.raises(AccessDenied):
        find(engine, actor, "SANTOSO")
    with db.session_scope(engine) as session:
        family_id = session.exec(select(Family.id)).first()
    with pytest.raises(AccessDenied), db.session_scope(engine) as session:
        family_view(family_id, actor=actor, session=session)


def test_absent_families_are_hidden_unless_asked(engine, operator, register_data):
    """Guards absent families: after a newer extract without them they are hidden, but can be shown."""
    gone_kk = register_data.at[0, "No KK"]
    newer = register_data[register_data["No KK"] != gone_kk]
    with db.session_scope(engine) as session:
        result = register.import_extract(to_csv(newer), "newer.csv", KEL, actor=operator, session=session)
    assert result.counts["absent"] == 1
    assert find(engine, operator, "SANTOSO") == []
    shown = find(engine, operator, "SANTOSO", include_absent=True)
    assert names(shown) == {"BUDI SANTOSO"} and shown[0]["status"] == "absen"
    assert find(engine, operator, gone_kk) == []
    assert len(find(engine, operator, limit=200)) == len(newer)
