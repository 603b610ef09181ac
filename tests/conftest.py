"""Shared fixtures: one migrated database per backend and test session, emptied between tests.

- ``engine`` is parametrised over SQLite and PostgreSQL; the PostgreSQL half needs ``MUSKEL_TEST_POSTGRES_URL``
  (``scripts/run-tests`` starts a throwaway server) and is skipped without it — unless
  ``MUSKEL_REQUIRE_POSTGRES=1`` (CI), where a missing server fails the run instead.
- Reference data (wilayah) stays; every other table is emptied before each test and the audit chain reset.
- ``MUSKEL_DATA_DIR`` / ``MUSKEL_DATABASE_URL`` point at the SQLite test database, so AppTest pages and
  ``muskel`` subprocesses see the same data as the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import db, setup
from core.access import SYSTEM_ACTOR, Actor, Role
from core.config import Settings

_TEST_ROOT = None


def _sqlite_settings(root: Path) -> Settings:
    return Settings(data_dir=root, database_url=f"sqlite:///{root / 'muskel-test.db'}", idle_timeout_minutes=30)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("muskel-data")
    return root


@pytest.fixture(scope="session", autouse=True)
def _environment(data_dir):
    """Point every channel (services, AppTest pages, CLI subprocesses) at the SQLite test database."""
    settings = _sqlite_settings(data_dir)
    os.environ["MUSKEL_DATA_DIR"] = str(data_dir)
    os.environ["MUSKEL_DATABASE_URL"] = settings.database_url
    os.environ.pop("MUSKEL_IDLE_TIMEOUT_MINUTES", None)
    yield


@pytest.fixture(scope="session")
def sqlite_engine(data_dir) -> sa.Engine:
    settings = _sqlite_settings(data_dir)
    engine = db.get_engine(settings.database_url)
    setup.initialise(settings, engine)
    return engine


@pytest.fixture(scope="session")
def pg_engine(data_dir) -> sa.Engine:
    url = os.environ.get("MUSKEL_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("MUSKEL_REQUIRE_POSTGRES") == "1":
            pytest.fail("MUSKEL_REQUIRE_POSTGRES=1 but MUSKEL_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tidak tersedia (set MUSKEL_TEST_POSTGRES_URL)")
    engine = db.get_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    except sa.exc.OperationalError as exc:
        if os.environ.get("MUSKEL_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"PostgreSQL tidak dapat dihubungi: {exc.orig}")
    settings = Settings(data_dir=data_dir, database_url=url, idle_timeout_minutes=30)
    setup.initialise(settings, engine)
    return engine


RUNTIME_TABLES = (  # children before parents
    "batchevent", "batchrevision", "batch", "document", "numbercounter", "numberpattern", "documenttext", "flag", "photohashchunk", "visitphoto", "visit", "assignment", "kotasetting", "proposalmember", "proposal",
    "attendee", "meetingphoto", "musyawarah", "kelurahansetting", "registerchange", "person", "family",
    "registerimport", "draft", "officeprofile", "storedfile", "auditentry", "user_account",
)


def reset_database(engine: sa.Engine) -> None:
    """Empty every runtime table and restart the audit chain; wilayah reference data stays."""
    from core import audit_guard

    with engine.begin() as conn:
        audit_guard.remove(conn)  # the audit table refuses DELETE; tests start from an empty chain
        for table in RUNTIME_TABLES:
            conn.execute(sa.text(f"DELETE FROM {table}"))
        conn.execute(sa.text("UPDATE audithead SET last_seq = 0, last_hash = :h WHERE id = 1"), {"h": "0" * 64})
        audit_guard.install(conn)
    from core import audit_checkpoint

    audit_checkpoint.forget(str(engine.url))  # the emptied chain starts again from nothing


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request) -> sa.Engine:
    """A migrated database on each backend, empty of runtime data."""
    eng = request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")
    reset_database(eng)
    return eng


@pytest.fixture
def sqlite_only(sqlite_engine) -> sa.Engine:
    """The SQLite test database (the one AppTest pages and CLI subprocesses use), emptied."""
    reset_database(sqlite_engine)
    return sqlite_engine


@pytest.fixture
def scope(engine):
    """``with scope() as session:`` — one unit of work on the parametrised database."""
    return lambda: db.session_scope(engine)


@pytest.fixture
def make_account(request):
    """Create an account through the real service: make_account(engine, "lurah.x", "lurah", "31.75.01.1003")."""
    from core import accounts

    def make(engine, username: str, role: str, kode: str, *, password: str = "rahasia-sekali",
             must_change: bool = False, nama: str | None = None) -> Actor:
        with db.session_scope(engine) as session:
            accounts.create_account(
                accounts.NewAccount(username=username, nama=nama or username.title(), role=role, wilayah_kode=kode),
                actor=SYSTEM_ACTOR, session=session, password=password, must_change=must_change)
        return Actor(username=username, nama=nama or username.title(), role=Role(role), wilayah_kode=kode)

    return make


@pytest.fixture
def cheap_password_hashing(monkeypatch):
    """Accounts are made through the real service; a light argon2 setting keeps a test's setup fast.
    Use with ``pytestmark = pytest.mark.usefixtures("cheap_password_hashing")``."""
    from argon2 import PasswordHasher

    from core import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def playwright_driver():
    """The run's one Playwright driver. Its sync API refuses to start while another instance is open in the same
    thread, so the browser, deployment and fault tests all launch their Chromium from this one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw
