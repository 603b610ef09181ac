"""Submission packages (core.packages) on SQLite and PostgreSQL, against the demo's ratified Kayu Manis batch.

The source installation is the demo (seeded once per backend). Every import goes into an EMPTY second
installation — its own database and its own file store (MUSKEL_DATA_DIR) — and is checked with independent
oracles: hashlib for every hash, zipfile/pyzipper only to read the archive, plain SQL for what the source holds.
Covered: the round trip with and without encryption, idempotence by batch UUID, every refusal writing nothing
(not even files), the manifest's contents and hash, and the manifest hash printed on a BAST finalised afterwards.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyzipper
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from core import accounts, audit, db, demo, documents, packages, passwords, setup
from core.access import SYSTEM_ACTOR, Actor, Role
from core.config import Settings
from core.errors import AccessDenied, InvalidInput
from tests.conftest import RUNTIME_TABLES, reset_database
from tests.pg_scratch import scratch_database

KAYUMANIS = "31.75.01.1003"
PASSPHRASE = "kunci-paket-rahasia-2026"
PDF_SCAN = b"%PDF-1.4 pindaian bertanda tangan\n%%EOF\n"

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


# ---------------------------------------------------------------- installations


def actor(username: str, role: str, kode: str) -> Actor:
    return Actor(username=username, nama=username.title(), role=Role(role), wilayah_kode=kode, channel="cli")


WALIKOTA = actor("walikota.jaktim", "walikota", "31.75")
LURAH = actor("lurah.kayumanis", "lurah", KAYUMANIS)


@dataclass
class Source:
    engine: sa.Engine
    data_dir: Path
    batch_id: int  # the ratified Kayu Manis November batch
    backend: str


@dataclass
class Target:
    engine: sa.Engine
    data_dir: Path


@contextmanager
def installation(monkeypatch, data_dir: Path):
    """Act as the installation whose file store (and audit checkpoint) lives under ``data_dir``."""
    with monkeypatch.context() as m:
        m.setenv("MUSKEL_DATA_DIR", str(data_dir))
        yield


def q(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def source(request) -> Source:
    """The demo installation (four batches, the November one ratified with visits, photos and documents)."""
    engine = request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")
    reset_database(engine)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        with db.session_scope(engine) as session:
            demo.seed(actor=SYSTEM_ACTOR, session=session)
    (batch_id,), = q(engine, "SELECT id FROM batch WHERE kelurahan_kode = :k AND periode = '2026-11'", k=KAYUMANIS)
    return Source(engine, Path(os.environ["MUSKEL_DATA_DIR"]), batch_id, request.param)


@pytest.fixture(scope="module")
def pg_target_engine(source, tmp_path_factory):
    """A second PostgreSQL database on the same server (only for the PostgreSQL half)."""
    if source.backend != "postgresql":
        yield None
        return
    with scratch_database("muskel_pkgtarget",
                          base_url=source.engine.url.render_as_string(hide_password=False)) as target_url:
        engine = db.get_engine(target_url)
        root = tmp_path_factory.mktemp("pkg-pg-target-init")
        setup.initialise(Settings(data_dir=root, database_url=target_url, idle_timeout_minutes=30), engine)
        yield engine


def _add_target_accounts(engine) -> None:
    with db.session_scope(engine) as session:
        for username, role in (("walikota.jaktim", "walikota"), ("dinsos.jaktim", "dinsos")):
            accounts.create_account(accounts.NewAccount(username=username, nama=username.title(), role=role,
                                                        wilayah_kode="31.75"),
                                    actor=SYSTEM_ACTOR, session=session, password="rahasia-sekali")


@pytest.fixture(scope="module")
def sqlite_target_template(tmp_path_factory) -> Path:
    """A migrated SQLite installation with the importer's account, copied for every test (faster than
    migrating anew); the copy gets a path — and so a database URL and audit checkpoint — of its own."""
    root = tmp_path_factory.mktemp("pkg-sqlite-template")
    url = f"sqlite:///{root / 'muskel.db'}"
    with pytest.MonkeyPatch.context() as m:
        m.setenv("MUSKEL_DATA_DIR", str(root))
        m.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        engine = sa.create_engine(url)
        setup.initialise(Settings(data_dir=root, database_url=url, idle_timeout_minutes=30), engine)
        _add_target_accounts(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
    return root / "muskel.db"


@pytest.fixture
def target(source, request, tmp_path, monkeypatch) -> Target:
    """An empty second installation with its own database and file store, and the Walikota's account."""
    data_dir = tmp_path / "second-installation"
    data_dir.mkdir()
    with installation(monkeypatch, data_dir):
        if source.backend == "sqlite":
            shutil.copyfile(request.getfixturevalue("sqlite_target_template"), data_dir / "muskel.db")
            engine = db.get_engine(f"sqlite:///{data_dir / 'muskel.db'}")
        else:
            engine = request.getfixturevalue("pg_target_engine")
            reset_database(engine)
            _add_target_accounts(engine)
        assert store_files(data_dir) == {}
    yield Target(engine, data_dir)
    if source.backend == "sqlite":
        engine.dispose()


def export(source: Source, monkeypatch, passphrase: str | None = None, who: Actor = WALIKOTA,
           batch_id: int | None = None) -> tuple[bytes, str]:
    with installation(monkeypatch, source.data_dir):
        with db.session_scope(source.engine) as session:
            return packages.export_package(batch_id or source.batch_id, actor=who, session=session,
                                           passphrase=passphrase)


def import_into(target: Target, monkeypatch, data: bytes, **kwargs) -> dict:
    with installation(monkeypatch, target.data_dir):
        with db.session_scope(target.engine) as session:
            return packages.import_package(data, actor=WALIKOTA, session=session, **kwargs)


@pytest.fixture(scope="module")
def plain_package(source):
    """One unencrypted export per backend, shared by the checks that only read or tamper with it."""
    with pytest.MonkeyPatch.context() as m:
        return export(source, m)


@pytest.fixture(scope="module")
def encrypted_package(source):
    with pytest.MonkeyPatch.context() as m:
        return export(source, m, PASSPHRASE)


# ---------------------------------------------------------------- independent oracles


def zip_members(data: bytes, passphrase: str | None = None) -> dict[str, bytes]:
    """Read every member as a plain reader would (pyzipper only for the AES-encrypted archive)."""
    if passphrase is None:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return {i.filename: z.read(i.filename) for i in z.infolist()}
    with pyzipper.AESZipFile(io.BytesIO(data)) as z:
        z.setpassword(passphrase.encode("utf-8"))
        return {i.filename: z.read(i.filename) for i in z.infolist()}


def write_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buffer.getvalue()


def with_manifest(members: dict[str, bytes], manifest: dict) -> dict[str, bytes]:
    return {**members, "manifest.json": json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")}


def store_files(data_dir: Path) -> dict[str, bytes]:
    """Every file in an installation's store, by name (the store names files by their SHA-256)."""
    root = data_dir / "files"
    if not root.exists():
        return {}
    return {p.name: p.read_bytes() for p in root.rglob("*") if p.is_file() and len(p.name) == 64}


def table_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        counts = {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in RUNTIME_TABLES}
        counts["audithead"] = conn.execute(sa.text("SELECT last_seq FROM audithead WHERE id = 1")).scalar_one()
    return counts


def batch_facts(engine, batch_uuid: str) -> dict:
    """What belongs to a batch, read with plain SQL: its row, items, members, documents, visits and photos."""
    (bid, mid, kel, state, revision, late, periode), = q(
        engine, "SELECT id, musyawarah_id, kelurahan_kode, state, revision, late, periode FROM batch "
                "WHERE uuid = :u", u=batch_uuid)
    proposals = q(engine, "SELECT uuid, family_id FROM proposal WHERE musyawarah_id = :m", m=mid)
    families = {f for _, f in proposals if f is not None} or {-1}
    members = q(engine, "SELECT p.uuid, m.nik, m.nama FROM proposalmember m JOIN proposal p ON p.id = m.proposal_id "
                        "WHERE p.musyawarah_id = :m", m=mid)
    docs = q(engine, "SELECT d.uuid, d.doc_type, d.nomor, d.status, d.sha256, d.verification_code, s.sha256, "
                     "d.scan_sha256 FROM document d JOIN storedfile s ON s.id = d.file_id WHERE d.musyawarah_id = :m",
             m=mid)
    ids = ",".join(str(i) for i in families)
    visit_where = (f"a.kelurahan_kode = :k AND (a.proposal_id IN (SELECT id FROM proposal WHERE musyawarah_id = :m) "
                   f"OR a.family_id IN ({ids}))")
    visits = q(engine, f"SELECT v.uuid, v.status, v.hasil FROM visit v JOIN assignment a ON a.id = v.assignment_id "
                       f"WHERE {visit_where}", k=kel, m=mid)
    photos = q(engine, f"SELECT ph.uuid, ph.sha256, ph.latitude, ph.longitude FROM visitphoto ph "
                       f"JOIN visit v ON v.id = ph.visit_id JOIN assignment a ON a.id = v.assignment_id "
                       f"WHERE {visit_where}", k=kel, m=mid)
    meeting_photos = q(engine, "SELECT mp.caption, s.sha256 FROM meetingphoto mp JOIN storedfile s "
                               "ON s.id = mp.file_id WHERE mp.musyawarah_id = :m", m=mid)
    events = q(engine, "SELECT action, from_state, to_state FROM batchevent WHERE batch_id = :b ORDER BY id", b=bid)
    return {"batch": (batch_uuid, kel, periode, state, revision, bool(late)),
            "proposals": sorted(u for u, _ in proposals), "members": sorted(tuple(r) for r in members),
            "documents": sorted(tuple(r) for r in docs), "visits": sorted(tuple(r) for r in visits),
            "photos": sorted((u, s, lat, lon) for u, s, lat, lon in photos),
            "meeting_photos": sorted(tuple(r) for r in meeting_photos), "events": [tuple(e) for e in events]}


def source_uuid(source: Source) -> str:
    (u,), = q(source.engine, "SELECT uuid FROM batch WHERE id = :b", b=source.batch_id)
    return u


def refused(target: Target, monkeypatch, data: bytes, code: str, **kwargs) -> InvalidInput:
    before, files_before = table_counts(target.engine), store_files(target.data_dir)
    with pytest.raises(InvalidInput) as caught:
        import_into(target, monkeypatch, data, **kwargs)
    assert caught.value.code == code, caught.value.message
    assert table_counts(target.engine) == before, "a refused package wrote rows"
    assert store_files(target.data_dir) == files_before, "a refused package left files in the store"
    return caught.value


# ---------------------------------------------------------------- 1. round trip into an empty installation


@pytest.mark.parametrize("passphrase", [None, PASSPHRASE], ids=["plain", "encrypted"])
def test_round_trip_into_empty_second_installation(source, target, monkeypatch, passphrase):
    """Guards the offline path: what the meeting laptop exports arrives complete on the central server — the
    same files byte for byte in ITS store, the same rows, hashes, codes and batch state, and a sound chain."""
    data, digest = export(source, monkeypatch, passphrase)
    members = zip_members(data, passphrase)
    assert hashlib.sha256(members["manifest.json"]).hexdigest() == digest
    manifest = json.loads(members["manifest.json"])
    uuid = source_uuid(source)
    expected = batch_facts(source.engine, uuid)
    assert expected["visits"] and expected["photos"] and expected["documents"]  # the demo batch has all of it

    result = import_into(target, monkeypatch, data, passphrase=passphrase, expect_hash=digest)
    assert result["imported"] is True and result["manifest_sha256"] == digest

    # Every file of the manifest is in the second store, with exactly the bytes the source holds.
    received, original = store_files(target.data_dir), store_files(source.data_dir)
    listed = {f["sha256"] for f in manifest["files"]}
    assert listed and listed <= set(received)
    for sha in listed:
        assert hashlib.sha256(received[sha]).hexdigest() == sha
        assert received[sha] == original[sha]
    # …and the rows pointing at them name those contents.
    stored = {sha for (sha,) in q(target.engine, "SELECT sha256 FROM storedfile")}
    assert stored == listed

    got = batch_facts(target.engine, uuid)
    # The batch enters the receiving installation at the start of the road (its reviewers act on it again); the
    # source's moves stay as history, followed by the import itself.
    source_state = expected["batch"][3]
    assert got["batch"] == expected["batch"][:3] + ("draft",) + expected["batch"][4:]
    assert got["events"] == expected["events"] + [("impor", source_state, "draft")]
    assert {k: v for k, v in got.items() if k not in ("batch", "events")} == \
        {k: v for k, v in expected.items() if k not in ("batch", "events")}
    counts = table_counts(target.engine)
    assert (counts["proposal"], counts["proposalmember"], counts["document"], counts["visit"],
            counts["visitphoto"] + counts["meetingphoto"]) == (
        len(expected["proposals"]), len(expected["members"]), len(expected["documents"]), len(expected["visits"]),
        len(expected["photos"]) + len(expected["meeting_photos"]))
    # The document PDFs received are the registered ones: their stored bytes hash to the registered SHA-256.
    for (_, _, _, _, sha, _, file_sha, _) in got["documents"]:
        assert file_sha == sha and hashlib.sha256(received[sha]).hexdigest() == sha

    with installation(monkeypatch, target.data_dir):
        with db.session_scope(target.engine) as session:
            report = audit.verify_chain(session)
    assert report.ok, report.message
    imported = q(target.engine, "SELECT after FROM auditentry WHERE action = 'batch.package_imported'")
    assert len(imported) == 1
    assert json.loads(imported[0][0])["manifest_sha256"] == digest


def test_encrypted_package_cannot_be_read_without_the_passphrase(source, encrypted_package):
    """Guards NIKs in transit: every member of an encrypted package is encrypted; no reader gets the manifest
    without the passphrase, and with it the manifest hashes to the printed value."""
    data, digest = encrypted_package
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        assert infos and all(i.flag_bits & 0x1 for i in infos)
        with pytest.raises((RuntimeError, NotImplementedError)):
            z.read("manifest.json")
    with pyzipper.AESZipFile(io.BytesIO(data)) as z:
        with pytest.raises(RuntimeError):
            z.read("manifest.json")
    assert hashlib.sha256(zip_members(data, PASSPHRASE)["manifest.json"]).hexdigest() == digest


def test_short_passphrase_is_refused(source, monkeypatch):
    with pytest.raises(InvalidInput) as caught:
        export(source, monkeypatch, "pendek")
    assert caught.value.code == "passphrase_short"


def test_expected_hash_copied_from_paper_in_capitals_is_accepted(source, target, monkeypatch, plain_package):
    """The hash typed from a BAST may be upper case or carry spaces around it."""
    data, digest = plain_package
    assert import_into(target, monkeypatch, data, expect_hash=f"  {digest.upper()}\n")["imported"] is True


# ---------------------------------------------------------------- 2. idempotent by batch UUID


def test_second_import_of_same_package_changes_nothing(source, target, monkeypatch, plain_package):
    """Guards a USB stick plugged in twice: the second import says so and writes nothing at all."""
    data, digest = plain_package
    assert import_into(target, monkeypatch, data)["imported"] is True
    before, files_before = table_counts(target.engine), store_files(target.data_dir)
    again = import_into(target, monkeypatch, data, expect_hash=digest)
    assert again["imported"] is False
    assert table_counts(target.engine) == before
    assert store_files(target.data_dir) == files_before
    # A later export of the same batch (a different manifest: the audit head moved) is the same batch too.
    newer, newer_digest = export(source, monkeypatch)
    assert newer_digest != digest
    assert import_into(target, monkeypatch, newer)["imported"] is False
    assert table_counts(target.engine) == before


# ---------------------------------------------------------------- 3. refusals write nothing


def _flip_one_byte(members: dict[str, bytes]) -> dict[str, bytes]:
    name = sorted(n for n in members if n.startswith("files/"))[0]
    content = bytearray(members[name])
    content[len(content) // 2] ^= 0x01
    return {**members, name: bytes(content)}


def test_changed_byte_in_a_file_is_refused(source, target, monkeypatch, plain_package):
    data, digest = plain_package
    tampered = write_zip(_flip_one_byte(zip_members(data)))
    refused(target, monkeypatch, tampered, "file_hash_mismatch")
    # The manifest itself is untouched, so the expected hash from the BAST does not hide the change.
    refused(target, monkeypatch, tampered, "file_hash_mismatch", expect_hash=digest)


def test_manifest_not_matching_expected_hash_is_refused(source, target, monkeypatch, plain_package):
    data, digest = plain_package
    other = hashlib.sha256(b"paket lain").hexdigest()
    error = refused(target, monkeypatch, data, "manifest_hash_mismatch", expect_hash=other)
    assert digest in error.message and other in error.message


def test_missing_file_is_refused(source, target, monkeypatch, plain_package):
    data, _ = plain_package
    members = zip_members(data)
    gone = sorted(n for n in members if n.startswith("files/"))[-1]
    refused(target, monkeypatch, write_zip({k: v for k, v in members.items() if k != gone}), "package_incomplete")


def test_missing_manifest_is_refused(source, target, monkeypatch, plain_package):
    data, _ = plain_package
    members = zip_members(data)
    refused(target, monkeypatch, write_zip({k: v for k, v in members.items() if k != "manifest.json"}),
            "package_incomplete")


def test_file_dropped_from_manifest_and_zip_is_refused_midway_and_leaves_no_files(source, target, monkeypatch,
                                                                                   plain_package):
    """A document whose PDF is neither listed nor packed: the import fails after the photos were already
    written to the store, and the rollback removes those files again."""
    data, _ = plain_package
    members = zip_members(data)
    manifest = json.loads(members["manifest.json"])
    last_doc = manifest["documents"][-1]
    entry = next(f for f in manifest["files"] if f["id"] == last_doc["file_id"])
    manifest["files"] = [f for f in manifest["files"] if f["id"] != entry["id"]]
    assert manifest["verifications"]["photos"]  # written before documents are loaded
    still_used = {f["path"] for f in manifest["files"]}
    trimmed = {k: v for k, v in with_manifest(members, manifest).items()
               if not k.startswith("files/") or k in still_used}
    refused(target, monkeypatch, write_zip(trimmed), "package_incomplete")


def test_edited_audit_entry_is_refused(source, target, monkeypatch, plain_package):
    """Someone edits an exported audit entry (and, lacking the BAST hash, the manifest hash cannot catch it)."""
    data, _ = plain_package
    members = zip_members(data)
    manifest = json.loads(members["manifest.json"])
    entry = next(e for e in manifest["audit"]["entries"] if e["action"] == "batch.sahkan")
    entry["actor_username"] = "orang.lain"
    refused(target, monkeypatch, write_zip(with_manifest(members, manifest)), "package_audit_broken")


def test_edited_and_rehashed_audit_entry_breaks_the_chain(source, plain_package):
    """The forger also recomputes the edited entry's hash; the next exported entry (seq + 1) still names the
    original hash as its predecessor, so the exported entries no longer form a chain."""
    data, _ = plain_package
    members = zip_members(data)
    manifest = json.loads(members["manifest.json"])
    entries = manifest["audit"]["entries"]
    i = next(i for i in range(len(entries) - 1) if entries[i + 1]["seq"] == entries[i]["seq"] + 1)
    assert entries[i + 1]["prev_hash"] == entries[i]["hash"]  # linked as exported
    from core.models import AuditEntry

    entries[i]["actor_username"] = "orang.lain"
    entries[i]["hash"] = audit.entry_hash(AuditEntry.model_validate(entries[i]))  # the forger's own tool
    code = None
    try:
        packages.check_package(write_zip(with_manifest(members, manifest)))
    except InvalidInput as exc:
        code = exc.code
    assert code == "package_audit_broken"


def test_audit_entries_out_of_order_are_refused(source, target, monkeypatch, plain_package):
    data, _ = plain_package
    members = zip_members(data)
    manifest = json.loads(members["manifest.json"])
    entries = manifest["audit"]["entries"]
    entries[0], entries[1] = entries[1], entries[0]
    refused(target, monkeypatch, write_zip(with_manifest(members, manifest)), "package_audit_broken")


def test_wrong_or_missing_passphrase_is_refused(source, target, monkeypatch, encrypted_package):
    data, digest = encrypted_package
    refused(target, monkeypatch, data, "passphrase_wrong", passphrase="bukan-frasa-sandinya")
    refused(target, monkeypatch, data, "passphrase_required", expect_hash=digest)


@pytest.mark.parametrize("content", [b"%PDF-1.4 ini bukan paket\n%%EOF\n", b"", b"PK\x03\x04 terpotong"],
                         ids=["pdf", "empty", "truncated-zip"])
def test_not_a_zip_is_refused(source, target, monkeypatch, content):
    refused(target, monkeypatch, content, "package_not_zip")


def test_truncated_package_is_refused(source, target, monkeypatch, plain_package):
    """A copy cut off half-way (USB stick pulled out): refused, nothing written."""
    data, _ = plain_package
    refused(target, monkeypatch, data[: len(data) // 2], "package_not_zip")


def test_member_failing_its_crc_is_refused(source, target, monkeypatch, plain_package):
    """One byte of the archive changed (the CRC of a file member in the central directory): the member
    cannot be read intact, so the package is refused as corrupt, nothing written."""
    data, _ = plain_package
    raw = bytearray(data)
    central = raw.find(b"PK\x01\x02")
    while central >= 0:
        (n,) = struct.unpack_from("<H", raw, central + 28)
        if raw[central + 46:central + 46 + n].startswith(b"files/"):
            raw[central + 16] ^= 0x01
            break
        central = raw.find(b"PK\x01\x02", central + 4)
    else:
        pytest.fail("no file member found")
    error = refused(target, monkeypatch, bytes(raw), "package_corrupt")
    assert "Traceback" not in error.message


def test_unknown_format_version_is_refused(source, target, monkeypatch, plain_package):
    data, _ = plain_package
    members = zip_members(data)
    manifest = json.loads(members["manifest.json"])
    manifest["version"] = 99
    refused(target, monkeypatch, write_zip(with_manifest(members, manifest)), "package_format")


def zip_bomb(manifest: bytes) -> bytes:
    """A package whose one file member declares 3 GB uncompressed (crafted: the sizes in the local header and
    the central directory are rewritten; the real content is 1 MB of zeros)."""
    raw = bytearray(write_zip({"manifest.json": manifest, "files/bom": bytes(1024 * 1024)}))
    huge = struct.pack("<I", 3 * 1024 ** 3)
    name = b"files/bom"
    patched = 0
    start = 0
    while (local := raw.find(b"PK\x03\x04", start)) >= 0:
        (n,) = struct.unpack_from("<H", raw, local + 26)
        if raw[local + 30:local + 30 + n] == name:
            raw[local + 22:local + 26] = huge
            patched += 1
        start = local + 4
    central = raw.find(b"PK\x01\x02")
    while central >= 0:
        (n,) = struct.unpack_from("<H", raw, central + 28)
        if raw[central + 46:central + 46 + n] == name:
            raw[central + 24:central + 28] = huge
            patched += 1
        central = raw.find(b"PK\x01\x02", central + 4)
    assert patched == 2
    return bytes(raw)


def test_zip_bomb_is_refused_before_unpacking(source, target, monkeypatch, plain_package):
    data, _ = plain_package
    bomb = zip_bomb(zip_members(data)["manifest.json"])
    with zipfile.ZipFile(io.BytesIO(bomb)) as z:  # what a reader is told before unpacking anything
        assert sum(i.file_size for i in z.infolist()) > 2 * 1024 ** 3
    refused(target, monkeypatch, bomb, "package_bomb")


def test_importer_outside_the_wilayah_or_role_is_refused(source, target, monkeypatch, plain_package):
    """Dinsos may read the kota's data but does not import packages; nothing is written either way."""
    data, _ = plain_package
    before = table_counts(target.engine)
    with installation(monkeypatch, target.data_dir):
        with pytest.raises(AccessDenied):
            with db.session_scope(target.engine) as session:
                packages.import_package(data, actor=actor("dinsos.jaktim", "dinsos", "31.75"), session=session)
    assert table_counts(target.engine) == before


# ---------------------------------------------------------------- 4. the manifest


def test_manifest_holds_the_batch_and_everything_behind_it(source, monkeypatch):
    """Guards the manifest's contract: the required keys, filled with what the source really holds."""
    uuid = source_uuid(source)
    (head_seq, head_hash), = q(source.engine, "SELECT last_seq, last_hash FROM audithead WHERE id = 1")
    data, digest = export(source, monkeypatch)
    members = zip_members(data)
    body = members["manifest.json"]
    assert hashlib.sha256(body).hexdigest() == digest
    m = json.loads(body)
    facts = batch_facts(source.engine, uuid)

    assert m["format"] == "muskel-package" and m["version"] == 1
    batch = m["batch"]
    assert (batch["uuid"], batch["state"], batch["revision"]) == (uuid, "disahkan", facts["batch"][4])
    assert [(e["action"], e["from_state"], e["to_state"]) for e in batch["events"]] == facts["events"]
    assert [e["action"] for e in batch["events"]] == ["ajukan", "teruskan", "sahkan"]
    (n_revisions,), = q(source.engine, "SELECT COUNT(*) FROM batchrevision WHERE batch_id = :b", b=source.batch_id)
    assert len(batch["revisions"]) == n_revisions >= 1

    assert sorted(p["uuid"] for p in m["proposals"]) == facts["proposals"]
    got_members = sorted((p["uuid"], x["nik"], x["nama"]) for p in m["proposals"] for x in p["members"])
    assert got_members == facts["members"]
    assert all(len(nik) == 16 and nik.isdigit() for _, nik, _ in got_members)  # full NIKs travel inside

    named = {p["family_id"] for p in m["proposals"] if p["family_id"] is not None}
    assert named and {f["id"] for f in m["families"]} == named
    assert all("no_kk" in f and "persons" in f for f in m["families"])

    photos = m["verifications"]["photos"]
    assert sorted((p["uuid"], p["sha256"], p["latitude"], p["longitude"]) for p in photos) == facts["photos"]
    for p in photos:
        assert {"sha256", "latitude", "longitude", "coordinate_source", "taken_at", "flags"} <= set(p)
        assert p["coordinate_source"] == ("exif" if p["latitude"] is not None else "")
    assert any(p["latitude"] is None for p in photos) and any(p["latitude"] is not None for p in photos)
    assert sorted(v["uuid"] for v in m["verifications"]["visits"]) == [v[0] for v in facts["visits"]]

    assert sorted((d["uuid"], d["sha256"], d["verification_code"]) for d in m["documents"]) == sorted(
        (d[0], d[4], d[5]) for d in facts["documents"])

    entries = m["audit"]["entries"]
    assert entries and [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    assert {"batch.ajukan", "batch.teruskan", "batch.sahkan"} <= {e["action"] for e in entries
                                                                   if e["object_id"] == uuid}
    assert m["audit"]["head"] == {"seq": head_seq, "hash": head_hash}

    for f in m["files"]:
        assert f["path"] == f"files/{f['sha256']}"
        assert hashlib.sha256(members[f["path"]]).hexdigest() == f["sha256"]
    assert {n for n in members if n.startswith("files/")} == {f["path"] for f in m["files"]}

    exported = q(source.engine, "SELECT after FROM auditentry WHERE action = 'batch.package_exported' "
                                "ORDER BY seq DESC")
    after = json.loads(exported[0][0])
    assert after["manifest_sha256"] == digest and after["terenkripsi"] is False


# ---------------------------------------------------------------- 5. the hash on a later BAST


def test_bast_finalised_after_export_lists_latest_manifest_hash(source, monkeypatch, tmp_path):
    """Guards the link between the USB stick and the signed paper: the BAST printed after an export carries
    the SHA-256 of the newest package's manifest (an older export's hash is not what it names)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext tidak tersedia")
    (mid, bid), = q(source.engine, "SELECT m.id, b.id FROM musyawarah m JOIN batch b ON b.musyawarah_id = m.id "
                                   "WHERE m.kelurahan_kode = :k AND m.periode = '2026-10'", k=KAYUMANIS)
    with installation(monkeypatch, source.data_dir):
        with db.session_scope(source.engine) as session:
            sptjm = documents.finalise("sptjm", {"meeting_id": mid}, actor=LURAH, session=session)
        with db.session_scope(source.engine) as session:
            documents.upload_scan(sptjm["id"], PDF_SCAN, "sptjm.pdf", actor=LURAH, session=session)
    _, first = export(source, monkeypatch, who=LURAH, batch_id=bid)
    data, latest = export(source, monkeypatch, PASSPHRASE, who=LURAH, batch_id=bid)
    assert first != latest
    with installation(monkeypatch, source.data_dir):
        with db.session_scope(source.engine) as session:
            bast = documents.finalise("bast_kelurahan", {"meeting_id": mid}, actor=LURAH, session=session)
    (file_sha,), = q(source.engine, "SELECT s.sha256 FROM document d JOIN storedfile s ON s.id = d.file_id "
                                    "WHERE d.id = :d", d=bast["id"])
    pdf = store_files(source.data_dir)[file_sha]
    path = tmp_path / "bast.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    compact = "".join(text.split()).lower()  # the 64 hex digits wrap inside their table cell
    assert "manifest.json" in compact and latest in compact
    assert first not in compact
    assert hashlib.sha256(zip_members(data, PASSPHRASE)["manifest.json"]).hexdigest() == latest
