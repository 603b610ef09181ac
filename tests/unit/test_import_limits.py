"""Oversized DTSEN extracts are refused before parsing: a 2,000,000-row CSV through `muskel import-dtsen`
(peak memory measured), files over the size limit, an XLSX over the row limit, an XLSX that is a ZIP bomb.

Oracles: the exit code and JSON code of the real CLI, plain SQL counts of the register tables (nothing written),
and the child's peak resident memory from the kernel (tests/unit/measured.py).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import db, dtsen_file, register
from core.demo_register import generate, to_csv, to_xlsx
from core.errors import InvalidInput
from tests.unit.measured import muskel, run_measured

KEL = "31.75.01.1003"
TABLES = ("family", "person", "registerimport", "storedfile", "auditentry", "flag")
MEMORY_CEILING_MB = 400


@pytest.fixture
def operator(sqlite_only, make_account):
    make_account(sqlite_only, "operator.km", "operator", KEL)
    return sqlite_only


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def import_cli(path: Path, *extra: str, env_extra: dict | None = None):
    env = {**os.environ, **(env_extra or {})}
    return run_measured(muskel("import-dtsen", str(path), "--kelurahan", KEL, "--as", "operator.km", "--json",
                               *extra), env=env)


def write_big_csv(path: Path, rows: int) -> None:
    """A province-sized extract, written in chunks (never whole in this process's memory)."""
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write("No KK;NIK;Nama;Jenis Kelamin;Tanggal Lahir;SHDK;RT;RW;Desil\n")
        for start in range(0, rows, 20_000):
            out.write("".join(f"3175010101{n // 4:06d};31750141019{n:05d}{n % 10};NAMA WARGA {n:07d};P;1990-01-01;"
                              "Kepala Keluarga;001;002;3\n" for n in range(start, min(rows, start + 20_000))))


def test_two_million_row_csv_is_refused_early_with_bounded_memory(operator, tmp_path):
    """Guards: a province-wide extract (2,000,000 rows, ~160 MB) given to `muskel import-dtsen` ends with exit 1
    and code too_many_rows before pandas parses it — the database unchanged and the process's peak memory near a
    small import's, far below the file's size in a DataFrame."""
    small = tmp_path / "kecil.csv"
    small.write_bytes(to_csv(generate(KEL, 20, seed=3)))
    baseline, baseline_mb = import_cli(small, "--dry-run")
    assert baseline.returncode == 0, baseline.stderr

    big = tmp_path / "provinsi.csv"
    write_big_csv(big, 2_000_000)
    try:
        size_mb = big.stat().st_size / 2**20
        assert size_mb > 150
        before = counts(operator)
        # With the size limit raised, the row limit is what refuses it.
        done, peak_mb = import_cli(big, env_extra={"MUSKEL_IMPORT_MAX_MB": "1000"})
        assert done.returncode == 1, done.stderr
        answer = json.loads(done.stdout)
        assert answer["ok"] is False and answer["code"] == "too_many_rows"
        assert "500.000 baris" in answer["message"] and "pisahkan berkas per kelurahan" in answer["message"]
        assert counts(operator) == before
        print(f"\npeak memory: small dry run {baseline_mb:.0f} MB, refused 2,000,000 rows ({size_mb:.0f} MB file) "
              f"{peak_mb:.0f} MB")
        assert peak_mb < MEMORY_CEILING_MB
        assert peak_mb < baseline_mb + 50  # the file is never held, let alone parsed

        # With the default limits it is already too large a file.
        done, peak_mb = import_cli(big)
        assert done.returncode == 1
        answer = json.loads(done.stdout)
        assert answer["code"] == "file_too_large" and "batasnya 50 MB" in answer["message"]
        assert peak_mb < baseline_mb + 50
        assert counts(operator) == before
    finally:
        big.unlink()


def test_xlsx_over_the_row_limit_is_refused(operator, tmp_path):
    """Guards: the XLSX row count comes from the worksheet itself: 1,001 data rows with a limit of 1,000 are
    refused with too_many_rows; exactly 1,000 pass the limit and are checked as usual."""
    frame = generate(KEL, 400, seed=5)
    assert len(frame) > 1001
    over = tmp_path / "lebih.xlsx"
    over.write_bytes(to_xlsx(frame.head(1001)))
    exact = tmp_path / "pas.xlsx"
    exact.write_bytes(to_xlsx(frame.head(1000)))
    before = counts(operator)
    done, _ = import_cli(over, env_extra={"MUSKEL_IMPORT_MAX_ROWS": "1000"})
    assert done.returncode == 1 and json.loads(done.stdout)["code"] == "too_many_rows", done.stdout
    assert "1.000 baris" in json.loads(done.stdout)["message"]
    done, _ = import_cli(exact, "--dry-run", env_extra={"MUSKEL_IMPORT_MAX_ROWS": "1000"})
    assert done.returncode in (0, 1) and json.loads(done.stdout).get("code") != "too_many_rows", done.stdout
    assert counts(operator) == before


def test_service_refuses_before_reading(operator, monkeypatch, make_account):
    """Guards: the same limits hold for the web path (register.import_extract on uploaded bytes); nothing is
    stored, and a file within the limits still imports."""
    from core.access import Actor, Role

    actor = Actor(username="operator.km", nama="Operator", role=Role.OPERATOR, wilayah_kode=KEL)
    data = to_csv(generate(KEL, 10, seed=8))
    rows = data.count(b"\n") - 1
    monkeypatch.setenv("MUSKEL_IMPORT_MAX_ROWS", str(rows - 1))
    before = counts(operator)
    with pytest.raises(InvalidInput) as refused, db.session_scope(operator) as s:
        register.import_extract(data, "ekstrak.csv", KEL, actor=actor, session=s)
    assert refused.value.code == "too_many_rows"
    monkeypatch.setenv("MUSKEL_IMPORT_MAX_ROWS", "500000")
    monkeypatch.setenv("MUSKEL_IMPORT_MAX_MB", "1")
    padded = data + b"\n" * (1024 * 1024)
    with pytest.raises(InvalidInput) as refused, db.session_scope(operator) as s:
        register.import_extract(padded, "ekstrak.csv", KEL, actor=actor, session=s)
    assert refused.value.code == "file_too_large"
    assert counts(operator) == before
    monkeypatch.setenv("MUSKEL_IMPORT_MAX_ROWS", str(rows))
    with db.session_scope(operator) as s:
        assert register.import_extract(data, "ekstrak.csv", KEL, actor=actor, session=s).imported


def _bomb_workbook(inflated_bytes: int) -> bytes:
    """A real workbook whose sheet inflates to ``inflated_bytes`` of blanks: megabytes on disk."""
    good = zipfile.ZipFile(io.BytesIO(to_xlsx(generate(KEL, 2, seed=1))))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for info in good.infolist():
            if info.filename.startswith("xl/worksheets/"):
                with out.open(info.filename, "w", force_zip64=True) as sheet:
                    sheet.write(good.read(info).replace(b"</sheetData>", b""))
                    block = b" " * (16 << 20)
                    for _ in range(inflated_bytes // len(block)):
                        sheet.write(block)
                    sheet.write(b"</sheetData></worksheet>")
            else:
                out.writestr(info, good.read(info))
    return buffer.getvalue()


def test_xlsx_zip_bomb_is_refused_by_its_inflated_size():
    """Guards: a workbook of a few megabytes that inflates past 1 GiB is refused (file_too_large) before calamine
    would inflate it."""
    bomb = _bomb_workbook(1100 << 20)
    assert len(bomb) < 10 << 20
    with pytest.raises(InvalidInput) as refused:
        dtsen_file.read(bomb, "bom.xlsx")
    assert refused.value.code == "file_too_large" and "bom ZIP" in refused.value.message


def test_xlsx_entry_lying_about_its_size_is_refused():
    """Guards: a sheet whose central directory claims fewer bytes than it holds is refused as unreadable (zipfile
    stops at the claimed size and the CRC fails) rather than inflated without bound."""
    data = bytearray(to_xlsx(generate(KEL, 30, seed=2)))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = next(i for i in archive.infolist() if i.filename.startswith("xl/worksheets/"))
    # Rewrite the uncompressed size in the sheet's central directory entry (offset 24 from its signature).
    position = bytes(data).index(info.filename.encode(), archive.start_dir) - 46
    assert bytes(data)[position:position + 4] == b"PK\x01\x02"
    assert info.file_size > 1000
    data[position + 24:position + 28] = (100).to_bytes(4, "little")
    with pytest.raises(InvalidInput) as refused:
        dtsen_file.read(bytes(data), "bohong.xlsx")
    assert refused.value.code == "file_unreadable"


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_csv_rows_counted_whatever_the_line_ends(line_end):
    """Guards: an extract saved with Windows or old Mac line ends is counted the same (60 data rows: refused
    at 59, accepted at 60)."""
    data = line_end.join([b"No KK;NIK;Nama"] + [b"3175010101000001;317501410190%04d;NAMA" % i for i in range(60)])
    with pytest.raises(InvalidInput) as refused:
        dtsen_file.check_limits(io.BytesIO(data), len(data), max_rows=59)
    assert refused.value.code == "too_many_rows"
    dtsen_file.check_limits(io.BytesIO(data), len(data), max_rows=60)
