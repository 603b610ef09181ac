"""The migrations themselves, on databases of their own (not the shared test fixtures).

``core.setup.initialise`` must turn an empty SQLite file or an empty PostgreSQL database into a complete schema at
head with the Jakarta wilayah loaded; re-running it must change nothing and keep existing data; two concurrent
starts must not collide. A PostgreSQL app must refuse to start on a schema that is not at head, and
``muskel doctor`` / ``muskel init`` must tell an operator where the installation stands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core import accounts, audit, db, setup, wilayah
from core.access import SYSTEM_ACTOR
from core.config import PROJECT_ROOT, Settings
from core.errors import EnvironmentProblem
from core.models import User
from tests.pg_scratch import scratch_database

EXPECTED_TABLES = {"alembic_version", "auditentry", "audithead", "draft", "officeprofile", "storedfile",
                   "user_account", "wilayah"}
EXPECTED_COUNTS = {"provinsi": 1, "kota": 5, "kabupaten": 1, "kecamatan": 44, "kelurahan": 267}
WILAYAH_ROWS = sum(EXPECTED_COUNTS.values())  # 318


def _sqlite_settings(root) -> Settings:
    return Settings(data_dir=root, database_url=f"sqlite:///{root / 'muskel-migrasi.db'}", idle_timeout_minutes=30)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_settings(request, tmp_path):
    """Settings for an empty database of its own on each backend."""
    if request.param == "sqlite":
        settings = _sqlite_settings(tmp_path)
        yield settings
        db.get_engine(settings.database_url).dispose()
        return
    with scratch_database("muskel_migr") as url:
        yield Settings(data_dir=tmp_path, database_url=url, idle_timeout_minutes=30)


def _snapshot(engine: sa.Engine) -> dict:
    with engine.connect() as conn:
        return {
            "tables": set(sa.inspect(conn).get_table_names()),
            "revision": conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all(),
            "wilayah": conn.execute(sa.text(
                "SELECT kode, tingkat, nama, kode_induk, kode_pos FROM wilayah ORDER BY kode")).all(),
            "audithead": conn.execute(sa.text("SELECT id, last_seq, last_hash FROM audithead")).all(),
        }


def test_initialise_creates_schema_at_head_and_is_idempotent(fresh_settings):
    """Guards first install and every later `muskel init`: full schema at head, 267 kelurahan, data kept."""
    engine = db.get_engine(fresh_settings.database_url)
    assert db.current_revision(engine) is None

    first = setup.initialise(fresh_settings, engine)
    head = db.head_revision(engine)
    assert first["revision_before"] is None
    assert first["revision"] == head
    assert first["wilayah"] == {"inserted": WILAYAH_ROWS, "updated": 0}
    assert db.is_at_head(engine)
    snap = _snapshot(engine)
    assert EXPECTED_TABLES <= snap["tables"]
    assert snap["revision"] == [head]
    assert snap["audithead"] == [(1, 0, "0" * 64)]
    with db.session_scope(engine) as session:
        assert wilayah.counts_by_level(session) == EXPECTED_COUNTS
        assert wilayah.get(session, "31.75.01.1003").nama == "Kayu Manis"
        assert wilayah.get(session, "31.01").tingkat == "kabupaten"

    # Real data goes in: an account (and its audit entry).
    with db.session_scope(engine) as session:
        accounts.create_account(
            accounts.NewAccount(username="lurah.kayumanis", nama="Siti Aminah", role="lurah",
                                wilayah_kode="31.75.01.1003"),
            actor=SYSTEM_ACTOR, session=session, password="rahasia-sekali", must_change=False)
    with_account = _snapshot(engine)

    second = setup.initialise(fresh_settings, engine)
    assert second["revision_before"] == head and second["revision"] == head
    assert second["wilayah"] == {"inserted": 0, "updated": 0}
    assert _snapshot(engine) == with_account
    with db.session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == "lurah.kayumanis")).one()
        assert (user.nama, user.role, user.wilayah_kode) == ("Siti Aminah", "lurah", "31.75.01.1003")
        report = audit.verify_chain(session)
        assert report.ok and report.entries == 1


@pytest.mark.timeout(180)
def test_concurrent_initialise_on_fresh_sqlite_gives_one_schema(tmp_path):
    """Guards two app processes starting at once on a new installation: both succeed, one schema, no dupes."""
    settings = _sqlite_settings(tmp_path)
    engine = db.get_engine(settings.database_url)
    barrier = threading.Barrier(2)
    results: list[dict] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            barrier.wait(timeout=30)
            results.append(setup.initialise(settings, engine))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=start) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=120)
        assert not errors, errors
        assert len(results) == 2
        head = db.head_revision(engine)
        assert sorted((r["revision_before"] or "") for r in results) == ["", head]
        assert all(r["revision"] == head for r in results)
        assert sorted(r["wilayah"]["inserted"] for r in results) == [0, WILAYAH_ROWS]
        snap = _snapshot(engine)
        assert EXPECTED_TABLES <= snap["tables"]
        assert snap["revision"] == [head]
        assert len(snap["wilayah"]) == WILAYAH_ROWS
        assert snap["audithead"] == [(1, 0, "0" * 64)]
    finally:
        engine.dispose()


def test_ensure_ready_refuses_postgres_not_at_head(tmp_path):
    """Guards deployments: the PostgreSQL app must not start (nor migrate itself) before `muskel init`."""
    with scratch_database("muskel_migr") as url:
        settings = Settings(data_dir=tmp_path, database_url=url, idle_timeout_minutes=30)
        with pytest.raises(EnvironmentProblem) as info:
            setup.ensure_ready(settings)
        assert info.value.exit_code == 4
        assert "muskel init" in info.value.message
        engine = db.get_engine(url)
        assert db.current_revision(engine) is None
        assert "wilayah" not in sa.inspect(engine).get_table_names()

        # After init the same check lets the app start.
        setup.initialise(settings, engine)
        setup.ensure_ready(settings)
        assert db.is_at_head(engine)


def _muskel(args: list[str], data_dir) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["MUSKEL_DATA_DIR"] = str(data_dir)
    env["MUSKEL_DATABASE_URL"] = f"sqlite:///{data_dir / 'muskel.db'}"
    return subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def test_doctor_reports_missing_database_then_healthy_after_init(tmp_path):
    """Guards the operator's first look: doctor says the database is missing (exit 4) until `muskel init`."""
    data_dir = tmp_path / "muskel-baru"

    before = _muskel(["doctor", "--json"], data_dir)
    assert before.returncode == 4, (before.stdout, before.stderr)
    report = json.loads(before.stdout)
    assert report["database"] == "missing"
    assert "muskel init" in report["database_error"]
    assert not (data_dir / "muskel.db").exists()  # doctor never creates a database

    init = _muskel(["init", "--json"], data_dir)
    assert init.returncode == 0, (init.stdout, init.stderr)
    assert json.loads(init.stdout)["wilayah"] == {"inserted": WILAYAH_ROWS, "updated": 0}

    after = _muskel(["doctor", "--json"], data_dir)
    assert after.returncode == 0, (after.stdout, after.stderr)
    report = json.loads(after.stdout)
    assert report["database"] == "ok"
    assert report["migrations"] == "head"
    assert report["wilayah"] == EXPECTED_COUNTS
    assert report["accounts"] == {}
    assert not any(k.endswith("_error") for k in report)
