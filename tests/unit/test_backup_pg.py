"""Backup and restore on PostgreSQL (pg_dump / pg_restore, found by core.backup), checked independently: every
table's row count with plain SQL, every stored file's SHA-256 with hashlib, the restored chain with
`muskel verify-audit`.

Two databases of the test's own (``muskel_backup_…``, tests/pg_scratch.py) are created on the server of
MUSKEL_TEST_POSTGRES_URL and dropped afterwards; never the URL's own database. Skipped without that URL unless
MUSKEL_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.pg_scratch import scratch_databases

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def databases():
    """(source URL, target URL): two fresh, empty databases of this module's own."""
    with scratch_databases("muskel_backup", 2) as urls:
        yield tuple(urls)


def muskel(data_dir: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MUSKEL_DATA_DIR": str(data_dir), "MUSKEL_DATABASE_URL": url}
    env.pop("MUSKEL_FILE_STORE", None)
    return subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=600)


def table_counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        tables = sorted(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            return {t: conn.execute(sa.text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in tables}
    finally:
        engine.dispose()


def stored_hashes(data_dir: Path, url: str) -> dict[str, str]:
    """sha256 named by each storedfile row → hashlib of the bytes actually on disk."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            shas = set(conn.execute(sa.text("SELECT sha256 FROM storedfile")).scalars())
    finally:
        engine.dispose()
    files = data_dir / "files"
    return {sha: hashlib.sha256((files / sha[:2] / sha[2:4] / sha).read_bytes()).hexdigest() for sha in shas}


@pytest.fixture(scope="module")
def source(databases, tmp_path_factory) -> tuple[Path, str]:
    """A PostgreSQL installation with the demo data (photos, documents, batches, a long audit chain)."""
    data = tmp_path_factory.mktemp("pg-sumber")
    for command in (["init"], ["seed-demo"]):
        done = muskel(data, databases[0], *command)
        assert done.returncode == 0, done.stderr
    return data, databases[0]


@pytest.fixture(scope="module")
def backup_file(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pg-out") / "cadangan.zip"
    made = muskel(*source, "backup", "--out", str(out), "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["files"] > 0
    return out


def test_postgres_round_trip_loses_nothing(source, backup_file, databases, tmp_path):
    """Guards the promise of a backup on a city's PostgreSQL: restored into an empty installation (a new data
    directory and an empty database), every table has its rows, every file its bytes, and the chain verifies."""
    source_dir, source_url = source
    target_url = databases[1]
    target = tmp_path / "tujuan"
    target.mkdir()
    before_counts, before_files = table_counts(source_url), stored_hashes(source_dir, source_url)
    assert before_counts["family"] > 0 and before_counts["visitphoto"] > 0 and before_counts["document"] > 0

    restored = muskel(target, target_url, "restore", str(backup_file), "--json")
    assert restored.returncode == 0, restored.stderr

    # the source's "backup made" entry came after its snapshot; the target adds its own "restored" entry instead
    assert table_counts(target_url) == before_counts
    assert stored_hashes(target, target_url) == before_files
    assert all(sha == digest for sha, digest in before_files.items())
    check = muskel(target, target_url, "verify-audit", "--json")
    assert check.returncode == 0, check.stdout
    assert json.loads(check.stdout)["ok"] is True


def test_restore_into_a_non_empty_postgres_installation_is_refused(source, backup_file):
    """Guards a working city database against an old backup: the restore is refused and nothing changes."""
    before = table_counts(source[1])
    refused = muskel(*source, "restore", str(backup_file), "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["code"] == "restore_target_not_empty"
    assert table_counts(source[1]) == before
