"""The login gate, lockout, disabled accounts, the forced password change and the idle timeout, through AppTest."""

from __future__ import annotations

import json
import re
import time

from sqlmodel import select

from core import accounts, db
from core import drafts as draft_store
from core.models import AuditEntry, User
from tests.app.conftest import screen_text, seed_login, submit_login, titles

PASSWORD = "rahasia-sekali"


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def _logged_in(at) -> bool:
    return "_auth" in at.session_state


def test_right_password_opens_the_roles_home(sqlite_only, make_account, new_app):
    """Guards: a correct login must store the actor in the session and lead to the role's Beranda."""
    make_account(sqlite_only, "lurah.x", "lurah", "31.75.01.1003", password=PASSWORD, nama="Lurah Satu")
    at = new_app()
    at.run()
    assert titles(at) == ["Muskel"]
    assert not _logged_in(at)

    submit_login(at, "lurah.x", PASSWORD)
    assert not _errors(at)
    auth = at.session_state["_auth"]
    assert (auth["username"], auth["role"], auth["wilayah_kode"]) == ("lurah.x", "lurah", "31.75.01.1003")
    assert auth["must_change"] is False

    # Like the browser, the login's st.rerun lands on the role's default page (see the autouse fixture in
    # tests/app/conftest.py for why AppTest needed help here); another run and an explicit switch agree.
    assert titles(at) == ["Selamat datang, Lurah Satu"]
    at.run()
    assert titles(at) == ["Selamat datang, Lurah Satu"]
    at.switch_page("pages/beranda.py").run()
    assert not at.exception
    assert titles(at) == ["Selamat datang, Lurah Satu"]
    sidebar = "\n".join(m.value for m in at.sidebar.markdown) + "\n".join(c.value for c in at.sidebar.caption)
    assert "Lurah Satu" in sidebar and "Kayu Manis" in sidebar


def test_wrong_password_is_refused(sqlite_only, make_account, new_app):
    """Guards: a wrong password must not log in and must say plainly that the credentials are wrong."""
    make_account(sqlite_only, "lurah.x", "lurah", "31.75.01.1003", password=PASSWORD)
    at = new_app()
    at.run()
    submit_login(at, "lurah.x", "bukan-kata-sandinya")
    assert not _logged_in(at)
    [message] = _errors(at)
    assert "salah" in message
    assert titles(at) == ["Muskel"]

    submit_login(at, "tidak.ada", PASSWORD)  # unknown account: same message, no hint that the name is unknown
    assert not _logged_in(at)
    assert any("salah" in m for m in _errors(at))


def test_five_wrong_passwords_lock_until_the_admin_unlocks(sqlite_only, make_account, new_app):
    """Guards: the lockout after 5 wrong passwords (even the right password is refused) and the admin's unlock."""
    make_account(sqlite_only, "lurah.x", "lurah", "31.75.01.1003", password=PASSWORD)
    admin = make_account(sqlite_only, "admin.x", "admin", "31", password=PASSWORD)
    at = new_app()
    at.run()
    for attempt in range(1, 5):
        submit_login(at, "lurah.x", f"salah-ke-{attempt}xx")
        [message] = _errors(at)
        assert "salah" in message and "dikunci sampai" not in message
        assert f"Sisa percobaan sebelum akun dikunci: {5 - attempt}" in message
    submit_login(at, "lurah.x", "salah-ke-5xxx")
    [message] = _errors(at)
    assert "dikunci sampai pukul" in message  # the fifth wrong password locks the account
    assert not _logged_in(at)

    submit_login(at, "lurah.x", PASSWORD)
    [message] = _errors(at)
    assert "terkunci" in message
    assert not _logged_in(at)

    with db.session_scope() as s:
        accounts.unlock("lurah.x", actor=admin, session=s)
    submit_login(at, "lurah.x", PASSWORD)
    assert not _errors(at)
    assert at.session_state["_auth"]["username"] == "lurah.x"


def test_disabled_account_cannot_log_in(sqlite_only, make_account, new_app):
    """Guards: an account disabled by the admin is refused with the right password, with a clear message."""
    make_account(sqlite_only, "lurah.x", "lurah", "31.75.01.1003", password=PASSWORD)
    admin = make_account(sqlite_only, "admin.x", "admin", "31", password=PASSWORD)
    with db.session_scope() as s:
        accounts.set_active("lurah.x", False, actor=admin, session=s)
    at = new_app()
    at.run()
    submit_login(at, "lurah.x", PASSWORD)
    assert not _logged_in(at)
    [message] = _errors(at)
    assert "dinonaktifkan" in message


def test_disabled_while_logged_in_ends_the_session(sqlite_only, make_account, new_app):
    """Guards: ui.session.revalidate — an account disabled meanwhile loses its open session on the next click."""
    user = make_account(sqlite_only, "lurah.x", "lurah", "31.75.01.1003", password=PASSWORD)
    admin = make_account(sqlite_only, "admin.x", "admin", "31", password=PASSWORD)
    at = seed_login(new_app(), user)
    at.run()
    assert titles(at) == ["Selamat datang, Lurah.X"]
    with db.session_scope() as s:
        accounts.set_active("lurah.x", False, actor=admin, session=s)
    at.run()
    assert not _logged_in(at)
    assert titles(at) == ["Muskel"]
    assert any("dinonaktifkan" in w.value for w in at.warning)


def test_temporary_password_forces_a_change_before_anything_else(sqlite_only, make_account, new_app):
    """Guards: an account with must_change lands on "Ganti kata sandi" and reaches no other page until changed."""
    make_account(sqlite_only, "lurah.x", "lurah", "31.75.01.1003", password="sementara-123", must_change=True,
                 nama="Lurah Baru")
    at = new_app()
    at.run()
    submit_login(at, "lurah.x", "sementara-123")
    assert at.session_state["_auth"]["must_change"] is True
    assert titles(at) == ["Ganti kata sandi"]
    assert not at.sidebar.button(key="_logout").disabled  # the way out stays open
    assert at.text_input(key="fc_old") is not None
    for page in ("pages/beranda.py", "pages/wilayah_saya.py", "pages/akun_saya.py"):
        try:
            at.switch_page(page)
        except ValueError:
            continue
        raise AssertionError(f"{page} is reachable before the temporary password was changed")
    at.run()  # a plain rerun (e.g. a refresh) keeps the user on the forced change
    assert titles(at) == ["Ganti kata sandi"]

    at.text_input(key="fc_old").input("sementara-123")
    at.text_input(key="fc_new").input("pendek")
    at.text_input(key="fc_confirm").input("pendek")
    at.button[0].click().run()
    assert at.error, "a too short password must be refused"
    assert at.session_state["_auth"]["must_change"] is True
    assert titles(at) == ["Ganti kata sandi"]

    at.text_input(key="fc_old").input("sementara-123")
    at.text_input(key="fc_new").input("kata-sandi-baru-ku")
    at.text_input(key="fc_confirm").input("kata-sandi-baru-ku")
    at.button[0].click().run()
    assert not at.exception
    assert at.session_state["_auth"]["must_change"] is False
    assert titles(at) == ["Selamat datang, Lurah Baru"]
    assert any("Kata sandi baru tersimpan" in m.value for m in at.success)
    at.switch_page("pages/beranda.py").run()
    assert titles(at) == ["Selamat datang, Lurah Baru"]
    at.switch_page("pages/akun_saya.py").run()
    assert titles(at) == ["Akun saya"]
    with db.session_scope() as s:
        user = s.exec(select(User).where(User.username == "lurah.x")).one()
        assert user.must_change_password is False

    fresh = new_app()
    fresh.run()
    submit_login(fresh, "lurah.x", "kata-sandi-baru-ku")
    assert fresh.session_state["_auth"]["must_change"] is False


def test_idle_timeout_keeps_the_typed_input_as_a_draft(sqlite_only, make_account, new_app):
    """Guards: an idle timeout logs out with a warning, saves what was typed as a draft, audits the logout,
    and the draft comes back in Akun saya after the next login."""
    user = make_account(sqlite_only, "lurah.x", "lurah", "31.75.01.1003", password=PASSWORD, nama="Lurah Satu")
    at = new_app()
    at.run()
    submit_login(at, "lurah.x", PASSWORD)
    at.switch_page("pages/akun_saya.py").run()
    assert titles(at) == ["Akun saya"]
    assert at.text_input(key="f.akun.jabatan").value == ""

    at.text_input(key="f.akun.jabatan").input("Lurah Kayu Manis").run()
    assert titles(at) == ["Akun saya"]
    assert "_auth" in at.session_state

    auth = dict(at.session_state["_auth"])
    auth["last_seen"] = time.time() - 31 * 60
    at.session_state["_auth"] = auth
    at.text_input(key="f.akun.jabatan").input("Lurah Kayu Manis (Plt.)").run()

    assert not at.exception
    assert "_auth" not in at.session_state
    warnings = [w.value for w in at.warning]
    assert any("tidak aktif" in w and "diamankan" in w for w in warnings), warnings
    assert titles(at) == ["Muskel"]

    with db.session_scope() as s:
        draft = draft_store.load("akun", actor=user, session=s)
        assert draft is not None
        assert draft["values"]["f.akun.jabatan"] == "Lurah Kayu Manis (Plt.)"
        assert draft["reason"] == "timeout"
        logouts = [(e.actor_username, e.channel, json.loads(e.after or "null"))
                   for e in s.exec(select(AuditEntry).where(AuditEntry.action == "auth.logout")).all()]
    assert logouts == [("lurah.x", "web", {"alasan": "idle_timeout"})]
    with db.session_scope() as s:
        profile = accounts.own_profile(actor=user, session=s)
    assert profile["jabatan"] == "", "the idle timeout must not save the form itself"

    again = new_app()
    again.run()
    submit_login(again, "lurah.x", PASSWORD)
    again.switch_page("pages/akun_saya.py").run()
    assert not again.exception
    assert again.text_input(key="f.akun.jabatan").value == "Lurah Kayu Manis (Plt.)"
    assert any("dipulihkan" in i.value for i in again.info)
    assert "dipulihkan" in screen_text(again)
    assert re.search(r"Isian yang belum disimpan dari .+ telah dipulihkan", screen_text(again))
