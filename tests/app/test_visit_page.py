"""Kunjungan lapangan (AppTest): the screen says how far the officer's visits have come — not yet visited, visit
under way, finished — for the whole list and for the chosen family, and never the bare assignment status
("ditugaskan") for a family whose visit has already started. (That the choice survives the start of a visit is
guarded in the browser: AppTest keeps a selectbox's value across label changes, a browser does not.)"""

from __future__ import annotations

import pytest
from sqlmodel import select

from core import db, register, verification
from core.demo_register import generate, to_csv
from core.models import Family
from tests.app.conftest import titles

KEL = "31.75.01.1003"  # Kayu Manis

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def test_visit_list_names_the_progress_of_each_family(sqlite_only, make_account, logged_in):
    operator = make_account(sqlite_only, "operator.km", "operator", KEL)
    petugas = make_account(sqlite_only, "petugas.km", "petugas", KEL)
    with db.session_scope(sqlite_only) as session:
        assert register.import_extract(to_csv(generate(KEL, 3, seed=5)), "dtsen.csv", KEL, actor=operator,
                                       session=session).imported
        family_ids = list(session.exec(select(Family.id).order_by(Family.id)).all())
    with db.session_scope(sqlite_only) as session:
        assignments = verification.assign(KEL, petugas.username, family_ids=family_ids, actor=operator,
                                          session=session)
    by_family = {a["family_id"]: a["id"] for a in assignments}
    with db.session_scope(sqlite_only) as session:
        started = verification.start_visit(by_family[family_ids[1]], actor=petugas, session=session)
    with db.session_scope(sqlite_only) as session:
        finished = verification.start_visit(by_family[family_ids[2]], actor=petugas, session=session)
    with db.session_scope(sqlite_only) as session:
        verification.update_visit(finished["id"], {"hasil": "tidak_ditemukan"}, expected_version=finished["version"],
                                  actor=petugas, session=session)
    with db.session_scope(sqlite_only) as session:
        verification.finish_visit(finished["id"], actor=petugas, session=session)
    assert started["status"] == "draft"

    at = logged_in(petugas)
    at.switch_page("pages/kunjungan.py").run()
    assert not at.exception, at.exception
    assert titles(at) == ["Kunjungan lapangan"]
    captions = [c.value for c in at.caption]
    assert "3 keluarga ditugaskan: 1 belum dikunjungi, 1 kunjungan berjalan, 1 selesai." in captions
    assert "Status kunjungan keluarga ini: **belum dikunjungi**" in captions  # opens on the family to visit
    box = at.selectbox(key="visit_assignment")
    assert box.value == by_family[family_ids[0]]
    assert not any("ditugaskan" in o for o in box.options)
    for family_id, progress in ((family_ids[1], "kunjungan berjalan"), (family_ids[2], "selesai")):
        at.selectbox(key="visit_assignment").select(by_family[family_id]).run()
        assert not at.exception, at.exception
        assert f"Status kunjungan keluarga ini: **{progress}**" in [c.value for c in at.caption]
