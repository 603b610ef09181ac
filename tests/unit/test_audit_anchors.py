"""What catches tampering with the audit log beyond the hash chain itself, on SQLite and PostgreSQL.

An insider with database access must first drop the guard trigger. Then two attacks leave a chain that is
consistent inside the database: trimming entries from the end and fixing the head row, or recomputing the whole
chain after editing an entry. The checkpoint kept outside the database (``core.audit_checkpoint``, advanced by
``db.session_scope`` after each commit) and the audit anchors of final documents catch them. Tampering is done
with plain SQL / the ORM, bypassing the services, as an attacker would.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from core import audit, audit_checkpoint, audit_guard, db, documents
from core.access import Actor, Role
from core.config import PROJECT_ROOT
from core.models import AuditEntry, AuditHead
from tests.unit.test_meetings import closed_meeting

KEL = "31.75.01.1003"
ACTOR = Actor(username="lurah.kayumanis", nama="Siti Aminah", role=Role.LURAH, wilayah_kode=KEL)

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def record(engine, n: int, start: int = 1) -> None:
    """``n`` entries, one unit of work each (so the checkpoint outside the database follows every commit)."""
    for i in range(start, start + n):
        with db.session_scope(engine) as s:
            audit.record(s, ACTOR, "family.updated", object_type="family", object_id=f"KK-{i}", wilayah_kode=KEL,
                         before={"status": "lama"}, after={"status": "baru", "n": i})


def verify(engine) -> audit.ChainReport:
    with db.session_scope(engine) as s:
        return audit.verify_chain(s)


def hashes(engine) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT seq, hash FROM auditentry ORDER BY seq")).all())


def checkpoint(engine) -> dict | None:
    return audit_checkpoint.read(str(engine.url))


def trim_tail(engine, keep: int) -> None:
    """Delete every entry after ``keep`` and make the head row point at the new last entry."""
    last_hash = hashes(engine)[keep]
    with engine.begin() as conn:
        audit_guard.remove(conn)
        conn.execute(sa.text("DELETE FROM auditentry WHERE seq > :k"), {"k": keep})
        conn.execute(sa.text("UPDATE audithead SET last_seq = :k, last_hash = :h WHERE id = 1"),
                     {"k": keep, "h": last_hash})


def rewrite_chain(engine, edited_seq: int, new_after: dict) -> None:
    """Edit one entry's ``after`` and recompute every hash from there on, consistently, and fix the head row."""
    with engine.begin() as conn:
        audit_guard.remove(conn)
    with Session(engine) as s:
        rows = s.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
        prev = rows[edited_seq - 2].hash if edited_seq > 1 else audit.GENESIS_HASH
        for entry in rows[edited_seq - 1:]:
            if entry.seq == edited_seq:
                entry.after = audit.canonical_json(new_after)
            entry.prev_hash = prev
            entry.hash = audit.entry_hash(entry)
            prev = entry.hash
            s.add(entry)
        head = s.get(AuditHead, 1)
        head.last_hash = prev
        s.add(head)
        s.commit()


# --- 9. the guard -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("statement", ["UPDATE auditentry SET \"after\" = '{}' WHERE seq = 2",
                                       "UPDATE auditentry SET hash = prev_hash",
                                       "DELETE FROM auditentry WHERE seq = 3",
                                       "DELETE FROM auditentry"])
def test_guard_refuses_update_and_delete(engine, statement):
    """Guards tamper evidence at the source: the database refuses to change or remove audit entries (and, on
    PostgreSQL, to truncate the table)."""
    record(engine, 3)
    before = hashes(engine)
    tries = [statement] + (["TRUNCATE auditentry"] if engine.dialect.name == "postgresql" and
                           statement == "DELETE FROM auditentry" else [])
    for sql in tries:
        with pytest.raises(sa.exc.DatabaseError) as refused:
            with engine.begin() as conn:
                conn.execute(sa.text(sql))
        assert audit_guard.MESSAGE in str(refused.value), sql
    assert hashes(engine) == before
    assert verify(engine).ok


# --- 10. entries removed from the end ----------------------------------------------------------------------

def test_checkpoint_follows_every_commit(engine):
    """Guards the premise of the anchors: each committed unit of work that appended entries moves the checkpoint
    to the new (length, last hash); a rolled-back one does not."""
    assert checkpoint(engine) is None
    record(engine, 3)
    assert checkpoint(engine) == {"seq": 3, "hash": hashes(engine)[3]}
    with pytest.raises(RuntimeError):
        with db.session_scope(engine) as s:
            audit.record(s, ACTOR, "family.updated", object_type="family", object_id="X", wilayah_kode=KEL)
            raise RuntimeError("batal")
    assert checkpoint(engine) == {"seq": 3, "hash": hashes(engine)[3]}


def test_trimmed_tail_with_fixed_head_is_checkpoint_ahead(engine):
    """Guards against removing the newest entries and fixing the head row — invisible inside the database, but
    the checkpoint outside it remembers a longer chain."""
    record(engine, 5)
    trim_tail(engine, keep=3)
    report = verify(engine)
    assert (report.ok, report.problem, report.entries, report.first_broken_seq) == (False, "checkpoint_ahead", 3, 4)
    assert "5 entri" in report.message and "3" in report.message
    audit_checkpoint.forget(str(engine.url))  # without the outside copy the trimmed chain looks intact
    assert verify(engine).ok


# --- 11. a chain recomputed from scratch ---------------------------------------------------------------------

def test_recomputed_chain_is_checkpoint_mismatch(engine):
    """Guards against a consistent rewrite of the chain after editing one entry: the checkpoint's last hash no
    longer matches the entry at its position."""
    record(engine, 5)
    original = hashes(engine)
    rewrite_chain(engine, 3, {"status": "dipalsukan", "n": 3})
    rewritten = hashes(engine)
    assert (rewritten[1], rewritten[2]) == (original[1], original[2])
    assert all(rewritten[i] != original[i] for i in (3, 4, 5))
    report = verify(engine)
    assert (report.ok, report.problem, report.first_broken_seq) == (False, "checkpoint_mismatch", 5)
    assert "#5" in report.message and "disusun ulang" in report.message
    audit_checkpoint.forget(str(engine.url))  # the rewrite is consistent: only the anchors betray it
    assert verify(engine).ok


def test_document_anchor_alone_catches_a_recomputed_chain(engine, make_account):
    """Guards the second anchor: a final document records the chain's head when it was finalised; a chain
    rewritten from before that point no longer has that hash there — found even with the checkpoint gone."""
    operator = make_account(engine, "operator.kayumanis", "operator", KEL)
    lurah = make_account(engine, "lurah.kayumanis", "lurah", KEL)
    mid, _ = closed_meeting(engine, operator, lurah)
    with db.session_scope(engine) as s:
        ba = documents.finalise("berita_acara", {"meeting_id": mid}, actor=lurah, session=s)
    assert ba["audit_seq"] > 3 and hashes(engine)[ba["audit_seq"]] == ba["audit_hash"]
    record(engine, 2, start=100)
    total = max(hashes(engine))
    assert verify(engine).ok

    rewrite_chain(engine, 2, {"dipalsukan": True})
    assert hashes(engine)[ba["audit_seq"]] != ba["audit_hash"]
    report = verify(engine)
    assert (report.ok, report.problem, report.first_broken_seq) == (False, "checkpoint_mismatch", total)

    audit_checkpoint.forget(str(engine.url))
    report = verify(engine)
    assert (report.ok, report.problem, report.first_broken_seq) == (False, "document_anchor_mismatch",
                                                                     ba["audit_seq"])
    assert ba["nomor"] in report.message and f"#{ba['audit_seq']}" in report.message


# --- 12. inserted and edited entries, as before -------------------------------------------------------------

def test_edited_entry_still_hash_mismatch(engine):
    """Guards that the anchors do not mask the chain's own checks: an edited entry is named where it is."""
    record(engine, 4)
    with engine.begin() as conn:
        audit_guard.remove(conn)
        conn.execute(sa.text('UPDATE auditentry SET "after" = :a WHERE seq = 2'), {"a": '{"status":"palsu"}'})
    report = verify(engine)
    assert (report.ok, report.problem, report.first_broken_seq, report.entries) == (False, "hash_mismatch", 2, 1)


def test_inserted_entry_still_caught(engine):
    """Guards against a forged, self-consistent entry slipped into the middle (seqs moved up, head fixed)."""
    record(engine, 4)
    second_hash = hashes(engine)[2]
    with engine.begin() as conn:
        audit_guard.remove(conn)
        conn.execute(sa.text("UPDATE auditentry SET seq = seq + 1000 WHERE seq >= 3"))
        conn.execute(sa.text("UPDATE auditentry SET seq = seq - 999 WHERE seq > 1000"))
        conn.execute(sa.text("UPDATE audithead SET last_seq = 5 WHERE id = 1"))
    with Session(engine) as s:
        forged = AuditEntry(seq=3, created_at=s.exec(select(AuditEntry.created_at).where(AuditEntry.seq == 2)).one(),
                            actor_username="lurah.kayumanis", actor_role="lurah", channel="web",
                            action="family.updated", object_type="family", object_id="KK-PALSU", wilayah_kode=KEL,
                            before=None, after='{"status":"layak"}', prev_hash=second_hash, hash="")
        forged.hash = audit.entry_hash(forged)
        s.add(forged)
        s.commit()
    report = verify(engine)
    assert report.ok is False
    assert report.problem in ("sequence_gap", "prev_hash_mismatch")
    assert report.first_broken_seq == 4


# --- 13. the command line ------------------------------------------------------------------------------------

def test_cli_verify_audit_reports_checkpoint_ahead(sqlite_only):
    """Guards the operators' script contract for a trimmed tail: exit 1 and the problem code in the JSON."""
    record(sqlite_only, 5)

    def run() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "core.cli", "verify-audit", "--json"], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=120)

    ok = run()
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True
    trim_tail(sqlite_only, keep=3)
    broken = run()
    assert broken.returncode == 1, (broken.stdout, broken.stderr)
    data = json.loads(broken.stdout)
    assert (data["ok"], data["problem"], data["entries"], data["first_broken_seq"]) == (False, "checkpoint_ahead",
                                                                                        3, 4)
