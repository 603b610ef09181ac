"""`muskel import-dtsen` (core.cli) run as a real subprocess against the SQLite test database.

Checks the scripted contract: exit codes (0 imported, 1 refused input, 3 access denied), one JSON object on
stdout with --json, --dry-run and refused files write nothing, --report CSV, --skip-invalid, --column-map and
--waive/--reason.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.demo_register import generate, to_csv

ROOT = Path(__file__).resolve().parents[2]
KEL = "31.75.01.1003"
OTHER = "31.75.01.1004"
TABLES = ("family", "person", "registerimport", "storedfile", "auditentry", "flag")


@pytest.fixture
def accounts(sqlite_only, make_account):
    make_account(sqlite_only, "operator.km", "operator", KEL)
    make_account(sqlite_only, "lurah.km", "lurah", KEL)
    make_account(sqlite_only, "operator.pm", "operator", OTHER)
    return sqlite_only


def import_dtsen(path, *args: str, user: str = "operator.km", kode: str = KEL) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli", "import-dtsen", str(path), "--kelurahan", kode,
                           "--as", user, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}


def write(tmp_path: Path, frame, name: str = "dtsen.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(to_csv(frame))
    return path


def bad_frame():
    """Two blocking problems in one family: an invalid NIK (sheet row 3) and an invalid desil (row 2)."""
    frame = generate(KEL, 6, seed=41)
    frame.at[1, "NIK"] = "0075010101800001"
    frame.at[0, "Desil"] = "11"
    return frame


def test_import_json_prints_one_object(accounts, tmp_path):
    """Guards --json: exit 0 and stdout is exactly one JSON object with the counts scripts rely on."""
    frame = generate(KEL, 6, seed=41)
    proc = import_dtsen(write(tmp_path, frame), "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert isinstance(summary, dict)
    assert {"imported", "new", "changed", "unchanged", "absent", "problems"} <= set(summary)
    assert summary["imported"] is True
    assert (summary["new"], summary["changed"], summary["unchanged"], summary["absent"]) == (6, 0, 0, 0)
    assert counts(accounts)["person"] == len(frame)


def test_dry_run_writes_nothing(accounts, tmp_path):
    """Guards --dry-run: the file is checked (exit 0) but nothing is stored."""
    before = counts(accounts)
    proc = import_dtsen(write(tmp_path, generate(KEL, 6, seed=41)), "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["imported"] is False
    assert counts(accounts) == before


def test_blocking_problems_exit_1_and_report(accounts, tmp_path):
    """Guards all-or-nothing on the command line: exit 1, nothing written, --report lists every problem."""
    report = tmp_path / "out.csv"
    before = counts(accounts)
    proc = import_dtsen(write(tmp_path, bad_frame()), "--report", str(report), "--json")
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["imported"] is False
    assert counts(accounts) == before
    with report.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["row", "column", "code", "message"]
    found = {(r[0], r[1], r[2]) for r in rows[1:]}
    assert ("3", "NIK", "nik_invalid") in found
    assert ("2", "Desil", "desil_invalid") in found
    assert all(r[3] for r in rows[1:])  # an Indonesian explanation on every row


def test_skip_invalid_imports_the_rest(accounts, tmp_path):
    """Guards --skip-invalid: the clean families are imported, the bad family is left out and reported."""
    frame = bad_frame()
    proc = import_dtsen(write(tmp_path, frame), "--skip-invalid", "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    bad_size = int((frame["No KK"] == frame.at[0, "No KK"]).sum())
    assert summary["imported"] is True and summary["skipped_rows"] == bad_size
    assert summary["new"] == frame["No KK"].nunique() - 1
    assert counts(accounts)["person"] == len(frame) - bad_size


def test_column_map_file(accounts, tmp_path):
    """Guards --column-map: an unknown column is refused (exit 1) until a source,target file maps it."""
    frame = generate(KEL, 4, seed=41).rename(columns={"NIK": "Kolom Aneh"})
    path = write(tmp_path, frame)
    proc = import_dtsen(path, "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["code"] == "columns_missing"
    mapping = tmp_path / "map.csv"
    mapping.write_text("source,target\nKolom Aneh,nik\n", encoding="utf-8")
    proc = import_dtsen(path, "--column-map", str(mapping), "--json")
    assert proc.returncode == 0, proc.stderr
    assert counts(accounts)["person"] == len(frame)


@pytest.mark.parametrize("user", ["nobody.here", "operator.pm"])
def test_unknown_or_foreign_user_exits_3(accounts, tmp_path, user):
    """Guards --as: an unknown account or one of another kelurahan is refused with exit 3, nothing written."""
    before = counts(accounts)
    proc = import_dtsen(write(tmp_path, generate(KEL, 4, seed=41)), "--json", user=user)
    assert proc.returncode == 3, proc.stderr
    assert counts(accounts) == before


def test_missing_file_exits_1(accounts, tmp_path):
    """Guards a missing FILE: exit 1 with a message, not a traceback."""
    proc = import_dtsen(tmp_path / "tidak-ada.csv", "--json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["code"] == "file_missing"
    assert "Traceback" not in proc.stderr


def _two_kk_frame():
    frame = generate(KEL, 6, seed=41)
    wives = frame.index[frame["Hubungan Keluarga"] == "ISTRI"]
    a, b = wives[0], wives[1]
    assert frame.at[a, "No KK"] != frame.at[b, "No KK"]
    for col in ("NIK", "Nama", "Jenis Kelamin", "Tanggal Lahir"):
        frame.at[b, col] = frame.at[a, col]
    return frame


def test_waive_as_lurah(accounts, tmp_path):
    """Guards --waive/--reason: the Lurah imports a file with a NIK in two KKs; the waiver is recorded."""
    path = write(tmp_path, _two_kk_frame())
    proc = import_dtsen(path, "--json", user="lurah.km")
    assert proc.returncode == 1  # without the waiver it is refused
    proc = import_dtsen(path, "--waive", "nik_in_two_kk", "--reason", "alasan yang cukup panjang", "--json",
                        user="lurah.km")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["imported"] is True
    with accounts.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM flag WHERE code = 'nik_in_two_kk' "
                                    "AND status = 'waived'")).scalar_one() == 2
        assert conn.execute(sa.text("SELECT channel FROM auditentry WHERE action = 'flag.waived'")).scalars().all() \
            == ["cli"]


def test_waive_as_operator_exits_3(accounts, tmp_path):
    """Guards the waiver rule on the command line: an operator's --waive is refused with exit 3."""
    before = counts(accounts)
    proc = import_dtsen(write(tmp_path, _two_kk_frame()), "--waive", "nik_in_two_kk", "--reason",
                        "alasan yang cukup panjang", "--json")
    assert proc.returncode == 3, proc.stderr
    assert counts(accounts) == before
