"""Backup and restore of a whole installation, checked independently: row counts with plain SQL, every file's
SHA-256 with hashlib, the restored audit chain with `muskel verify-audit`; a damaged backup or a non-empty target
is refused with nothing changed."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("user_account", "family", "person", "musyawarah", "proposal", "proposalmember", "visitphoto", "document",
          "batch", "batchevent", "auditentry", "storedfile")


def muskel(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MUSKEL_DATA_DIR": str(data_dir), "MUSKEL_DATABASE_URL": f"sqlite:///{data_dir / 'muskel.db'}"}
    return subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)


def table_counts(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(data_dir / "muskel.db") as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


def stored_hashes(data_dir: Path) -> dict[str, str]:
    """sha256 → hashlib of the bytes actually on disk, for every file a row points to."""
    with sqlite3.connect(data_dir / "muskel.db") as conn:
        shas = {row[0] for row in conn.execute("SELECT sha256 FROM storedfile")}
    files = data_dir / "files"
    return {sha: hashlib.sha256((files / sha[:2] / sha[2:4] / sha).read_bytes()).hexdigest() for sha in shas}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("source")
    assert muskel(data, "init").returncode == 0
    seeded = muskel(data, "seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    return data


@pytest.fixture(scope="module")
def backup_file(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out") / "cadangan.zip"
    done = muskel(source, "backup", "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files"] > 0
    return out


def test_round_trip_loses_nothing(source, backup_file, tmp_path):
    """Guards the promise of a backup: restored into a new installation, every row count, every file's bytes and
    the audit chain are as they were."""
    before_counts = table_counts(source)
    before_files = stored_hashes(source)
    target = tmp_path / "target"
    target.mkdir()
    restored = muskel(target, "restore", str(backup_file), "--json")
    assert restored.returncode == 0, restored.stderr
    after = table_counts(target)
    # the source recorded its own "backup made" entry after the snapshot; the target records "restored"
    assert {t: n for t, n in after.items() if t != "auditentry"} == \
        {t: n for t, n in before_counts.items() if t != "auditentry"}
    assert after["auditentry"] == before_counts["auditentry"]  # snapshot entries + the restore's own entry
    assert stored_hashes(target) == before_files
    assert all(sha == digest for sha, digest in before_files.items())
    check = muskel(target, "verify-audit", "--json")
    assert check.returncode == 0, check.stdout
    assert json.loads(check.stdout)["ok"] is True


def test_restore_into_a_non_empty_installation_is_refused(source, backup_file):
    """Guards against overwriting a working installation with an old backup."""
    before = table_counts(source)
    refused = muskel(source, "restore", str(backup_file), "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["code"] == "restore_target_not_empty"
    assert table_counts(source) == before


def test_a_damaged_backup_is_refused_and_nothing_is_written(backup_file, tmp_path):
    """Guards a copy damaged on a USB stick: one changed byte in one file is found before anything is written."""
    damaged = tmp_path / "rusak.zip"
    with zipfile.ZipFile(backup_file) as src, zipfile.ZipFile(damaged, "w") as dst:
        flipped = False
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("files/") and not flipped:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
                flipped = True
            dst.writestr(item, data)
    target = tmp_path / "target"
    target.mkdir()
    refused = muskel(target, "restore", str(damaged), "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["code"] == "backup_file_hash"
    assert not (target / "muskel.db").exists() or table_counts(target)["user_account"] == 0
    assert not any((target / "files").rglob("*")) if (target / "files").exists() else True
