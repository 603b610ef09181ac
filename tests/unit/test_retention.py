"""Retention under UU PDP (core.retention) on SQLite and PostgreSQL, checked from outside: which original files
are still on disk (paths and hashlib), the rows with plain SQL, the audit entries read as rows, the chain with
``audit.verify_chain`` — never retention's own reader as its oracle.

A batch is built for real (closed musyawarah with a meeting photo, a visit with two photos, BA/SPTJM/BAST with
signed scans) and decided at a known moment; the test then travels in time with ``now=``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import audit, backup, db, documents, evidence, meetings, packages, retention, verification, workflow
from core.access import Actor, Role
from core.config import PROJECT_ROOT, Settings, load_settings
from core.errors import AccessDenied
from core.timefmt import WIB
from tests.unit.photo_factory import tagged_jpeg
from tests.unit.test_workflow import (KEL, NEXT_PERIODE, PERIODE, People, batch_id, closed_meeting, finalise_all,
                                      people, waive_all)  # noqa: F401  (people is a fixture)

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

ADMIN = Actor("admin.dki", "Admin DKI", Role.ADMIN, "31")
AUDITOR_KOTA = Actor("auditor.jaktim", "Auditor Jakarta Timur", Role.AUDITOR, "31.75")
AUDITOR_OTHER = Actor("auditor.jakpus", "Auditor Jakarta Pusat", Role.AUDITOR, "31.71")
# Ratified on a leap day, 10:00 WIB: five whole years later is 28 February 2033, 10:00 WIB.
DECIDED = datetime(2028, 2, 29, 3, 0, tzinfo=timezone.utc)
DUE = datetime(2033, 2, 28, 3, 0, tzinfo=timezone.utc)
ORIGINAL_PURPOSES = ("visit_photo", "meeting_photo", "scan")
KEPT_PURPOSES = ("visit_photo_display", "visit_photo_thumb", "meeting_photo_display", "document", "bnba_data")


@dataclass
class Decided:
    batch_id: int
    meeting_id: int
    docs: dict[str, int]
    photo_bytes: list[bytes]  # the visit photos' originals
    meeting_photo: bytes


def build_decided(engine, p: People, *, at: datetime, periode: str = PERIODE, serial_base: int = 0,
                  seed: int = 31, action: str = "sahkan") -> Decided:
    """A batch with a meeting photo, two visit photos and three signed scans, decided (ratified or rejected) at
    ``at``."""
    mid, agreed, _ = closed_meeting(engine, p, periode, serial_base)
    meeting_photo = tagged_jpeg(seed=seed)
    photo_bytes = [tagged_jpeg(seed=seed + 1), tagged_jpeg(seed=seed + 2)]
    with db.session_scope(engine) as s:
        meetings.add_photo(mid, meeting_photo, "rapat.jpg", "Suasana rapat", actor=p.operator, session=s)
        [a] = verification.assign(KEL, p.lurah.username, proposal_ids=[agreed[0]], actor=p.lurah, session=s)
    with db.session_scope(engine) as s:
        visit = verification.start_visit(a["id"], actor=p.lurah, session=s, tanggal=date.today())
    for kind, data in zip(("depan", "dalam"), photo_bytes):
        with db.session_scope(engine) as s:
            evidence.add_photo(visit["id"], data, f"{kind}.jpg", kind, actor=p.lurah, session=s)
    waive_all(engine, p.lurah, agreed)
    docs = finalise_all(engine, p.lurah, mid)
    bid = batch_id(engine, p.lurah, mid)
    for who, move in ((p.lurah, "ajukan"), (p.camat, "teruskan"), (p.walikota, action)):
        with db.session_scope(engine) as s:
            workflow.act(bid, move, actor=who, session=s, now=at, reason="Tidak memenuhi syarat program")
    return Decided(bid, mid, docs, photo_bytes, meeting_photo)


def path_of(sha: str) -> Path:
    return load_settings().files_dir / sha[:2] / sha[2:4] / sha


def on_disk(sha: str) -> bool:
    path = path_of(sha)
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha


def rows(engine, sql: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


def originals(engine) -> dict[str, tuple]:
    """sha256 → (purpose, purged_at is set) of every original, read with plain SQL."""
    return {sha: (purpose, purged is not None) for sha, purpose, purged in rows(
        engine, "SELECT sha256, purpose, purged_at FROM storedfile WHERE purpose IN ('visit_photo', "
                "'meeting_photo', 'scan')")}


def kept_files(engine) -> set[str]:
    return {r[0] for r in rows(engine, "SELECT sha256 FROM storedfile WHERE purpose IN "
                                       "('visit_photo_display', 'visit_photo_thumb', 'meeting_photo_display', "
                                       "'document', 'bnba_data')")}


def audit_after(engine, action: str) -> list[dict]:
    return [json.loads(r[0]) for r in rows(engine, "SELECT after FROM auditentry WHERE action = :a ORDER BY seq",
                                           a=action)]


def chain_ok(engine) -> bool:
    with db.session_scope(engine) as s:
        return audit.verify_chain(s).ok


def run_purge(engine, *, now: datetime, dry_run: bool = False, actor: Actor = ADMIN) -> dict:
    with db.session_scope(engine) as s:
        return retention.purge(actor=actor, session=s, now=now, dry_run=dry_run)


def due_list(engine, *, now: datetime, actor: Actor = ADMIN) -> list[dict]:
    with db.session_scope(engine) as s:
        return retention.due(actor=actor, session=s, now=now)


# ---------------------------------------------------------------- the calendar


def test_whole_years_on_the_wib_calendar():
    """Guards the period: whole years, a decision on 29 February falls due on 28 February (WIB calendar)."""
    assert retention.add_years(DECIDED, 5).astimezone(WIB) == datetime(2033, 2, 28, 10, 0, tzinfo=WIB)
    assert retention.add_years(DECIDED, 4).astimezone(WIB) == datetime(2032, 2, 29, 10, 0, tzinfo=WIB)
    # 23:30 WIB on 31 December is 16:30 UTC the same day; the WIB date decides.
    late = datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc)
    assert retention.add_years(late, 5).astimezone(WIB) == datetime(2031, 12, 31, 23, 30, tzinfo=WIB)


def test_period_comes_from_the_environment(monkeypatch):
    """Guards MUSKEL_RETENTION_YEARS: default 5, a number is taken, nonsense falls back to 5, never below 1."""
    monkeypatch.delenv("MUSKEL_RETENTION_YEARS", raising=False)
    assert load_settings().retention_years == 5
    monkeypatch.setenv("MUSKEL_RETENTION_YEARS", "7")
    assert load_settings().retention_years == 7
    monkeypatch.setenv("MUSKEL_RETENTION_YEARS", "lima")
    assert load_settings().retention_years == 5
    monkeypatch.setenv("MUSKEL_RETENTION_YEARS", "0")
    assert load_settings().retention_years == 1


# ---------------------------------------------------------------- due, then purged


def test_nothing_due_before_the_period_then_purge_removes_only_originals(engine, people):
    """Guards the whole rule: before five years nothing is due; after, the originals' bytes leave the store while
    display copies, documents, rows, EXIF facts and hashes stay, the audit log carries every hash, the chain is
    intact, and a second run finds nothing."""
    b = build_decided(engine, people, at=DECIDED)
    before = originals(engine)
    expected = {hashlib.sha256(x).hexdigest() for x in [*b.photo_bytes, b.meeting_photo]}
    assert expected <= set(before)
    assert sorted(p for p, _ in before.values()) == ["meeting_photo", "scan", "scan", "scan", "visit_photo",
                                                     "visit_photo"]
    assert all(on_disk(sha) for sha in before)
    metadata = rows(engine, "SELECT uuid, sha256, latitude, longitude, taken_at, camera FROM visitphoto ORDER BY id")
    assert all(m[2] is not None for m in metadata)

    assert due_list(engine, now=DUE - timedelta(minutes=1)) == []
    assert run_purge(engine, now=DUE - timedelta(minutes=1))["purged"] == 0
    assert all(on_disk(sha) for sha in before)

    listed = due_list(engine, now=DUE)
    assert sorted(r["sha256"] for r in listed) == sorted(before)
    assert {r["group_uuid"] for r in listed} == {rows(engine, "SELECT uuid FROM batch")[0][0]}
    assert {r["wilayah_nama"] for r in listed} == {"Kayu Manis"}
    assert not any(k in r for r in listed for k in ("nik", "no_kk", "nama"))

    result = run_purge(engine, now=DUE)
    assert result["due"] == 6 and result["purged"] == 6
    assert sorted(result["files"]) == sorted(before)
    assert result["bytes"] == sum(r[0] for r in rows(engine, "SELECT size FROM storedfile WHERE purpose IN "
                                                             "('visit_photo', 'meeting_photo', 'scan')"))
    assert not any(path_of(sha).exists() for sha in before)
    assert all(purged for _, purged in originals(engine).values())
    kept = kept_files(engine)
    assert kept and all(on_disk(sha) for sha in kept)
    assert rows(engine, "SELECT uuid, sha256, latitude, longitude, taken_at, camera FROM visitphoto "
                        "ORDER BY id") == metadata

    entries = audit_after(engine, "retention.purged")
    assert len(entries) == 1
    assert sorted(o["sha256"] for o in entries[0]["asli"]) == sorted(before)
    assert entries[0]["masa_retensi_tahun"] == 5
    early, run = audit_after(engine, "retention.run")  # every run is on the record, also one with nothing due
    assert (early["jumlah_asli"], early["berkas_dihapus"]) == (0, [])
    assert sorted(run["berkas_dihapus"]) == sorted(before)
    assert chain_ok(engine)

    assert due_list(engine, now=DUE + timedelta(days=400)) == []
    again = run_purge(engine, now=DUE + timedelta(days=400))
    assert (again["due"], again["purged"], again["files"]) == (0, 0, [])


def test_a_rejected_batch_follows_the_same_clock(engine, people):
    """Guards the choice for final rejection: the clock starts at the Walikota's rejection of the batch."""
    build_decided(engine, people, at=DECIDED, action="tolak")
    assert due_list(engine, now=DUE - timedelta(minutes=1)) == []
    listed = due_list(engine, now=DUE)
    assert len(listed) == 6 and {r["decision"] for r in listed} == {"ditolak"}


def test_a_batch_still_on_its_way_is_never_due(engine, people):
    """Guards the clock's start: a batch only forwarded (not decided) has no clock, however late it is."""
    mid, agreed, _ = closed_meeting(engine, people)
    with db.session_scope(engine) as s:
        meetings.add_photo(mid, tagged_jpeg(seed=77), "rapat.jpg", "", actor=people.operator, session=s)
    waive_all(engine, people.lurah, agreed)
    finalise_all(engine, people.lurah, mid)
    bid = batch_id(engine, people.lurah, mid)
    for who, move in ((people.lurah, "ajukan"), (people.camat, "teruskan")):
        with db.session_scope(engine) as s:
            workflow.act(bid, move, actor=who, session=s, now=DECIDED)
    assert due_list(engine, now=DUE + timedelta(days=3650)) == []


def test_downloading_a_purged_scan_gives_the_message(engine, people):
    """Guards every reader of an original: the signed scan's download answers with when and why it was removed,
    while the final PDF (not an original) still downloads."""
    b = build_decided(engine, people, at=DECIDED)
    run_purge(engine, now=DUE)
    with db.session_scope(engine) as s:
        with pytest.raises(retention.OriginalPurged) as info:
            documents.download(b.docs["berita_acara"], actor=people.lurah, session=s, which="scan")
    assert info.value.message == ("Berkas asli telah dihapus pada 28 Februari 2033 sesuai masa retensi (5 tahun "
                                  "setelah pengesahan).")
    assert info.value.code == "original_purged" and info.value.exit_code == 1
    with db.session_scope(engine) as s:
        pdf, _, _ = documents.download(b.docs["berita_acara"], actor=people.lurah, session=s, which="pdf")
    sha = rows(engine, "SELECT sha256 FROM document WHERE id = :i", i=b.docs["berita_acara"])[0][0]
    assert hashlib.sha256(pdf).hexdigest() == sha


def test_package_export_after_purge_lists_hashes_without_the_bytes(engine, people, monkeypatch):
    """Guards the package: a decided batch still exports; purged originals are named (hash) but not carried,
    display copies and documents are; importing such an archive is refused with a clear message."""
    b = build_decided(engine, people, at=DECIDED)
    purged = set(originals(engine))
    run_purge(engine, now=DUE)
    with db.session_scope(engine) as s:
        data, _ = packages.export_package(b.batch_id, actor=people.walikota, session=s)
    archive = zipfile.ZipFile(io.BytesIO(data))
    carried = {n.split("/", 1)[1] for n in archive.namelist() if n.startswith("files/")}
    manifest = json.loads(archive.read("manifest.json"))
    assert not carried & purged
    assert {f["sha256"] for f in manifest["files"] if f.get("purged_at")} == purged
    assert carried == {f["sha256"] for f in manifest["files"] if not f.get("purged_at")}
    assert all(hashlib.sha256(archive.read(f"files/{sha}")).hexdigest() == sha for sha in carried)
    with pytest.raises(packages.InvalidInput) as info:
        packages.check_package(data)
    assert info.value.code == "package_has_purged_files"


def test_shared_content_still_needed_elsewhere_is_kept(engine, people):
    """Guards content addressing: the same photo bytes used by a later meeting (not yet decided) stay on disk;
    the decided batch's row is still marked purged, and the audit entry says the bytes were kept."""
    b = build_decided(engine, people, at=DECIDED)
    with db.session_scope(engine) as s:
        later = meetings.create_meeting(KEL, NEXT_PERIODE, actor=people.operator, session=s)["id"]
        meetings.add_photo(later, b.meeting_photo, "rapat-lagi.jpg", "", actor=people.operator, session=s)
    shared = hashlib.sha256(b.meeting_photo).hexdigest()
    result = run_purge(engine, now=DUE)
    assert result["kept_shared"] == [shared]
    assert shared not in result["files"]
    assert on_disk(shared)
    assert rows(engine, "SELECT COUNT(*) FROM storedfile WHERE sha256 = :s AND purged_at IS NOT NULL",
                s=shared) == [(1,)]
    assert rows(engine, "SELECT COUNT(*) FROM storedfile WHERE sha256 = :s AND purged_at IS NULL", s=shared) == [(1,)]
    [entry] = audit_after(engine, "retention.purged")
    assert [o["berkas_dihapus"] for o in entry["asli"] if o["sha256"] == shared] == [False]
    others = set(originals(engine)) - {shared}
    assert not any(path_of(sha).exists() for sha in others)


def test_a_visit_photo_waits_for_the_familys_later_proposal(engine, people):
    """Guards the visit rule: the same family proposed again in a later batch (not decided) keeps its visit
    photos, while the earlier batch's meeting photo and scans are purged."""
    b = build_decided(engine, people, at=DECIDED)
    kk = rows(engine, "SELECT p.no_kk FROM proposal p JOIN assignment a ON a.proposal_id = p.id")[0][0]
    from core import proposals

    with db.session_scope(engine) as s:
        later = meetings.create_meeting(KEL, NEXT_PERIODE, actor=people.operator, session=s)["id"]
    first = rows(engine, "SELECT id FROM proposal WHERE no_kk = :k", k=kk)[0][0]
    with db.session_scope(engine) as s:
        member = rows(engine, "SELECT nik, nama, hubungan, jenis_kelamin, tanggal_lahir FROM proposalmember "
                              "WHERE proposal_id = :p", p=first)
        proposals.add_new_family(later, no_kk=kk, alamat="Jl. Kayu Manis No. 1", rt="1", rw="2",
                                 members=[{"nik": m[0], "nama": m[1], "hubungan": m[2], "jenis_kelamin": m[3],
                                           "tanggal_lahir": m[4] if isinstance(m[4], date)
                                           else date.fromisoformat(str(m[4]))} for m in member],
                                 programs=["PKH"], actor=people.operator, session=s)
    result = run_purge(engine, now=DUE)
    visit_shas = {hashlib.sha256(x).hexdigest() for x in b.photo_bytes}
    assert result["due"] == 4
    assert all(on_disk(sha) for sha in visit_shas)
    assert not path_of(hashlib.sha256(b.meeting_photo).hexdigest()).exists()


def test_office_scans_wait_for_every_batch_they_list(engine, people):
    """Guards multi-batch documents: the signed scans of the BAST Camat → Walikota and of the pengesahan follow
    the batches they list and are purged with them (counted once each, grouped per document)."""
    from tests.unit.test_workflow import KEC, KOTA

    b = build_decided(engine, people, at=DECIDED)
    scans = []
    for who, doc_type, kode in ((people.camat, "bast_kecamatan", KEC), (people.walikota, "pengesahan", KOTA)):
        with db.session_scope(engine) as s:
            doc = documents.finalise(doc_type, {"kode": kode, "periode": PERIODE}, actor=who, session=s)
        data = b"%PDF-1.4 pindaian " + doc_type.encode() + b"\n%%EOF\n"
        with db.session_scope(engine) as s:
            documents.upload_scan(doc["id"], data, f"{doc_type}.pdf", actor=who, session=s)
        scans.append(hashlib.sha256(data).hexdigest())
    assert due_list(engine, now=DUE - timedelta(minutes=1)) == []
    listed = due_list(engine, now=DUE)
    assert len(listed) == 8 and set(scans) <= {r["sha256"] for r in listed}
    assert {r["group_type"] for r in listed if r["sha256"] in scans} == {"document"}
    assert run_purge(engine, now=DUE)["purged"] == 8
    assert not any(path_of(sha).exists() for sha in scans)
    assert {o["sha256"] for e in audit_after(engine, "retention.purged") for o in e["asli"]} >= set(scans)
    assert len(audit_after(engine, "retention.purged")) == 3  # the batch and the two office documents
    assert chain_ok(engine)


def test_bytes_left_by_an_interrupted_run_go_with_the_next(engine, people, monkeypatch):
    """Guards the after-commit step: when deleting fails after the commit (the rows are already marked), the
    files stay until the next run, which removes them and records them in its audit entry."""
    build_decided(engine, people, at=DECIDED)
    shas = set(originals(engine))

    def broken(self, sha):
        raise OSError("penyimpanan tidak dapat dihubungi")

    with monkeypatch.context() as patched:
        patched.setattr(type(retention.filestore.default_store()), "delete", broken)
        assert run_purge(engine, now=DUE)["purged"] == 6
    assert all(on_disk(sha) for sha in shas)
    assert all(purged for _, purged in originals(engine).values())
    again = run_purge(engine, now=DUE + timedelta(days=1))
    assert (again["due"], sorted(again["files"])) == (0, sorted(shas))
    assert not any(path_of(sha).exists() for sha in shas)
    assert sorted(audit_after(engine, "retention.run")[-1]["sisa_penghapusan_sebelumnya"]) == sorted(shas)


def test_dry_run_changes_nothing(engine, people):
    """Guards --dry-run: it reports what would go, and no row, no file and no audit entry changes."""
    build_decided(engine, people, at=DECIDED)
    before = (rows(engine, "SELECT id, sha256, purged_at FROM storedfile ORDER BY id"),
              rows(engine, "SELECT COUNT(*), MAX(seq) FROM auditentry"))
    result = run_purge(engine, now=DUE, dry_run=True)
    assert (result["due"], result["purged"], result["dry_run"]) == (6, 0, True)
    assert sorted(result["files"]) == sorted(originals(engine))
    assert (rows(engine, "SELECT id, sha256, purged_at FROM storedfile ORDER BY id"),
            rows(engine, "SELECT COUNT(*), MAX(seq) FROM auditentry")) == before
    assert all(on_disk(sha) for sha in originals(engine))


def test_a_failed_transaction_deletes_nothing(engine, people):
    """Guards the order of things: an error after the purge (before commit) and a commit that itself fails both
    leave every file on disk and every row unmarked, with no audit entry."""
    build_decided(engine, people, at=DECIDED)
    shas = set(originals(engine))
    entries = rows(engine, "SELECT COUNT(*) FROM auditentry")

    with pytest.raises(RuntimeError):
        with db.session_scope(engine) as s:
            retention.purge(actor=ADMIN, session=s, now=DUE)
            raise RuntimeError("the action fails after the purge")

    def refuse(_session):
        raise RuntimeError("the commit fails")

    with pytest.raises(RuntimeError):
        with db.session_scope(engine) as s:
            retention.purge(actor=ADMIN, session=s, now=DUE)
            sa.event.listen(s, "before_commit", refuse)

    assert all(on_disk(sha) for sha in shas)
    assert not any(purged for _, purged in originals(engine).values())
    assert rows(engine, "SELECT COUNT(*) FROM auditentry") == entries
    assert run_purge(engine, now=DUE)["purged"] == 6  # and it still works afterwards
    assert not any(path_of(sha).exists() for sha in shas)


def test_only_the_admin_purges_and_auditors_see_their_wilayah(engine, people):
    """Guards access: every other role is refused the purge; the auditor reads the due list of their own kota
    only; staff of a kelurahan may not read it."""
    build_decided(engine, people, at=DECIDED)
    for actor in (people.lurah, people.camat, people.walikota, AUDITOR_KOTA,
                  Actor("admin.kota", "Admin salah tempat", Role.ADMIN, "31.75")):
        with pytest.raises(AccessDenied):
            run_purge(engine, now=DUE, actor=actor)
    assert len(due_list(engine, now=DUE, actor=AUDITOR_KOTA)) == 6
    assert due_list(engine, now=DUE, actor=AUDITOR_OTHER) == []
    with pytest.raises(AccessDenied):
        due_list(engine, now=DUE, actor=people.lurah)
    assert all(on_disk(sha) for sha in originals(engine))
    assert audit_after(engine, "retention.run") == []


# ---------------------------------------------------------------- backup and the command line (SQLite)


@pytest.fixture
def sqlite_people(sqlite_only, make_account) -> People:
    from tests.unit.test_workflow import KEC, KEC_OTHER, KEL_OTHER, KOTA

    e = sqlite_only
    return People(operator=make_account(e, "operator.kayumanis", "operator", KEL),
                  lurah=make_account(e, "lurah.kayumanis", "lurah", KEL),
                  camat=make_account(e, "camat.matraman", "camat", KEC),
                  walikota=make_account(e, "walikota.jaktim", "walikota", KOTA),
                  camat_other=make_account(e, "camat.pulogadung", "camat", KEC_OTHER),
                  lurah_other=make_account(e, "lurah.palmeriam", "lurah", KEL_OTHER))


def test_backup_after_purge_restores_without_the_purged_files(sqlite_only, sqlite_people, tmp_path):
    """Guards backup and restore: purged originals are not in the backup, and the restore's hash check does not
    ask for them; display copies come back byte for byte."""
    build_decided(sqlite_only, sqlite_people, at=DECIDED)
    purged = set(originals(sqlite_only))
    run_purge(sqlite_only, now=DUE)
    kept = kept_files(sqlite_only)
    out = tmp_path / "cadangan.zip"
    manifest = backup.backup(out)
    listed = {f["sha256"] for f in manifest["files"]}
    assert not listed & purged and kept <= listed
    target = Settings(data_dir=tmp_path / "baru", database_url=f"sqlite:///{tmp_path / 'baru' / 'muskel.db'}",
                      idle_timeout_minutes=30)
    try:
        result = backup.restore(out, settings=target)
    finally:
        db.get_engine(target.database_url).dispose()
    assert result["audit_ok"]
    files = target.files_dir
    assert all(hashlib.sha256((files / s[:2] / s[2:4] / s).read_bytes()).hexdigest() == s for s in kept)
    assert not any((files / s[:2] / s[2:4] / s).exists() for s in purged)


def muskel(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=PROJECT_ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=180)


def test_cli_retention_dry_run_then_purge(sqlite_only, sqlite_people):
    """Guards `muskel retention [--dry-run] --json`: the JSON contract, exit 0, files gone only without
    --dry-run, and the run audited as cli:<login>."""
    past = datetime.now(timezone.utc) - timedelta(days=6 * 366)
    build_decided(sqlite_only, sqlite_people, at=past)
    shas = set(originals(sqlite_only))

    dry = muskel("retention", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    report = json.loads(dry.stdout)
    assert (report["due"], report["purged"], sorted(report["files"])) == (6, 0, sorted(shas))
    assert all(on_disk(sha) for sha in shas)

    done = muskel("retention", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["due"], report["purged"], sorted(report["files"])) == (6, 6, sorted(shas))
    assert report["bytes"] == sum(r[0] for r in rows(sqlite_only, "SELECT size FROM storedfile WHERE purpose IN "
                                                                  "('visit_photo', 'meeting_photo', 'scan')"))
    assert not any(path_of(sha).exists() for sha in shas)
    [(who, channel)] = rows(sqlite_only, "SELECT actor_username, channel FROM auditentry "
                                         "WHERE action = 'retention.run'")
    assert who.startswith("cli:") and channel == "cli"
    human = muskel("retention")
    assert human.returncode == 0 and "0 berkas asli jatuh tempo" in human.stdout
    check = muskel("verify-audit", "--json")
    assert check.returncode == 0 and json.loads(check.stdout)["ok"] is True
