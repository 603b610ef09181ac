"""Kunjungan lapangan (AppTest): the officer's list of assigned families says how far each visit has come —
not yet visited, visit under way, finished — and never the bare assignment status ("ditugaskan") for a family
whose visit has already started."""

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
    options = at.selectbox(key="visit_assignment").options
    assert [o.rsplit(" · ", 1)[1] for o in options] == ["belum dikunjungi", "kunjungan berjalan", "selesai"]
    assert not any("ditugaskan" in o for o in options)
