"""The `muskel` command line (core.cli) run as a real subprocess against the SQLite test database.

Checks the contract operators' scripts rely on: exit codes (0 ok, 1 invalid input, 2 usage, 3 access denied),
Indonesian messages on stderr, nothing but JSON on stdout with --json, and that refused input writes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from core import accounts
from core.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "rahasia-sekali"


def muskel(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli", *args], input=input, capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def as_json(proc: subprocess.CompletedProcess):
    """Parse stdout strictly: it must be one JSON document and nothing else."""
    return json.loads(proc.stdout)


def counts(engine) -> dict:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in ("user_account", "auditentry")}


def add_user(username, role, wilayah, password=PASSWORD, *extra):
    return muskel("user", "add", "--username", username, "--name", username.title(), "--role", role,
                  "--wilayah", wilayah, *extra, input=password + "\n")


def login(engine, username, password):
    with Session(engine, expire_on_commit=False) as session:
        outcome = accounts.authenticate(username, password, session=session, channel="cli")
        session.commit()
    return outcome


def test_user_add_with_password_on_stdin(sqlite_only):
    """Guards `user add`: the account is created from stdin's password and --json prints just that account."""
    proc = add_user("lurah.kayumanis", "lurah", "31.75.01.1003", PASSWORD, "--json")
    assert proc.returncode == 0, proc.stderr
    created = as_json(proc)
    assert isinstance(created, dict)
    assert (created["username"], created["role"], created["wilayah"]) == ("lurah.kayumanis", "lurah",
                                                                          "31.75.01.1003")
    assert PASSWORD not in proc.stdout and "$argon2" not in proc.stdout
    outcome = login(sqlite_only, "lurah.kayumanis", PASSWORD)
    assert outcome.actor is not None and outcome.must_change_password is False


def test_user_add_human_output_and_user_list_json(sqlite_only):
    """Guards the human confirmation of `user add` and that `user list --json` is a JSON list of accounts."""
    proc = add_user("camat.matraman", "camat", "31.75.01")
    assert proc.returncode == 0, proc.stderr
    assert "camat.matraman" in proc.stdout and "dibuat" in proc.stdout
    assert add_user("lurah.kayumanis", "lurah", "31.75.01.1003").returncode == 0
    listed = muskel("user", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    users = as_json(listed)
    assert isinstance(users, list)
    assert [(u["username"], u["role"], u["wilayah"]) for u in users] == [
        ("camat.matraman", "camat", "31.75.01"), ("lurah.kayumanis", "lurah", "31.75.01.1003")]


@pytest.mark.parametrize("username, role, wilayah, password, code, words", [
    ("lurah.baru", "lurah", "31.75.01.9999", PASSWORD, "unknown_wilayah", "tidak dikenal"),
    ("camat.baru", "camat", "31.75.01.1003", PASSWORD, "role_level_mismatch", "ditempatkan di tingkat"),
    ("lurah.baru", "lurah", "31.75", PASSWORD, "role_level_mismatch", "ditempatkan di tingkat"),
    ("lurah.kayumanis", "lurah", "31.75.01.1003", PASSWORD, "username_taken", "sudah dipakai"),
    ("lurah.baru", "lurah", "31.75.01.1003", "", "password_empty", "wajib diisi"),
    ("lurah.baru", "lurah", "31.75.01.1003", "pendek", "password_too_short", "terlalu pendek"),
    ("lurah baru", "lurah", "31.75.01.1003", PASSWORD, "username_has_space", "spasi"),
])
def test_user_add_bad_input_exits_1_and_writes_nothing(sqlite_only, username, role, wilayah, password, code, words):
    """Guards each refused `user add`: exit 1, a clear Indonesian reason on stderr, no row written."""
    assert add_user("lurah.kayumanis", "lurah", "31.75.01.1003").returncode == 0
    before = counts(sqlite_only)
    proc = add_user(username, role, wilayah, password)
    assert proc.returncode == 1
    assert f"GAGAL ({code})" in proc.stderr
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert counts(sqlite_only) == before


def test_user_add_bad_input_with_json_prints_only_json(sqlite_only):
    """Guards scripts: a refusal with --json still prints parseable JSON on stdout (and the message on stderr)."""
    before = counts(sqlite_only)
    proc = add_user("lurah.baru", "lurah", "31.75.01.9999", PASSWORD, "--json")
    assert proc.returncode == 1
    result = as_json(proc)
    assert result["ok"] is False and result["code"] == "unknown_wilayah" and result["field"] == "wilayah"
    assert "GAGAL" in proc.stderr
    assert counts(sqlite_only) == before


def test_unknown_role_choice_is_usage_error(sqlite_only):
    """Guards argparse validation of --role: exit 2 with a usage line, nothing written."""
    before = counts(sqlite_only)
    proc = add_user("bupati.baru", "bupati", "31.75")
    assert proc.returncode == 2
    assert "usage" in proc.stderr.lower() and "--role" in proc.stderr
    assert counts(sqlite_only) == before


def test_disabled_or_unknown_account_cannot_read_audit_log(sqlite_only):
    """Guards --as: a disabled or unknown account is refused with exit 3."""
    assert add_user("auditor.jaktim", "auditor", "31.75").returncode == 0
    assert muskel("audit-log", "--as", "auditor.jaktim").returncode == 0
    disabled = muskel("user", "disable", "auditor.jaktim")
    assert disabled.returncode == 0, disabled.stderr
    assert "dinonaktifkan" in disabled.stdout
    proc = muskel("audit-log", "--as", "auditor.jaktim", "--json")
    assert proc.returncode == 3
    assert "dinonaktifkan" in proc.stderr
    assert as_json(proc)["code"] == "account_disabled"
    nobody = muskel("audit-log", "--as", "nobody")
    assert nobody.returncode == 3
    assert "tidak dikenal" in nobody.stderr
    assert nobody.stdout == ""


def test_audit_log_as_kota_auditor_shows_only_entries_under_his_kota(sqlite_only):
    """Guards the audit log's wilayah scope: a Jakarta Timur auditor sees nothing of Jakarta Pusat or the province."""
    assert add_user("auditor.jaktim", "auditor", "31.75").returncode == 0
    assert add_user("lurah.kayumanis", "lurah", "31.75.01.1003").returncode == 0
    assert add_user("lurah.gambir", "lurah", "31.71.01.1001").returncode == 0
    assert add_user("admin", "admin", "31").returncode == 0
    login(sqlite_only, "lurah.kayumanis", PASSWORD)
    login(sqlite_only, "lurah.gambir", PASSWORD)
    login(sqlite_only, "tidak.ada", PASSWORD)  # an entry without wilayah
    with sqlite_only.connect() as conn:
        outside = conn.execute(sa.text(
            "SELECT COUNT(*) FROM auditentry WHERE wilayah_kode IS NULL OR wilayah_kode NOT LIKE '31.75%'"
        )).scalar_one()
    assert outside >= 4

    proc = muskel("audit-log", "--as", "auditor.jaktim", "--json")
    assert proc.returncode == 0, proc.stderr
    entries = as_json(proc)
    assert isinstance(entries, list) and entries
    assert all(e["wilayah"] == "31.75" or e["wilayah"].startswith("31.75.") for e in entries)
    objects = {(e["action"], e["object_id"]) for e in entries}
    assert ("account.created", "lurah.kayumanis") in objects
    assert ("auth.login", "lurah.kayumanis") in objects
    assert not any(e["object_id"] in ("lurah.gambir", "admin", "tidak.ada") for e in entries)
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(seqs, reverse=True)


def test_seed_demo_is_idempotent_and_demo_login_works(sqlite_only):
    """Guards `seed-demo`: the nine demo accounts once, a second run creates nothing, demo login needs no change."""
    first = muskel("seed-demo", "--json")
    assert first.returncode == 0, first.stderr
    assert sorted(as_json(first)["accounts_created"]) == sorted(a[0] for a in DEMO_ACCOUNTS)
    after_first = counts(sqlite_only)
    second = muskel("seed-demo", "--json")
    assert second.returncode == 0, second.stderr
    assert as_json(second) == {"accounts_created": [], "offices_created": [], "registers_imported": [],
                               "meetings_created": [], "visits_created": 0, "documents_finalised": [],
                               "batches_created": []}
    assert counts(sqlite_only) == after_first

    users = as_json(muskel("user", "list", "--json"))
    assert {u["username"]: u["wilayah"] for u in users} == {
        "operator.kayumanis": "31.75.01.1003", "lurah.kayumanis": "31.75.01.1003",
        "petugas.kayumanis": "31.75.01.1003", "lurah.palmeriam": "31.75.01.1004",
        "camat.matraman": "31.75.01", "walikota.jaktim": "31.75", "dinsos.jaktim": "31.75",
        "auditor.jaktim": "31.75", "admin": "31"}
    assert all(u["demo"] and not u["wajib_ganti_sandi"] for u in users)

    outcome = login(sqlite_only, "lurah.kayumanis", DEMO_PASSWORD)
    assert outcome.error is None
    assert outcome.actor.role == "lurah" and outcome.actor.wilayah_kode == "31.75.01.1003"
    assert outcome.must_change_password is False


def test_user_unlock_lets_locked_account_log_in(sqlite_only):
    """Guards `user unlock`: a locked account logs in right after the admin unlocks it."""
    assert add_user("lurah.kayumanis", "lurah", "31.75.01.1003").returncode == 0
    for _ in range(accounts.MAX_FAILED_ATTEMPTS):
        login(sqlite_only, "lurah.kayumanis", "salah-sandi-123")
    assert login(sqlite_only, "lurah.kayumanis", PASSWORD).error.code == "account_locked"
    proc = muskel("user", "unlock", "lurah.kayumanis")
    assert proc.returncode == 0, proc.stderr
    assert "dibuka" in proc.stdout
    assert login(sqlite_only, "lurah.kayumanis", PASSWORD).actor is not None


def test_user_enable_restores_disabled_account(sqlite_only):
    """Guards `user enable`: a disabled account can log in again after being enabled."""
    assert add_user("lurah.kayumanis", "lurah", "31.75.01.1003").returncode == 0
    assert muskel("user", "disable", "lurah.kayumanis").returncode == 0
    assert login(sqlite_only, "lurah.kayumanis", PASSWORD).error.code == "account_disabled"
    proc = muskel("user", "enable", "lurah.kayumanis", "--json")
    assert proc.returncode == 0, proc.stderr
    assert as_json(proc)["aktif"] is True
    assert login(sqlite_only, "lurah.kayumanis", PASSWORD).actor is not None


def test_user_change_of_unknown_account_exits_1(sqlite_only):
    """Guards a typo in the username: a clear refusal, not a traceback."""
    proc = muskel("user", "unlock", "tidak.ada")
    assert proc.returncode == 1
    assert "tidak ditemukan" in proc.stderr and "Traceback" not in proc.stderr


def test_user_reset_password_json_gives_temporary_password(sqlite_only):
    """Guards `user reset-password --json`: the temporary password works once and forces a change."""
    assert add_user("lurah.kayumanis", "lurah", "31.75.01.1003").returncode == 0
    proc = muskel("user", "reset-password", "lurah.kayumanis", "--json")
    assert proc.returncode == 0, proc.stderr
    result = as_json(proc)
    assert result["username"] == "lurah.kayumanis"
    temporary = result["temporary_password"]
    assert len(temporary) >= 10
    assert login(sqlite_only, "lurah.kayumanis", PASSWORD).actor is None
    outcome = login(sqlite_only, "lurah.kayumanis", temporary)
    assert outcome.actor is not None
    assert outcome.must_change_password is True


def test_doctor_json_reports_accounts_by_role(sqlite_only):
    """Guards `doctor --json`: a healthy installation exits 0 and counts accounts per role."""
    assert add_user("lurah.kayumanis", "lurah", "31.75.01.1003").returncode == 0
    assert add_user("lurah.palmeriam", "lurah", "31.75.01.1004").returncode == 0
    assert add_user("camat.matraman", "camat", "31.75.01").returncode == 0
    proc = muskel("doctor", "--json")
    assert proc.returncode == 0, proc.stderr
    report = as_json(proc)
    assert report["database"] == "ok" and report["migrations"] == "head"
    assert report["accounts"] == {"camat": 1, "lurah": 2}
    assert report["wilayah"]["kelurahan"] == 267
