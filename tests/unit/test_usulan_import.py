"""Imported usul/sanggah lists: all rows onto the agenda, or none, with every problem named by its row."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import db, proposals, usulan_import
from core.demo_register import nik_for
from tests.unit.test_proposals import (KEL, create_meeting, extracts, families_of, operator,  # noqa: F401
                                       operator_pm)

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def run(engine, actor, mid: int, text: str) -> dict:
    with db.session_scope(engine) as session:
        return usulan_import.import_list(mid, text.encode("utf-8"), "usul.csv", actor=actor, session=session)


def test_usul_and_sanggah_rows_become_agenda_items(engine, operator, extracts):
    """Guards the Cek Bansos path: a known KK becomes an item from the register ('sanggah' = nonaktif), an
    unknown family with a valid NIK becomes a new-family item; types and sources are mapped."""
    mid = create_meeting(engine, operator)
    (kk1, _, niks1), (kk2, _, _) = families_of(extracts)[:2]
    from datetime import date
    stranger = nik_for("317501", date(1980, 5, 17), False, 4321)
    text = ("NIK;No KK;Nama;Alamat;RT;RW;Jenis;Alasan;Sumber\n"
            f"{niks1[0]};{kk1};A;Jl. A;1;2;usul;Tidak punya penghasilan;cek bansos\n"
            f";{kk2};B;Jl. B;1;2;sanggah;Sudah mampu;cek bansos\n"
            f"{stranger};3175011212120009;C;Jl. C;3;4;baru;Belum terdaftar;walk in\n")
    outcome = run(engine, operator, mid, text)
    assert outcome == {"added": 3, "problems": []}
    with db.session_scope(engine) as session:
        items = proposals.list_proposals(mid, actor=operator, session=session)
    assert [(i["no_kk"], i["jenis"], i["sumber"]) for i in items] == [
        (kk1, "baru", "cek_bansos"), (kk2, "nonaktif", "cek_bansos"), ("3175011212120009", "baru", "walk_in")]
    assert [m["nik"] for m in items[0]["anggota"]] == [niks1[0]]
    assert items[2]["family_id"] is None and items[2]["anggota"][0]["nik"] == stranger


def test_one_bad_row_means_nothing_is_added(engine, operator, extracts):
    """Guards all-or-nothing: a list with an unknown type and an invalid NIK adds no item, names both rows."""
    mid = create_meeting(engine, operator)
    (kk1, _, _), = families_of(extracts)[:1]
    before = (count(engine, "proposal"), count(engine, "proposalmember"), count(engine, "auditentry"))
    text = ("NIK,No KK,Nama,Jenis\n"
            f",{kk1},A,baru\n"
            ",3175011212120009,B,pindah rumah\n"
            "1234,3175011212120010,C,baru\n")
    outcome = run(engine, operator, mid, text)
    assert outcome["added"] == 0
    assert [p["row"] for p in outcome["problems"]] == [3, 4]
    assert "tidak dikenal" in outcome["problems"][0]["message"]
    assert "NIK" in outcome["problems"][1]["message"]
    assert (count(engine, "proposal"), count(engine, "proposalmember"), count(engine, "auditentry")) == before


def test_a_list_without_identity_columns_is_refused(engine, operator, extracts):
    """Guards the column check: without NIK or No KK the list is refused with a clear message."""
    mid = create_meeting(engine, operator)
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        run(engine, operator, mid, "Nama,Alamat\nA,Jl. A\n")
    assert err.value.code == "columns_missing"
