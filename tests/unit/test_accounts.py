"""Accounts service (core.accounts, core.offices) on SQLite and PostgreSQL.

Covers what people notice: passwords stored as argon2id only, login with remaining-attempt warnings and the
15-minute lock after five wrong passwords, admin unlock, disabled accounts, temporary passwords that force a
change, the password-change rules, the audit trail of every step, refused bad input that writes nothing,
access control for non-admins, stale edits, the camat's account list and the admin's office profiles.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlmodel import select

from core import accounts, offices
from core.access import Actor, Role
from core.errors import AccessDenied, InvalidInput, StaleEdit
from core.models import AuditEntry, User
from core.timefmt import utcnow

PASSWORD = "rahasia-sekali"
KAYU_MANIS = "31.75.01.1003"
PALMERIAM = "31.75.01.1004"
PULO_GADUNG = "31.75.02.1001"  # a kelurahan of Kecamatan Pulo Gadung (31.75.02), outside Matraman


# --- helpers ------------------------------------------------------------------------------------------------


def _login(scope, username, password):
    with scope() as session:
        return accounts.authenticate(username, password, session=session)


def _user(scope, username) -> User:
    with scope() as session:
        return accounts.get_user(session, username)


def _audit(scope) -> list[AuditEntry]:
    with scope() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all())


def _counts(engine) -> dict:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in ("user_account", "auditentry")}


@pytest.fixture
def admin(engine, make_account) -> Actor:
    return make_account(engine, "admin", "admin", "31")


# --- password storage ---------------------------------------------------------------------------------------


def test_password_stored_as_argon2id_hash_never_plaintext(engine, scope, make_account):
    """Guards against storing the plaintext or a weak/non-argon2id hash."""
    make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS, password=PASSWORD)
    stored = _user(scope, "lurah.kayumanis").password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD) is True
    with engine.connect() as conn:
        raw = conn.execute(sa.text("SELECT * FROM user_account")).mappings().one()
    assert all(PASSWORD not in str(v) for v in raw.values())


# --- login ------------------------------------------------------------------------------------------------


def test_login_with_right_password_returns_actor(engine, scope, make_account):
    """Guards the basic login: the actor carries the account's role and wilayah."""
    make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    outcome = _login(scope, "lurah.kayumanis", PASSWORD)
    assert outcome.error is None
    assert outcome.actor.username == "lurah.kayumanis"
    assert outcome.actor.role == Role.LURAH
    assert outcome.actor.wilayah_kode == KAYU_MANIS
    assert outcome.must_change_password is False
    assert _user(scope, "lurah.kayumanis").last_login_at is not None


def test_wrong_password_refused_with_remaining_attempts(engine, scope, make_account):
    """Guards the warning that tells the user how many tries are left before the lock."""
    make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    outcome = _login(scope, "lurah.kayumanis", "salah-sandi-123")
    assert outcome.actor is None
    assert outcome.error.code == "bad_credentials"
    assert "Sisa percobaan sebelum akun dikunci: 4" in outcome.error.message
    outcome = _login(scope, "lurah.kayumanis", "salah-sandi-123")
    assert "Sisa percobaan sebelum akun dikunci: 3" in outcome.error.message
    assert _user(scope, "lurah.kayumanis").failed_attempts == 2


def test_unknown_username_refused_with_same_message(engine, scope, make_account):
    """Guards against revealing which usernames exist."""
    outcome = _login(scope, "tidak.ada", PASSWORD)
    assert outcome.actor is None
    assert outcome.error.code == "bad_credentials"
    assert outcome.error.message == "Nama pengguna atau kata sandi salah."


def _lock(scope, username):
    last = None
    for _ in range(accounts.MAX_FAILED_ATTEMPTS):
        last = _login(scope, username, "salah-sandi-123")
    return last


def test_five_wrong_passwords_lock_account_for_15_minutes(engine, scope, make_account):
    """Guards the lockout: after five wrong passwords even the right one is refused."""
    make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    last = _lock(scope, "lurah.kayumanis")
    assert last.actor is None
    assert last.error.code == "account_locked"
    user = _user(scope, "lurah.kayumanis")
    ahead = user.locked_until - utcnow()
    assert timedelta(minutes=14) < ahead <= timedelta(minutes=15, seconds=5)

    outcome = _login(scope, "lurah.kayumanis", PASSWORD)
    assert outcome.actor is None
    assert outcome.error.code == "account_locked"
    assert "terkunci" in outcome.error.message


def test_login_works_again_after_lock_expires(engine, scope, make_account):
    """Guards against a lock that never runs out."""
    make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    _lock(scope, "lurah.kayumanis")
    with scope() as session:
        user = accounts.get_user(session, "lurah.kayumanis")
        user.locked_until = utcnow() - timedelta(minutes=1)
        session.add(user)
    outcome = _login(scope, "lurah.kayumanis", PASSWORD)
    assert outcome.error is None
    assert outcome.actor.username == "lurah.kayumanis"
    user = _user(scope, "lurah.kayumanis")
    assert user.locked_until is None
    assert user.failed_attempts == 0


def test_wrong_password_after_expired_lock_counts_afresh(engine, scope, make_account):
    """Guards against one wrong password re-locking an account whose lock has run out."""
    make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    _lock(scope, "lurah.kayumanis")
    with scope() as session:
        session.execute(sa.update(User).where(User.username == "lurah.kayumanis")
                        .values(locked_until=utcnow() - timedelta(seconds=5)))
    outcome = _login(scope, "lurah.kayumanis", "salah-sandi-123")
    assert outcome.error.code == "bad_credentials"
    assert "Sisa percobaan sebelum akun dikunci: 4" in outcome.error.message


def test_admin_unlock_allows_login_immediately(engine, scope, make_account, admin):
    """Guards the admin's unlock: the user need not wait 15 minutes."""
    make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    _lock(scope, "lurah.kayumanis")
    assert _login(scope, "lurah.kayumanis", PASSWORD).error.code == "account_locked"
    with scope() as session:
        view = accounts.unlock("lurah.kayumanis", actor=admin, session=session)
    assert view["terkunci_sampai"] is None
    outcome = _login(scope, "lurah.kayumanis", PASSWORD)
    assert outcome.error is None and outcome.actor.username == "lurah.kayumanis"


def test_disabled_account_cannot_log_in(engine, scope, make_account, admin):
    """Guards that disabling an account really shuts it out, even with the right password."""
    make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    with scope() as session:
        accounts.set_active("lurah.kayumanis", False, actor=admin, session=session)
    outcome = _login(scope, "lurah.kayumanis", PASSWORD)
    assert outcome.actor is None
    assert outcome.error.code == "account_disabled"
    assert "dinonaktifkan" in outcome.error.message
    with scope() as session:
        assert accounts.still_allowed("lurah.kayumanis", session=session) is None
        accounts.set_active("lurah.kayumanis", True, actor=admin, session=session)
    assert _login(scope, "lurah.kayumanis", PASSWORD).actor is not None


# --- temporary passwords and forced change --------------------------------------------------------------------


def test_account_created_without_password_gets_temporary_and_must_change(engine, scope, admin):
    """Guards the admin flow: a temporary password is returned once and forces a change at first login."""
    with scope() as session:
        view, temporary = accounts.create_account(
            accounts.NewAccount(username="operator.kayumanis", nama="Sari Wulandari", role="operator",
                                wilayah_kode=KAYU_MANIS), actor=admin, session=session)
    assert temporary and len(temporary) >= 10
    assert view["wajib_ganti_sandi"] is True
    assert "password_hash" not in view and temporary not in str(view)
    assert _user(scope, "operator.kayumanis").must_change_password is True

    outcome = _login(scope, "operator.kayumanis", temporary)
    assert outcome.actor is not None
    assert outcome.must_change_password is True
    with scope() as session:
        accounts.change_own_password(temporary, "sandi-baru-kuat", "sandi-baru-kuat", actor=outcome.actor,
                                     session=session)
    assert _login(scope, "operator.kayumanis", temporary).actor is None
    again = _login(scope, "operator.kayumanis", "sandi-baru-kuat")
    assert again.actor is not None and again.must_change_password is False


def test_reset_password_gives_temporary_and_forces_change(engine, scope, make_account, admin):
    """Guards the reset: old password stops working, the temporary one works and forces a change."""
    make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    _lock(scope, "lurah.kayumanis")
    with scope() as session:
        temporary = accounts.reset_password("lurah.kayumanis", actor=admin, session=session)
    assert _login(scope, "lurah.kayumanis", PASSWORD).actor is None
    outcome = _login(scope, "lurah.kayumanis", temporary)
    assert outcome.actor is not None  # the reset also lifted the lock
    assert outcome.must_change_password is True


@pytest.mark.parametrize("old, new, confirm, code", [
    (PASSWORD, "pendek", "pendek", "password_too_short"),
    (PASSWORD, "sandi-baru-kuat", "sandi-baru-lain", "password_mismatch"),
    ("bukan-sandi-lama", "sandi-baru-kuat", "sandi-baru-kuat", "wrong_old_password"),
    (PASSWORD, PASSWORD, PASSWORD, "password_unchanged"),
    (PASSWORD, "          ", "          ", "password_empty"),
])
def test_change_own_password_rules(engine, scope, make_account, old, new, confirm, code):
    """Guards each password-change rule: refused with its code and the old password still works."""
    actor = make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    before = _user(scope, "lurah.kayumanis")
    with pytest.raises(InvalidInput) as info:
        with scope() as session:
            accounts.change_own_password(old, new, confirm, actor=actor, session=session)
    assert info.value.code == code
    assert info.value.message
    after = _user(scope, "lurah.kayumanis")
    assert after.password_hash == before.password_hash
    assert _login(scope, "lurah.kayumanis", PASSWORD).actor is not None


# --- audit trail ------------------------------------------------------------------------------------------


def test_login_logout_failure_and_lock_are_audited(engine, scope, make_account):
    """Guards the audit trail of authentication: login, failed login, lock and logout each leave an entry."""
    make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    start = len(_audit(scope))
    outcome = _login(scope, "lurah.kayumanis", PASSWORD)
    with scope() as session:
        accounts.logout(actor=outcome.actor, session=session)
    _lock(scope, "lurah.kayumanis")
    entries = _audit(scope)[start:]
    actions = [e.action for e in entries]
    assert actions == ["auth.login", "auth.logout"] + ["auth.login_failed"] * 5 + ["auth.locked"]
    assert {e.actor_username for e in entries} == {"lurah.kayumanis"}
    assert {e.object_id for e in entries} == {"lurah.kayumanis"}
    assert all(e.wilayah_kode == KAYU_MANIS for e in entries)
    assert PASSWORD not in "".join(str(e.after) for e in entries)
    assert "salah-sandi-123" not in "".join(str(e.after) for e in entries)


def test_admin_actions_are_audited_with_admin_as_actor(engine, scope, make_account, admin):
    """Guards the audit trail of administration: creation, reset, unlock, disable, enable and role change."""
    start = len(_audit(scope))
    with scope() as session:
        accounts.create_account(accounts.NewAccount(username="lurah.kayumanis", nama="Hendra", role="lurah",
                                                    wilayah_kode=KAYU_MANIS), actor=admin, session=session)
    with scope() as session:
        accounts.reset_password("lurah.kayumanis", actor=admin, session=session)
    with scope() as session:
        accounts.unlock("lurah.kayumanis", actor=admin, session=session)
    with scope() as session:
        accounts.set_active("lurah.kayumanis", False, actor=admin, session=session)
    with scope() as session:
        accounts.set_active("lurah.kayumanis", True, actor=admin, session=session)
    with scope() as session:
        view = accounts.change_role("lurah.kayumanis", "operator", PALMERIAM, actor=admin, session=session)
    assert view["role"] == "operator" and view["wilayah"] == PALMERIAM
    entries = _audit(scope)[start:]
    assert [e.action for e in entries] == [
        "account.created", "account.password_reset", "account.unlocked", "account.disabled", "account.enabled",
        "account.role_changed"]
    assert {e.actor_username for e in entries} == {"admin"}
    assert {e.object_id for e in entries} == {"lurah.kayumanis"}
    assert "password_hash" not in entries[0].after and "$argon2" not in entries[0].after
    assert '"role":"lurah"' in entries[-1].before and '"role":"operator"' in entries[-1].after


# --- bad input writes nothing -------------------------------------------------------------------------------


@pytest.mark.parametrize("username, role, kode, password, code", [
    ("lurah.baru", "lurah", "31.75.01.9999", PASSWORD, "unknown_wilayah"),
    ("lurah.baru", "lurah", "99", PASSWORD, "unknown_wilayah"),
    ("camat.baru", "camat", KAYU_MANIS, PASSWORD, "role_level_mismatch"),
    ("lurah.baru", "lurah", "31.75", PASSWORD, "role_level_mismatch"),
    ("admin.baru", "admin", "31.75.01", PASSWORD, "role_level_mismatch"),
    ("lurah.kayumanis", "lurah", KAYU_MANIS, PASSWORD, "username_taken"),
    ("lurah.baru", "lurah", KAYU_MANIS, "", "password_empty"),
    ("lurah.baru", "lurah", KAYU_MANIS, "   ", "password_empty"),
    ("lurah.baru", "lurah", KAYU_MANIS, "pendek", "password_too_short"),
    ("lurah baru", "lurah", KAYU_MANIS, PASSWORD, "username_has_space"),
    ("lurah.baru", "bupati", KAYU_MANIS, PASSWORD, "unknown_role"),
])
def test_create_account_bad_input_refused_and_writes_nothing(engine, scope, make_account, admin,
                                                             username, role, kode, password, code):
    """Guards each create_account validation: a named error code and no account or audit row written."""
    make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    before = _counts(engine)
    with pytest.raises(InvalidInput) as info:
        with scope() as session:
            accounts.create_account(accounts.NewAccount(username=username, nama="Orang Baru", role=role,
                                                        wilayah_kode=kode),
                                    actor=admin, session=session, password=password)
    assert info.value.code == code
    assert info.value.message
    assert _counts(engine) == before


def test_non_admin_cannot_manage_accounts(engine, scope, make_account):
    """Guards access control: a lurah cannot create, reset or unlock accounts, even in his own kelurahan."""
    lurah = make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    make_account(engine, "operator.kayumanis", "operator", KAYU_MANIS)
    _lock(scope, "operator.kayumanis")
    before = _counts(engine)
    hash_before = _user(scope, "operator.kayumanis").password_hash
    with pytest.raises(AccessDenied):
        with scope() as session:
            accounts.create_account(accounts.NewAccount(username="petugas.baru", nama="Petugas", role="petugas",
                                                        wilayah_kode=KAYU_MANIS), actor=lurah, session=session)
    with pytest.raises(AccessDenied):
        with scope() as session:
            accounts.reset_password("operator.kayumanis", actor=lurah, session=session)
    with pytest.raises(AccessDenied):
        with scope() as session:
            accounts.unlock("operator.kayumanis", actor=lurah, session=session)
    with pytest.raises(AccessDenied):
        with scope() as session:
            accounts.set_active("operator.kayumanis", False, actor=lurah, session=session)
    assert _counts(engine) == before
    user = _user(scope, "operator.kayumanis")
    assert user.password_hash == hash_before
    assert user.locked_until is not None and user.is_active


# --- stale edits, scope, offices ----------------------------------------------------------------------------


def test_update_own_profile_with_old_version_is_refused(engine, scope, make_account):
    """Guards against silently overwriting a profile changed elsewhere (two tabs)."""
    actor = make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    with scope() as session:
        loaded = accounts.own_profile(actor=actor, session=session)
    with scope() as session:
        saved = accounts.update_own_profile({"nama": "Hendra Gunawan", "telepon": "0812 3456 7890"},
                                            expected_version=loaded["version"], actor=actor, session=session)
    assert saved["version"] == loaded["version"] + 1
    audit_before = _counts(engine)["auditentry"]
    with pytest.raises(StaleEdit):
        with scope() as session:
            accounts.update_own_profile({"nama": "Nama Lama Tab Lain"}, expected_version=loaded["version"],
                                        actor=actor, session=session)
    with scope() as session:
        now = accounts.own_profile(actor=actor, session=session)
    assert now["nama"] == "Hendra Gunawan"
    assert now["telepon"] == "0812 3456 7890"
    assert now["version"] == saved["version"]
    assert _counts(engine)["auditentry"] == audit_before


def test_camat_lists_only_accounts_in_his_kecamatan(engine, scope, make_account):
    """Guards the wilayah scope of the account list: Matraman's camat does not see Pulo Gadung's staff."""
    camat = make_account(engine, "camat.matraman", "camat", "31.75.01")
    make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    make_account(engine, "lurah.palmeriam", "lurah", PALMERIAM)
    make_account(engine, "lurah.pulogadung", "lurah", PULO_GADUNG)
    make_account(engine, "walikota.jaktim", "walikota", "31.75")
    with scope() as session:
        names = [a["username"] for a in accounts.list_accounts(actor=camat, session=session)]
    assert names == ["camat.matraman", "lurah.kayumanis", "lurah.palmeriam"]
    with pytest.raises(AccessDenied):
        with scope() as session:
            accounts.list_accounts(actor=camat, session=session, wilayah_kode="31.75.02")


def test_office_profile_update_with_version_check(engine, scope, make_account, admin):
    """Guards office profiles: the admin's change is saved and audited; a stale second edit is refused."""
    kode = KAYU_MANIS
    with scope() as session:
        empty = offices.get_profile(kode, session=session)
    assert empty["version"] == 0 and empty["alamat"] == ""
    with scope() as session:
        saved = offices.update_profile(kode, {"alamat": "Jl. Kayu Manis VIII No. 1", "telepon": "(021) 8581234",
                                              "nip_pimpinan": "19700101 199001 1 001"},
                                       expected_version=0, actor=admin, session=session)
    assert saved["version"] == 1
    assert saved["alamat"] == "Jl. Kayu Manis VIII No. 1"
    assert saved["nip_pimpinan"] == "197001011990011001"
    with pytest.raises(StaleEdit):
        with scope() as session:
            offices.update_profile(kode, {"alamat": "Alamat dari tab lama"}, expected_version=0, actor=admin,
                                   session=session)
    with scope() as session:
        current = offices.get_profile(kode, session=session)
    assert current["alamat"] == "Jl. Kayu Manis VIII No. 1" and current["version"] == 1
    entries = [e for e in _audit(scope) if e.action == "office.updated"]
    assert len(entries) == 1 and entries[0].actor_username == "admin" and entries[0].object_id == kode

    lurah = make_account(engine, "lurah.kayumanis", "lurah", KAYU_MANIS)
    with pytest.raises(AccessDenied):
        with scope() as session:
            offices.update_profile(kode, {"alamat": "x"}, expected_version=1, actor=lurah, session=session)
    with pytest.raises(InvalidInput) as info:
        with scope() as session:
            offices.update_profile(kode, {"email": "bukan-email"}, expected_version=1, actor=admin, session=session)
    assert info.value.code == "email_invalid"
    with scope() as session:
        assert offices.get_profile(kode, session=session)["version"] == 1
