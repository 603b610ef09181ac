"""`muskel verify-document` (core.cli.cmd_verify_document) against the SQLite test database: run as a real
subprocess (as test_cli does) for the entry point, and in-process through ``core.cli.main`` (same parser, same
handler, same exit codes and streams) for the many cases, because each subprocess spends seconds starting up.

The contract scripts rely on: exit 0 only for a valid (current, unaltered) final; exit 1 for altered, superseded,
draft and unknown PDFs and for a file that is not a PDF or cannot be read; with --json nothing but one JSON object
on stdout, carrying the stable status or error code; and nothing personal (no NIK, no family name) printed.
Documents are made in-process through the services; the files are handed to the command as a user would.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_documents import (AGREED_MEMBERS, BA, World, _alter_one_byte, count, download, draft, finalise,
                                       held_meeting, make_world)

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def verify_documents(*calls: tuple[str, ...]) -> list[subprocess.CompletedProcess]:
    """Several independent invocations at once (each is a fresh process; most of its time is start-up)."""
    procs = [subprocess.Popen([sys.executable, "-m", "core.cli", "verify-document", *args], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for args in calls]
    done = []
    for args, proc in zip(calls, procs):
        out, err = proc.communicate(timeout=180)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


@pytest.fixture
def cli(capsys):
    """``cli(*args)`` runs ``muskel verify-document *args`` in this process: (exit code, stdout, stderr)."""
    from core.cli import main

    def invoke(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()
        try:
            code = main(["verify-document", *args])
        except SystemExit as exc:  # argparse's usage error
            code = exc.code
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["muskel", "verify-document", *args], code, out, err)

    return invoke


def as_json(proc: subprocess.CompletedProcess) -> dict:
    """stdout must be exactly one JSON document."""
    return json.loads(proc.stdout)


def nothing_personal(proc: subprocess.CompletedProcess) -> None:
    for nik, nama, *_ in AGREED_MEMBERS:
        assert nik not in proc.stdout + proc.stderr
        assert nama.upper() not in (proc.stdout + proc.stderr).upper()


@pytest.fixture
def world(sqlite_only, make_account) -> World:
    return make_world(sqlite_only, make_account)


@pytest.fixture
def final_ba(world, tmp_path) -> tuple[dict, Path]:
    mid = held_meeting(world.engine, world.operator, world.lurah)
    final = finalise(world, BA, {"meeting_id": mid})
    path = tmp_path / "berita_acara.pdf"
    path.write_bytes(download(world, final["id"]))
    return final | {"meeting_id": mid}, path


def test_subprocess_valid_exits_0_and_not_pdf_exits_1(world, final_ba, tmp_path):
    """Guards the installed entry point (python -m core.cli): a genuine final exits 0 with its status as JSON, a
    file that is not a PDF exits 1 with code not_pdf — stdout is exactly one JSON document each time."""
    final, path = final_ba
    junk = tmp_path / "bukan.pdf"
    junk.write_bytes(b"hello, this is not a pdf")
    valid, not_pdf = verify_documents((str(path), "--json"), (str(junk), "--json"))
    assert valid.returncode == 0, valid.stderr
    result = as_json(valid)
    assert (result["status"], result["nomor"], result["kode"]) == ("valid", final["nomor"], final["kode"])
    nothing_personal(valid)
    assert not_pdf.returncode == 1
    assert as_json(not_pdf) == {"ok": False, "code": "not_pdf", "field": "berkas",
                                "message": as_json(not_pdf)["message"]}
    assert "GAGAL (not_pdf)" in not_pdf.stderr and "Traceback" not in valid.stderr + not_pdf.stderr


def test_valid_final_exits_0_with_json_and_human_output(world, final_ba, cli):
    """Guards the good case: a downloaded final is valid (exit 0) with its type, number and counts — and the check
    writes nothing to the registry."""
    final, path = final_ba
    before = count(world.engine, "document")
    proc = cli(str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    result = as_json(proc)
    assert result["status"] == "valid"
    assert (result["jenis"], result["nomor"], result["kode"]) == (BA, final["nomor"], final["kode"])
    assert (result["kelurahan"], result["periode"], result["kk"], result["jiwa"]) == ("Kayu Manis", "2026-11", 2, 5)
    assert result["digantikan_oleh"] is None
    nothing_personal(proc)

    human = cli(str(path))
    assert human.returncode == 0, human.stderr
    assert human.stdout.startswith("Status: valid — SAH")
    assert f"Nomor {final['nomor']}" in human.stdout and "2 KK / 5 jiwa" in human.stdout
    nothing_personal(human)
    assert count(world.engine, "document") == before


def test_altered_superseded_draft_and_unknown_exit_1(world, final_ba, tmp_path, cli):
    """Guards the failures a script must not take for genuine: one changed byte (altered), a replaced final
    (superseded, naming its successor), a draft, and a PDF Muskel never made (unknown) — all exit 1."""
    from reportlab.pdfgen.canvas import Canvas

    final, path = final_ba
    altered = tmp_path / "diubah.pdf"
    altered.write_bytes(_alter_one_byte(path.read_bytes()))
    drafted = tmp_path / "draf.pdf"
    drafted.write_bytes(draft(world, BA, {"meeting_id": final["meeting_id"]}))
    foreign = tmp_path / "lain.pdf"
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(72, 720, f"BERITA ACARA Nomor {final['nomor']}")
    canvas.showPage()
    canvas.save()
    foreign.write_bytes(buffer.getvalue())

    for file, status in ((altered, "altered"), (drafted, "draft"), (foreign, "unknown")):
        proc = cli(str(file), "--json")
        assert proc.returncode == 1, (status, proc.stderr)
        result = as_json(proc)
        assert result["status"] == status
        if status == "altered":  # which registered document it pretends to be
            assert result["nomor"] == final["nomor"]
        else:
            assert "nomor" not in result
        nothing_personal(proc)
        human = cli(str(file))
        assert human.returncode == 1 and human.stdout.startswith(f"Status: {status} — ")

    second = finalise(world, BA, {"meeting_id": final["meeting_id"]}, reason="Koreksi daftar hadir peserta")
    proc = cli(str(path), "--json")
    assert proc.returncode == 1
    result = as_json(proc)
    assert result["status"] == "superseded" and result["digantikan_oleh"] == second["nomor"]
    human = cli(str(path))
    assert human.returncode == 1 and f"Digantikan oleh Nomor {second['nomor']}" in human.stdout


@pytest.mark.parametrize("content", [b"hello, this is not a pdf", b"", b"\x89PNG\r\n\x1a\n rest"])
def test_not_a_pdf_exits_1_with_code(sqlite_only, tmp_path, cli, content):
    """Guards a wrong file handed to the command (text, empty, an image named .pdf): exit 1, code not_pdf in the
    JSON, an Indonesian reason on stderr; without --json stdout stays empty."""
    path = tmp_path / "dokumen.pdf"
    path.write_bytes(content)
    proc = cli(str(path), "--json")
    assert proc.returncode == 1
    result = as_json(proc)
    assert result["ok"] is False and result["code"] == "not_pdf"
    assert "GAGAL (not_pdf)" in proc.stderr and "bukan PDF" in proc.stderr
    plain = cli(str(path))
    assert plain.returncode == 1 and plain.stdout == "" and "GAGAL (not_pdf)" in plain.stderr


def test_missing_file_and_usage(sqlite_only, tmp_path, cli):
    """Guards a typo in the path (exit 1, file_unreadable) and a missing argument (usage, exit 2)."""
    proc = cli(str(tmp_path / "tidak-ada.pdf"), "--json")
    assert proc.returncode == 1
    assert as_json(proc)["code"] == "file_unreadable"
    usage = cli()
    assert usage.returncode == 2 and "usage" in usage.stderr.lower()
