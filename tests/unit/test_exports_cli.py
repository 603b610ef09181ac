"""The ratified result for Dinas Sosial (core.exports), the duplicate report, `batch list` and the package
commands of the `muskel` command line, against the demo (seeded once into the SQLite test database).

Oracles are independent of Muskel's readers: python-calamine reads the XLSX, the csv module the CSV, plain SQL
says what the database holds, hashlib and pyzipper check the package. CLI commands run as real subprocesses.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyzipper
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from python_calamine import CalamineWorkbook

from core import accounts, db, demo, exports, meetings, passwords, proposals, workflow
from core.access import SYSTEM_ACTOR, Actor, Role
from core.errors import AccessDenied, InvalidInput
from tests.conftest import reset_database

ROOT = Path(__file__).resolve().parents[2]
KAYUMANIS, PALMERIAM, PULOGADUNG_KEL = "31.75.01.1003", "31.75.01.1004", "31.75.02.1001"
PERIODE = "2026-11"
PASSPHRASE = "frasa-sandi-paket-usb"
SHEETS = ["Usulan baru", "Perbaikan data", "Usulan nonaktif", "Prioritas program"]
SHEET_OF = dict(zip(["baru", "perbaikan", "nonaktif", "prioritas_program"], SHEETS))

def actor(username: str, role: str, kode: str) -> Actor:
    return Actor(username=username, nama=username.title(), role=Role(role), wilayah_kode=kode, channel="cli")


DINSOS = actor("dinsos.jaktim", "dinsos", "31.75")
WALIKOTA = actor("walikota.jaktim", "walikota", "31.75")
LURAH = actor("lurah.kayumanis", "lurah", KAYUMANIS)
LURAH_PM = actor("lurah.palmeriam", "lurah", PALMERIAM)


def muskel(*args: str, input: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli", *args], input=input, capture_output=True, text=True,
                          cwd=ROOT, timeout=180, env={**os.environ, **(env or {})})


@pytest.fixture
def cli(capsys, monkeypatch):
    """The same command line in this process (``core.cli.main``): argparse, output and exit codes as in a
    subprocess, without paying Python's start-up for every variant of a command."""
    from core import cli as cli_module

    def run(*args: str, input: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
        capsys.readouterr()
        with monkeypatch.context() as m:
            for key, value in (env or {}).items():
                m.setenv(key, value)
            m.setattr(sys, "stdin", io.StringIO(input))
            try:
                code = cli_module.main(list(args))
            except SystemExit as exc:
                code = exc.code
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, captured.out, captured.err)

    return run


def q(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()


@pytest.fixture(scope="module")
def demo_db(sqlite_engine) -> sa.Engine:
    """The SQLite test database (the one `muskel` subprocesses use) with the demo, seeded once for the module."""
    reset_database(sqlite_engine)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        with db.session_scope(sqlite_engine) as session:
            demo.seed(actor=SYSTEM_ACTOR, session=session)
    return sqlite_engine


def ratified_batch(engine) -> int:
    (bid,), = q(engine, "SELECT id FROM batch WHERE kelurahan_kode = :k AND periode = :p AND state = 'disahkan'",
                k=KAYUMANIS, p=PERIODE)
    return bid


def member_rows(engine, status: str) -> list[tuple]:
    """(jenis, nik, nama, no_kk) of every member of the November items of ratified batches under 31.75 with the
    given item status — straight from the tables."""
    return sorted(tuple(r) for r in q(engine, """
        SELECT p.jenis, m.nik, m.nama, p.no_kk FROM proposalmember m
        JOIN proposal p ON p.id = m.proposal_id JOIN batch b ON b.musyawarah_id = p.musyawarah_id
        WHERE b.state = 'disahkan' AND b.periode = :p AND b.kelurahan_kode LIKE '31.75.%' AND p.status = :s""",
                                      p=PERIODE, s=status))


# ---------------------------------------------------------------- 6. XLSX and CSV of the ratified result


def set_custom_columns(engine, text: str) -> None:
    rows = q(engine, "SELECT version FROM kotasetting WHERE kota_kode = '31.75'")
    with db.session_scope(engine) as session:
        exports.set_columns("31.75", exports.parse_columns(text), expected_version=rows[0][0] if rows else 0,
                            actor=WALIKOTA, session=session)


def read_xlsx(data: bytes) -> dict[str, list[list]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


def test_xlsx_has_a_sheet_per_type_with_the_kotas_columns_and_only_ratified_items(demo_db):
    """Guards the SIKS-NG upload: four sheets, the headers Dinsos configured (in that order), NIK and No KK as
    16-digit text, and only the items the Walikota ratified — returned ones stay out."""
    set_custom_columns(demo_db, "nik=NIK_ART\nnama=NAMA_ART\nno_kk=NOKK")
    with db.session_scope(demo_db) as session:
        data = exports.xlsx("31.75", PERIODE, actor=DINSOS, session=session)
    book = read_xlsx(data)
    assert list(book) == SHEETS

    expected = member_rows(demo_db, "disahkan")
    returned = member_rows(demo_db, "dikembalikan")
    assert expected and returned  # the demo ratified most items and returned some
    got = []
    for jenis, sheet in SHEET_OF.items():
        rows = book[sheet]
        assert rows[0] == ["NIK_ART", "NAMA_ART", "NOKK"]
        for nik, nama, no_kk in rows[1:]:
            assert isinstance(nik, str) and re.fullmatch(r"\d{16}", nik), nik
            assert isinstance(no_kk, str) and re.fullmatch(r"\d{16}", no_kk), no_kk
            got.append((jenis, nik, nama, no_kk))
        assert len(rows) > 1, f"no ratified {jenis} in the demo"
    assert sorted(got) == expected
    assert not {(nik, kk) for _, nik, _, kk in returned} & {(nik, kk) for _, nik, _, kk in got}

    exported = q(demo_db, "SELECT actor_username, after FROM auditentry WHERE action = 'result.exported' "
                          "ORDER BY seq DESC")
    assert exported[0][0] == "dinsos.jaktim" and json.loads(exported[0][1])["baris"] == len(expected)


def test_xlsx_for_a_kecamatan_uses_its_kotas_columns(demo_db):
    set_custom_columns(demo_db, "no_kk=KK\nnik=NIK\nkode_kelurahan=KODE_WIL")
    with db.session_scope(demo_db) as session:
        book = read_xlsx(exports.xlsx("31.75.01", PERIODE, actor=DINSOS, session=session))
    assert all(book[s][0] == ["KK", "NIK", "KODE_WIL"] for s in SHEETS)
    assert {row[2] for s in SHEETS for row in book[s][1:]} == {KAYUMANIS}


def test_csv_follows_the_kota_columns_and_has_only_ratified_items(demo_db):
    """Guards the CSV for SIKS-NG: the kota's configured columns (the shipped default here, written out
    independently) and only ratified members, NIK and No KK as 16 digits."""
    set_custom_columns(demo_db, "\n".join(f"{source}={header}" for source, header in (
        ("nik", "NIK"), ("no_kk", "NO_KK"), ("nama", "NAMA"), ("jenis_kelamin", "JENIS_KELAMIN"),
        ("tanggal_lahir", "TGL_LAHIR"), ("hubungan", "HUB_KELUARGA"), ("alamat", "ALAMAT"), ("rt", "RT"),
        ("rw", "RW"), ("kode_kelurahan", "KODE_WILAYAH"), ("kelurahan", "KELURAHAN"), ("kecamatan", "KECAMATAN"),
        ("kota", "KABUPATEN_KOTA"), ("desil", "DESIL"), ("jenis_usulan", "JENIS_USULAN"), ("alasan", "ALASAN"),
        ("program", "PROGRAM"))))
    with db.session_scope(demo_db) as session:
        data = exports.csv_bytes("31.75", PERIODE, actor=DINSOS, session=session)
    assert data.startswith("\ufeff".encode("utf-8"))  # Excel opens UTF-8 correctly
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    assert reader.fieldnames == ["NIK", "NO_KK", "NAMA", "JENIS_KELAMIN", "TGL_LAHIR", "HUB_KELUARGA", "ALAMAT",
                                 "RT", "RW", "KODE_WILAYAH", "KELURAHAN", "KECAMATAN", "KABUPATEN_KOTA", "DESIL",
                                 "JENIS_USULAN", "ALASAN", "PROGRAM"]
    rows = list(reader)
    got = sorted((r["JENIS_USULAN"], r["NIK"], r["NAMA"], r["NO_KK"]) for r in rows)
    assert got == member_rows(demo_db, "disahkan")
    assert all(re.fullmatch(r"\d{16}", r["NIK"]) and re.fullmatch(r"\d{16}", r["NO_KK"]) for r in rows)
    assert {r["KODE_WILAYAH"] for r in rows} == {KAYUMANIS}


@pytest.mark.parametrize("fmt", ["xlsx", "csv_bytes"])
@pytest.mark.parametrize("who, scope", [(LURAH, "31.75"), (LURAH, KAYUMANIS),
                                        (actor("camat.matraman", "camat", "31.75.01"), "31.75.01")],
                         ids=["lurah-kota", "lurah-own", "camat-own"])
def test_only_dinsos_and_walikota_export_the_result(demo_db, fmt, who, scope):
    """Full NIKs leave Muskel only through the offices entitled to them; a refusal writes no audit entry."""
    (before,), = q(demo_db, "SELECT COUNT(*) FROM auditentry")
    with pytest.raises(AccessDenied):
        with db.session_scope(demo_db) as session:
            getattr(exports, fmt)(scope, PERIODE, actor=who, session=session)
    assert q(demo_db, "SELECT COUNT(*) FROM auditentry")[0][0] == before
    with db.session_scope(demo_db) as session:
        assert getattr(exports, fmt)("31.75", PERIODE, actor=WALIKOTA, session=session)


def test_parse_columns_names_the_line_of_an_unknown_source():
    with pytest.raises(InvalidInput) as caught:
        exports.parse_columns("nik=NIK\n\nnomor_hp=HP\nnama=NAMA")
    assert caught.value.code == "column_source_unknown"
    assert "Baris 3" in caught.value.message and "nomor_hp" in caught.value.message
    assert exports.parse_columns("nik = NIK_ART\n nama=NAMA_ART \n") == [("nik", "NIK_ART"), ("nama", "NAMA_ART")]
    with pytest.raises(InvalidInput) as caught:
        exports.parse_columns("nama=NAMA")
    assert caught.value.code == "column_nik_missing"
    with pytest.raises(InvalidInput) as caught:
        exports.parse_columns("nik=NIK\nnama=")
    assert caught.value.code == "column_header_empty" and "Baris 2" in caught.value.message


# ---------------------------------------------------------------- 7. `muskel report duplicates`


def _new_family_meeting(engine, kode: str, periode: str, lurah: Actor, families: list[list[dict]],
                        serial: int) -> int:
    """A closed musyawarah in ``kode`` agreeing on the given new families; returns its batch id."""
    with db.session_scope(engine) as s:
        mid = meetings.create_meeting(kode, periode, actor=lurah, session=s)["id"]
    with db.session_scope(engine) as s:
        for fieldname, value in (("tanggal", date(int(periode[:4]), int(periode[5:]), 3)), ("jam_mulai", "09.00"),
                                 ("ketua", "Dewi Kartika"), ("notulis", "Notulis Rapat")):
            current = getattr(s.get(meetings.Musyawarah, mid), fieldname)
            meetings.update_meeting_field(mid, fieldname, current, value, actor=lurah, session=s)
        meetings.add_attendee(mid, {"nama": "Dewi Kartika", "unsur": "Lurah"}, actor=lurah, session=s)
    ids = []
    for i, members in enumerate(families):
        with db.session_scope(engine) as s:
            ids.append(proposals.add_new_family(mid, no_kk=f"3175012005809{serial + i:03d}", alamat="Jl. Palmeriam",
                                                rt="1", rw="2", members=members, programs=["PKH"], actor=lurah,
                                                session=s)["id"])
    with db.session_scope(engine) as s:
        for item in ids:
            proposals.set_decision(item, "disepakati", "", seen="", actor=lurah, session=s)
    with db.session_scope(engine) as s:
        meetings.close_meeting(mid, confirm_without_quorum=True, actor=lurah, session=s)
    with db.session_scope(engine) as s:
        return workflow.batch_id_for_meeting(mid, actor=lurah, session=s)


def _member(engine, status: str) -> dict:
    (nik, nama, jk, lahir, jenis, bid), = q(engine, """
        SELECT m.nik, m.nama, m.jenis_kelamin, m.tanggal_lahir, p.jenis, b.id FROM proposalmember m
        JOIN proposal p ON p.id = m.proposal_id JOIN batch b ON b.musyawarah_id = p.musyawarah_id
        WHERE b.kelurahan_kode = :k AND b.periode = :p AND p.status = :s ORDER BY m.id LIMIT 1""",
                                            k=KAYUMANIS, p=PERIODE, s=status)
    return {"nik": nik, "nama": nama, "jenis_kelamin": jk, "tanggal_lahir": date.fromisoformat(str(lahir)[:10]),
            "jenis": jenis, "batch_id": bid}


@pytest.fixture(scope="module")
def duplicated(demo_db) -> list[dict]:
    """Palmeriam proposes in December a ratified and a returned person of Kayu Manis' November batch; the
    duplicate rows those four occurrences must give, built by construction."""
    ratified, returned = _member(demo_db, "disahkan"), _member(demo_db, "dikembalikan")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        families = [[{**{k: p[k] for k in ("nik", "jenis_kelamin", "tanggal_lahir")}, "nama": f"Warga Ganda {i}",
                      "hubungan": "KEPALA KELUARGA"}] for i, p in enumerate((ratified, returned))]
        pm_batch = _new_family_meeting(demo_db, PALMERIAM, "2026-12", LURAH_PM, families, serial=1)
    names = dict(q(demo_db, "SELECT kode, nama FROM wilayah WHERE kode IN (:a, :b)", a=KAYUMANIS, b=PALMERIAM))
    rows = []
    for i, (person, status) in enumerate(((ratified, "disahkan"), (returned, "dikembalikan"))):
        rows.append({"nik": person["nik"], "nama": person["nama"], "kelurahan_kode": KAYUMANIS,
                     "kelurahan": names[KAYUMANIS], "batch_id": str(person["batch_id"]),
                     "proposal_type": person["jenis"], "status": status})
        rows.append({"nik": person["nik"], "nama": f"WARGA GANDA {i}", "kelurahan_kode": PALMERIAM,
                     "kelurahan": names[PALMERIAM], "batch_id": str(pm_batch), "proposal_type": "baru",
                     "status": "diusulkan"})
    return rows


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    text = path.read_text(encoding="utf-8")
    return text.splitlines()[0].split(","), list(csv.DictReader(io.StringIO(text, newline="")))


def test_report_duplicates_lists_every_occurrence_with_codes(demo_db, duplicated, tmp_path, cli):
    """Guards the Walikota's duplicate check before signing: one CSV row per occurrence of a NIK proposed more
    than once, with codes (not labels) for type and status."""
    out = tmp_path / "ganda.csv"
    proc = muskel("report", "duplicates", "--wilayah", "31.75", "--as", "walikota.jaktim", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv(out)
    assert header == ["nik", "nama", "kelurahan_kode", "kelurahan", "batch_id", "proposal_type", "status"]
    key = lambda r: (r["nik"], r["kelurahan_kode"], r["batch_id"])  # noqa: E731
    assert sorted(rows, key=key) == sorted(duplicated, key=key)
    assert str(len(rows)) in proc.stdout

    # Within November alone nobody is proposed twice; within Palmeriam alone neither.
    for extra in (["--periode", PERIODE], ["--wilayah", PALMERIAM]):
        args = ["--wilayah", "31.75", *extra] if extra[0] == "--periode" else extra
        proc = cli("report", "duplicates", *args, "--as", "walikota.jaktim", "--out", str(out), "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["rows"] == 0
        assert read_csv(out)[1] == []


def test_report_duplicates_refuses_unknown_account(demo_db, tmp_path, cli):
    out = tmp_path / "ganda.csv"
    proc = muskel("report", "duplicates", "--wilayah", "31.75", "--as", "tidak.ada", "--out", str(out), "--json")
    assert proc.returncode == 3
    assert json.loads(proc.stdout)["code"] == "unknown_account"
    assert not out.exists()
    proc = cli("report", "duplicates", "--wilayah", "31.75", "--as", "lurah.kayumanis", "--out", str(out))
    assert proc.returncode == 3 and not out.exists()


# ---------------------------------------------------------------- 8. `muskel batch list`


@pytest.fixture(scope="module")
def pulogadung_batch(demo_db) -> int:
    """A batch outside Matraman, so narrowing by wilayah has something to leave out."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        with db.session_scope(demo_db) as s:
            accounts.create_account(accounts.NewAccount(username="lurah.pulogadung", nama="Lurah Pulo Gadung",
                                                        role="lurah", wilayah_kode=PULOGADUNG_KEL),
                                    actor=SYSTEM_ACTOR, session=s, password="rahasia-sekali")
    lurah = actor("lurah.pulogadung", "lurah", PULOGADUNG_KEL)
    with db.session_scope(demo_db) as s:
        mid = meetings.record_not_held(PULOGADUNG_KEL, PERIODE, "Aula kelurahan sedang direnovasi", actor=lurah,
                                       session=s)["id"]
        return workflow.ensure_batch(s.get(meetings.Musyawarah, mid), s).id


def expected_batches(engine, prefix: str) -> dict[int, dict]:
    """What `batch list` must say about each batch under ``prefix``, from the tables."""
    out = {}
    for bid, uuid, kode, nama, periode, state, revision, late, mid in q(engine, """
            SELECT b.id, b.uuid, b.kelurahan_kode, w.nama, b.periode, b.state, b.revision, b.late, b.musyawarah_id
            FROM batch b JOIN wilayah w ON w.kode = b.kelurahan_kode WHERE b.kelurahan_kode LIKE :p""",
                                                                         p=prefix + ".%"):
        items = q(engine, """SELECT p.jenis, p.no_kk, m.nik FROM proposal p
                             LEFT JOIN proposalmember m ON m.proposal_id = p.id
                             WHERE p.musyawarah_id = :m AND p.keputusan = 'disepakati'
                             AND p.status IN ('diusulkan', 'diteruskan', 'disahkan')""", m=mid)
        per_type: dict[str, set] = {}
        for jenis, kk, _ in items:
            per_type.setdefault(jenis, set()).add(kk)
        out[bid] = {"id": bid, "uuid": uuid, "kelurahan_kode": kode, "kelurahan": nama, "period": periode,
                    "state": state, "revision": revision, "late": bool(late),
                    "counts": {"kk": len({kk for _, kk, _ in items}),
                               "jiwa": len({nik for _, _, nik in items if nik}),
                               **{j: len(v) for j, v in per_type.items()}}}
    return out


def batch_list(*args: str, run=muskel) -> list[dict]:
    proc = run("batch", "list", *args, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, list)
    return data


def test_batch_list_json_for_the_kota(demo_db, pulogadung_batch):
    """Guards scripts reading the queue: every batch under the kota with the documented fields and counts."""
    data = batch_list("--as", "walikota.jaktim")
    expected = expected_batches(demo_db, "31.75")
    assert pulogadung_batch in expected and len(expected) >= 5
    assert sorted(d["id"] for d in data) == sorted(expected)
    for d in data:
        want = expected[d["id"]]
        assert re.fullmatch(r"\d{4}-\d{2}", d["period"])
        for key in ("uuid", "kelurahan_kode", "kelurahan", "period", "state", "revision", "late"):
            assert d[key] == want[key], key
        for key, value in want["counts"].items():
            assert d["counts"][key] == value, (d["id"], key)
        for jenis in ("baru", "perbaikan", "nonaktif", "prioritas_program"):
            assert d["counts"].get(jenis, 0) == want["counts"].get(jenis, 0)
    states = {d["state"] for d in data}
    assert {"disahkan", "diajukan", "dikembalikan", "draft"} <= states
    ratified = next(d for d in data if d["id"] == ratified_batch(demo_db))
    assert ratified["counts"]["kk"] > 0 and ratified["counts"]["jiwa"] >= ratified["counts"]["kk"]


def test_batch_list_narrows_by_wilayah_and_by_the_camats_scope(demo_db, pulogadung_batch, cli):
    matraman = sorted(expected_batches(demo_db, "31.75.01"))
    assert pulogadung_batch not in matraman
    assert sorted(d["id"] for d in batch_list("--as", "walikota.jaktim", "--wilayah", "31.75.01")) == matraman
    assert sorted(d["id"] for d in batch_list("--as", "camat.matraman", run=cli)) == matraman
    assert [d["id"] for d in batch_list("--as", "walikota.jaktim", "--wilayah", "31.75.02", run=cli)] == [
        pulogadung_batch]
    november = batch_list("--as", "walikota.jaktim", "--periode", PERIODE, run=cli)
    assert november and {d["period"] for d in november} == {PERIODE}
    # The camat cannot widen his view past his kecamatan.
    proc = cli("batch", "list", "--as", "camat.matraman", "--wilayah", "31.75", "--json")
    assert proc.returncode == 3 or not {d["id"] for d in json.loads(proc.stdout)} - set(matraman)
    assert cli("batch", "list", "--as", "tidak.ada", "--json").returncode == 3


# ---------------------------------------------------------------- 9. export-package / import-package


@pytest.fixture
def second_installation(tmp_path, cli, monkeypatch) -> dict:
    """A fresh installation in its own data dir and SQLite file (`muskel init`), with the Walikota's account."""
    root = tmp_path / "pusat"
    env = {"MUSKEL_DATA_DIR": str(root), "MUSKEL_DATABASE_URL": f"sqlite:///{root / 'muskel.db'}"}
    assert cli("init", env=env).returncode == 0
    with monkeypatch.context() as m:
        m.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        proc = cli("user", "add", "--username", "walikota.jaktim", "--name", "Walikota", "--role", "walikota",
                   "--wilayah", "31.75", input="rahasia-sekali\n", env=env)
    assert proc.returncode == 0, proc.stderr
    yield {"env": env, "root": root, "engine": sa.create_engine(env["MUSKEL_DATABASE_URL"])}
    db.get_engine(env["MUSKEL_DATABASE_URL"]).dispose()


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in ("batch", "proposal", "proposalmember", "document", "visit", "visitphoto", "storedfile",
                          "auditentry")}


def test_package_via_cli_with_passphrase_and_expected_hash(demo_db, second_installation, tmp_path, cli):
    """Guards the offline path as operators script it: export encrypted (passphrase on stdin), then import on
    the central server only when the manifest matches the hash on the BAST."""
    bid = ratified_batch(demo_db)
    (uuid,), = q(demo_db, "SELECT uuid FROM batch WHERE id = :b", b=bid)
    out = tmp_path / "paket.zip"
    proc = muskel("export-package", str(bid), "--as", "walikota.jaktim", "--out", str(out), "--encrypt", "--json",
                  input=PASSPHRASE + "\n")
    assert proc.returncode == 0, proc.stderr
    printed = json.loads(proc.stdout)
    with pyzipper.AESZipFile(out) as z:
        z.setpassword(PASSPHRASE.encode())
        digest = hashlib.sha256(z.read("manifest.json")).hexdigest()
    assert printed["manifest_sha256"] == digest and printed["encrypted"] is True

    env, target = second_installation["env"], second_installation["engine"]
    before = counts(target)
    wrong = hashlib.sha256(b"paket lain").hexdigest()
    proc = muskel("import-package", str(out), "--as", "walikota.jaktim", "--expect-hash", wrong, "--json",
                  input=PASSPHRASE + "\n", env=env)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["code"] == "manifest_hash_mismatch"
    assert counts(target) == before

    proc = muskel("import-package", str(out), "--as", "walikota.jaktim", "--expect-hash", digest, "--json",
                  input=PASSPHRASE + "\n", env=env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["imported"] is True and result["manifest_sha256"] == digest
    # A ratified batch arrives as a draft: the receiving installation's reviewers act on it again.
    assert q(target, "SELECT uuid, state FROM batch") == [(uuid, "draft")]
    after = counts(target)
    assert after["proposal"] == q(demo_db, "SELECT COUNT(*) FROM proposal p JOIN batch b "
                                           "ON b.musyawarah_id = p.musyawarah_id WHERE b.id = :b", b=bid)[0][0]
    files = {p.name for p in (second_installation["root"] / "files").rglob("*") if p.is_file()}
    assert {sha for (sha,) in q(target, "SELECT sha256 FROM storedfile")} <= files
    assert cli("verify-audit", env=env).returncode == 0

    again = cli("import-package", str(out), "--as", "walikota.jaktim", "--json", input=PASSPHRASE + "\n",
                   env=env)
    assert again.returncode == 0 and json.loads(again.stdout)["imported"] is False
    assert counts(target) == after


def test_export_package_refusals(demo_db, tmp_path, cli):
    out = tmp_path / "paket.zip"
    bid = str(ratified_batch(demo_db))
    proc = muskel("export-package", bid, "--as", "walikota.jaktim", "--out", str(out), "--encrypt", "--json",
                  input="")
    assert proc.returncode == 1 and json.loads(proc.stdout)["code"] == "passphrase_missing"
    proc = cli("export-package", bid, "--as", "walikota.jaktim", "--out", str(out), "--encrypt", "--json",
                  input="pendek\n")
    assert proc.returncode == 1 and json.loads(proc.stdout)["code"] == "passphrase_short"
    proc = cli("export-package", bid, "--as", "lurah.palmeriam", "--out", str(out), "--json")
    assert proc.returncode == 3
    proc = cli("export-package", "999999", "--as", "walikota.jaktim", "--out", str(out), "--json")
    assert proc.returncode == 1 and json.loads(proc.stdout)["code"] == "unknown_batch"
    assert not out.exists()


def test_import_package_of_a_non_zip_fails_cleanly(demo_db, second_installation, tmp_path, cli):
    bogus = tmp_path / "bukan.zip"
    bogus.write_bytes(b"%PDF-1.4 bukan paket\n")
    proc = cli("import-package", str(bogus), "--as", "walikota.jaktim", "--json", env=second_installation["env"])
    assert proc.returncode == 1 and json.loads(proc.stdout)["code"] == "package_not_zip"


def test_documents_dashboards_and_exports_count_the_same_families(demo_db):
    """Guards "a count never differs between two places": for the demo's ratified batch, the figures the
    documents print (doc_content.batch_counts), the dashboard/quarterly query (dashboard.proposal_counts), the
    reviewers' queue (batch_views.queue) and the ratified export agree — and equal a plain SQL count."""
    from core import batch_views, dashboard, doc_assembly, doc_content
    from core.models import Musyawarah
    from sqlmodel import select

    (kk_sql, jiwa_sql), = q(demo_db, """
        SELECT COUNT(DISTINCT p.no_kk), COUNT(DISTINCT m.nik) FROM proposal p
        JOIN proposalmember m ON m.proposal_id = p.id JOIN batch b ON b.musyawarah_id = p.musyawarah_id
        WHERE b.kelurahan_kode = :k AND b.periode = :p AND p.keputusan = 'disepakati'
          AND p.status IN ('diusulkan', 'diteruskan', 'disahkan')""", k=KAYUMANIS, p=PERIODE)
    with db.session_scope(demo_db) as session:
        meeting = session.exec(select(Musyawarah).where(Musyawarah.kelurahan_kode == KAYUMANIS,
                                                        Musyawarah.periode == PERIODE,
                                                        Musyawarah.kind == "held")).one()
        documents_view = doc_content.batch_counts(doc_assembly._proposals(meeting, session))
        dashboard_view = dashboard.proposal_counts(KAYUMANIS, PERIODE, session, group="kelurahan",
                                                   statuses=dashboard.ACTIVE_ITEMS)[KAYUMANIS]
        [queue_row] = [r for r in batch_views.queue("31.75", actor=WALIKOTA, session=session, periode=PERIODE)
                       if r["kelurahan_kode"] == KAYUMANIS]
        exported = exports.ratified_rows("31.75", PERIODE, actor=DINSOS, session=session)
    assert (documents_view["kk"], documents_view["jiwa"]) == (kk_sql, jiwa_sql)
    assert (dashboard_view["kk"], dashboard_view["jiwa"]) == (kk_sql, jiwa_sql)
    assert (queue_row["kk"], queue_row["jiwa"]) == (kk_sql, jiwa_sql)
    assert len({r["no_kk"] for r in exported}) == kk_sql and len({r["nik"] for r in exported}) == jiwa_sql
