"""The audit trail's hash chain on SQLite and PostgreSQL: intact chains verify, tampering is caught and named.

Tampering is done the way an insider with database access would do it: plain SQL on ``auditentry``, bypassing
the services. Concurrent writers must never fork or gap the chain; a rolled-back change leaves no entry; and
``muskel verify-audit`` reports the same verdict with the documented exit codes.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from datetime import timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core import audit, audit_guard, db
from core.access import Actor, Role
from core.config import PROJECT_ROOT
from core.models import AuditEntry, AuditHead

LURAH = Actor(username="lurah.kayumanis", nama="Siti Aminah", role=Role.LURAH, wilayah_kode="31.75.01.1003")
CAMAT = Actor(username="camat.matraman", nama="Budi Santoso", role=Role.CAMAT, wilayah_kode="31.75.01",
              channel="cli")


def _record_entries(scope, n: int = 5) -> list[str]:
    """Append ``n`` entries, one unit of work each; returns their hashes in order."""
    hashes = []
    for i in range(1, n + 1):
        with scope() as session:
            actor = LURAH if i % 2 else CAMAT
            entry = audit.record(session, actor, "family.updated", object_type="family", object_id=f"KK-{i}",
                                 wilayah_kode=actor.wilayah_kode, before={"status": "lama", "n": i},
                                 after={"status": "baru", "n": i, "catatan": "Rumah di gang sempit — Kayu Manis"})
            hashes.append(entry.hash)
    return hashes


def _verify(scope) -> audit.ChainReport:
    with scope() as session:
        return audit.verify_chain(session)


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT COUNT(*) FROM auditentry")).scalar_one()


# --- an intact chain --------------------------------------------------------------------------------------


def test_intact_chain_verifies_with_the_right_count(engine, scope):
    """Guards the baseline: honest appends produce a chain that verifies and counts every entry."""
    hashes = _record_entries(scope, 6)
    report = _verify(scope)
    assert report.ok is True
    assert report.entries == 6
    assert report.first_broken_seq is None and report.problem is None
    assert "6 entri" in report.message
    with scope() as session:
        rows = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
        head = session.get(AuditHead, 1)
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0].prev_hash == "0" * 64
    assert [r.prev_hash for r in rows[1:]] == hashes[:-1]
    assert len(set(hashes)) == 6
    assert (head.last_seq, head.last_hash) == (6, hashes[-1])


def test_stored_hash_is_sha256_over_the_documented_content(engine, scope):
    """Guards that the hash really covers who, what, where, when and the before/after (independent oracle)."""
    _record_entries(scope, 2)
    with scope() as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.seq == 2)).one()
        first = session.exec(select(AuditEntry).where(AuditEntry.seq == 1)).one()
    assert entry.after == '{"catatan":"Rumah di gang sempit — Kayu Manis","n":2,"status":"baru"}'
    when = entry.created_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    material = [entry.uuid, 2, when, "camat.matraman", "camat", "cli", "family.updated", "family", "KK-2",
                "31.75.01", entry.before, entry.after, first.hash]
    expected = hashlib.sha256(json.dumps(material, ensure_ascii=False).encode("utf-8")).hexdigest()
    assert entry.hash == expected
    # Any change to the content gives another hash.
    material[10] = entry.after.replace("baru", "lama")
    assert hashlib.sha256(json.dumps(material, ensure_ascii=False).encode("utf-8")).hexdigest() != entry.hash


# --- the guard ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("statement", ['UPDATE auditentry SET actor_username = \'orang.lain\' WHERE seq = 1',
                                       "DELETE FROM auditentry WHERE seq = 1"])
def test_database_refuses_to_change_or_remove_entries(engine, scope, statement):
    """Guards tamper evidence: the database itself refuses UPDATE and DELETE on the audit table."""
    _record_entries(scope, 2)
    with pytest.raises(sa.exc.DatabaseError) as refused:
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert "tidak dapat diubah atau dihapus" in str(refused.value)
    assert _count(engine) == 2
    assert _verify(scope).ok


# --- tampering --------------------------------------------------------------------------------------------


def test_edited_entry_is_reported_as_hash_mismatch(engine, scope):
    """Guards against silently rewriting history: an edited `after` is caught at exactly that entry."""
    _record_entries(scope, 5)
    with engine.begin() as conn:
        audit_guard.remove(conn)  # an attacker with database access drops the guard first
        conn.execute(sa.text('UPDATE auditentry SET "after" = :a WHERE seq = 3'),
                     {"a": '{"catatan":"dipalsukan","n":3,"status":"baru"}'})
    report = _verify(scope)
    assert report.ok is False
    assert report.problem == "hash_mismatch"
    assert report.first_broken_seq == 3
    assert report.entries == 2
    assert "#3" in report.message


def test_edited_actor_is_reported_as_hash_mismatch(engine, scope):
    """Guards that blaming someone else (changing the actor) is caught like any other edit."""
    _record_entries(scope, 4)
    with engine.begin() as conn:
        audit_guard.remove(conn)  # an attacker with database access drops the guard first
        conn.execute(sa.text("UPDATE auditentry SET actor_username = 'orang.lain' WHERE seq = 2"))
    report = _verify(scope)
    assert (report.ok, report.problem, report.first_broken_seq) == (False, "hash_mismatch", 2)


def test_deleted_middle_entry_is_detected_at_the_following_entry(engine, scope):
    """Guards against quietly removing an embarrassing entry from the middle of the log."""
    _record_entries(scope, 5)
    with engine.begin() as conn:
        audit_guard.remove(conn)  # an attacker with database access drops the guard first
        conn.execute(sa.text("DELETE FROM auditentry WHERE seq = 3"))
    report = _verify(scope)
    assert report.ok is False
    assert report.problem in ("sequence_gap", "prev_hash_mismatch")
    assert report.first_broken_seq == 4
    assert report.entries == 2
    assert "#4" in report.message


def test_deleted_middle_entry_with_renumbered_seqs_is_detected(engine, scope):
    """Guards a smarter deletion that closes the sequence gap: the broken linkage still betrays it."""
    _record_entries(scope, 5)
    with engine.begin() as conn:
        audit_guard.remove(conn)  # an attacker with database access drops the guard first
        conn.execute(sa.text("DELETE FROM auditentry WHERE seq = 3"))
        conn.execute(sa.text("UPDATE auditentry SET seq = seq + 100 WHERE seq > 3"))
        conn.execute(sa.text("UPDATE auditentry SET seq = seq - 101 WHERE seq > 100"))
        conn.execute(sa.text("UPDATE audithead SET last_seq = 4"))
    report = _verify(scope)
    assert report.ok is False
    assert report.problem == "prev_hash_mismatch"
    assert report.first_broken_seq == 3


def test_forged_entry_inserted_in_the_middle_is_detected(engine, scope):
    """Guards against slipping a fabricated, self-consistent entry between two real ones."""
    _record_entries(scope, 5)
    with scope() as session:
        second = session.exec(select(AuditEntry).where(AuditEntry.seq == 2)).one()
        third = session.exec(select(AuditEntry).where(AuditEntry.seq == 3)).one()
    # Make room: shift ids and seqs of entries 3..5 up by one (via a detour, so unique constraints hold).
    with engine.begin() as conn:
        audit_guard.remove(conn)  # an attacker with database access drops the guard first
        conn.execute(sa.text("UPDATE auditentry SET id = id + 1000000, seq = seq + 1000000 WHERE seq >= 3"))
        conn.execute(sa.text("UPDATE auditentry SET id = id - 999999, seq = seq - 999999 WHERE seq > 1000000"))
    forged = AuditEntry(
        id=third.id, seq=3, created_at=second.created_at + (third.created_at - second.created_at) / 2,
        actor_username="lurah.kayumanis", actor_role="lurah", channel="web", action="family.updated",
        object_type="family", object_id="KK-PALSU", wilayah_kode="31.75.01.1003", before=None,
        after='{"status":"layak"}', prev_hash=second.hash, hash="")
    forged.hash = audit.entry_hash(forged)  # a plausible hash: the entry itself looks fine
    with scope() as session:
        session.add(forged)
    with scope() as session:
        assert audit.entry_hash(session.exec(select(AuditEntry).where(AuditEntry.seq == 3)).one()) == forged.hash
    report = _verify(scope)
    assert report.ok is False
    # The forged entry fits its predecessor; the real entry after it no longer links to it.
    assert report.problem == "prev_hash_mismatch"
    assert report.first_broken_seq == 4
    assert report.first_broken_id == third.id + 1  # the real third entry, moved one place on
    assert report.entries == 3
    assert "#4" in report.message


def test_forged_entry_appended_with_a_middle_seq_is_detected(engine, scope):
    """Guards against a forged row whose seq claims a place in the middle while its id sits at the end."""
    _record_entries(scope, 4)
    with scope() as session:
        second = session.exec(select(AuditEntry).where(AuditEntry.seq == 2)).one()
    with engine.begin() as conn:
        audit_guard.remove(conn)  # an attacker with database access drops the guard first
        conn.execute(sa.text("UPDATE auditentry SET seq = seq + 1000 WHERE seq >= 3"))
        conn.execute(sa.text("UPDATE auditentry SET seq = seq - 999 WHERE seq > 1000"))
    forged = AuditEntry(seq=3, created_at=second.created_at + timedelta(milliseconds=5),
                        actor_username="camat.matraman", actor_role="camat", channel="web", action="batch.forwarded",
                        object_type="batch", object_id="B-1", wilayah_kode="31.75.01", before=None, after=None,
                        prev_hash=second.hash, hash="")
    forged.hash = audit.entry_hash(forged)
    with scope() as session:
        session.add(forged)
    report = _verify(scope)
    assert report.ok is False
    assert report.problem in ("sequence_gap", "prev_hash_mismatch", "hash_mismatch")
    assert report.first_broken_seq == 4  # the renumbered real entry is the first that no longer fits
    assert report.entries == 2


def test_deleted_last_entry_is_reported_as_head_mismatch(engine, scope):
    """Guards against trimming the tail of the log, which no later entry would otherwise betray."""
    _record_entries(scope, 5)
    with engine.begin() as conn:
        audit_guard.remove(conn)  # an attacker with database access drops the guard first
        conn.execute(sa.text("DELETE FROM auditentry WHERE seq = 5"))
    report = _verify(scope)
    assert report.ok is False
    assert report.problem == "head_mismatch"
    assert report.entries == 4
    assert report.first_broken_seq == 5
    assert "#5" in report.message


# --- transactions and concurrency -------------------------------------------------------------------------


def test_rolled_back_entry_leaves_no_trace(engine, scope):
    """Guards 'both land or neither': an entry recorded in a failed unit of work must vanish with it."""
    _record_entries(scope, 3)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with scope() as session:
            audit.record(session, LURAH, "family.deleted", object_type="family", object_id="KK-HILANG",
                         wilayah_kode=LURAH.wilayah_kode)
            raise Boom()
    assert _count(engine) == 3
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM auditentry WHERE object_id = 'KK-HILANG'")).scalar_one() == 0
        assert conn.execute(sa.text("SELECT last_seq FROM audithead WHERE id = 1")).scalar_one() == 3
    report = _verify(scope)
    assert report.ok is True and report.entries == 3
    # The next honest entry continues the chain without a gap.
    _record_entries(scope, 1)
    report = _verify(scope)
    assert report.ok is True and report.entries == 4


@pytest.mark.timeout(240)
def test_concurrent_appends_never_fork_or_gap_the_chain(engine):
    """Guards the head-row lock: 8 writers × 25 appends give seqs 1..200 and a chain that verifies."""
    threads_n, per_thread = 8, 25
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def worker(t: int) -> None:
        actor = Actor(username=f"petugas.{t}", nama=f"Petugas {t}", role=Role.PETUGAS, wilayah_kode="31.75.01.1003")
        try:
            barrier.wait(timeout=60)
            for i in range(per_thread):
                with db.session_scope(engine) as session:
                    audit.record(session, actor, "verification.recorded", object_type="visit",
                                 object_id=f"{t}-{i}", wilayah_kode=actor.wilayah_kode, after={"t": t, "i": i})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=200)
    assert not errors, errors
    assert not any(th.is_alive() for th in threads)
    with engine.connect() as conn:
        seqs = conn.execute(sa.text("SELECT seq FROM auditentry ORDER BY seq")).scalars().all()
        per_actor = dict(conn.execute(sa.text(
            "SELECT actor_username, COUNT(*) FROM auditentry GROUP BY actor_username")).all())
    assert seqs == list(range(1, threads_n * per_thread + 1))
    assert per_actor == {f"petugas.{t}": per_thread for t in range(threads_n)}
    with db.session_scope(engine) as session:
        report = audit.verify_chain(session)
    assert report.ok is True, report.message
    assert report.entries == 200


# --- the command line -------------------------------------------------------------------------------------


def _verify_cli() -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli", "verify-audit", "--json"], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_verify_audit_reports_intact_and_broken_chains(sqlite_only):
    """Guards the operators' script contract: exit 0 on an intact chain, exit 1 naming the broken entry."""
    with db.session_scope(sqlite_only) as session:
        for i in range(4):
            audit.record(session, LURAH, "family.updated", object_type="family", object_id=f"KK-{i}",
                         wilayah_kode=LURAH.wilayah_kode, after={"i": i})

    ok = _verify_cli()
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["ok"] is True
    assert data["entries"] == 4
    assert data["first_broken_seq"] is None

    with sqlite_only.begin() as conn:
        audit_guard.remove(conn)
        conn.execute(sa.text('UPDATE auditentry SET "after" = :a WHERE seq = 2'), {"a": '{"i":99}'})
    broken = _verify_cli()
    assert broken.returncode == 1, (broken.stdout, broken.stderr)
    data = json.loads(broken.stdout)
    assert data["ok"] is False
    assert data["problem"] == "hash_mismatch"
    assert data["first_broken_seq"] == 2
    assert "#2" in data["message"]

    human = subprocess.run([sys.executable, "-m", "core.cli", "verify-audit"], cwd=PROJECT_ROOT,
                           capture_output=True, text=True, timeout=120)
    assert human.returncode == 1
    assert "Entri #2" in human.stdout + human.stderr
