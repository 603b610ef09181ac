"""Impor DTSEN (AppTest) with an extract over the row limit: the page says why and what to do; nothing is read."""

from __future__ import annotations

import sqlalchemy as sa

from core.access import Actor, Role
from core.demo_register import generate, to_csv

KEL = "31.75.01.1003"


def test_page_refuses_an_extract_over_the_row_limit(sqlite_only, make_account, logged_in, monkeypatch):
    """Guards: an upload with more rows than MUSKEL_IMPORT_MAX_ROWS shows the Indonesian refusal naming the limit
    and the advice to split per kelurahan; no column mapping or import button appears; nothing is stored."""
    make_account(sqlite_only, "operator.km", "operator", KEL)
    actor = Actor(username="operator.km", nama="Operator", role=Role.OPERATOR, wilayah_kode=KEL)
    monkeypatch.setenv("MUSKEL_IMPORT_MAX_ROWS", "50")
    at = logged_in(actor)
    at.switch_page("pages/impor_dtsen.py").run()
    [uploader] = [u for u in at.get("file_uploader") if u.key == "dtsen_file"]
    assert "50 baris" in uploader.help and "MB" in uploader.help
    data = to_csv(generate(KEL, 40, seed=4))
    assert data.count(b"\n") - 1 > 50
    at.file_uploader(key="dtsen_file").set_value(("ekstrak.csv", data, "text/csv")).run()
    assert not at.exception, at.exception
    [message] = [e.value for e in at.error]
    assert "lebih dari 50 baris data" in message and "pisahkan berkas per kelurahan" in message
    assert not [b for b in at.button if b.key in ("dtsen_check", "dtsen_import")]
    with sqlite_only.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM registerimport")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM storedfile")).scalar_one() == 0
