"""The login page under a flood of attempts (AppTest): the refused see how long to wait, nothing else happens."""

from __future__ import annotations

import re

import sqlalchemy as sa

from core import login_throttle
from tests.app.conftest import submit_login

PASSWORD = "rahasia-sekali"


def test_login_page_tells_to_wait_when_throttled(sqlite_only, make_account, new_app, monkeypatch):
    """Guards: over the per-username limit the login page shows the Indonesian wait message instead of checking
    the password — even the right one — and records one audit entry for the run, not one per attempt."""
    make_account(sqlite_only, "lurah.x", "lurah", "31.75.01.1003", password=PASSWORD)
    monkeypatch.setattr(login_throttle, "THROTTLE", login_throttle.LoginThrottle(per_user=2, per_client=30))
    at = new_app()
    at.run()
    for _ in range(2):
        submit_login(at, "lurah.x", "bukan-kata-sandinya")
        assert [e.value for e in at.error][0].startswith("Nama pengguna atau kata sandi salah.")
    for _ in range(3):
        submit_login(at, "lurah.x", PASSWORD)
        [message] = [e.value for e in at.error]
        assert re.fullmatch(r"Terlalu banyak percobaan masuk\. Coba lagi dalam (5[0-9]|60) detik\.", message)
        assert "_auth" not in at.session_state
    with sqlite_only.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT action, count(*) FROM auditentry WHERE object_id = 'lurah.x' "
                                         "AND action LIKE 'auth.%' GROUP BY action")).all())
        failed = conn.execute(sa.text("SELECT failed_attempts FROM user_account WHERE username = 'lurah.x'")).scalar()
    assert rows == {"auth.login_failed": 2, "auth.throttled": 1}
    assert failed == 2
