"""The demo musyawarah of Kayu Manis created by ``muskel seed-demo`` (core.demo.seed → core.demo_meeting.seed).

SQLite only: the seed imports the full demo registers (Kayu Manis and Palmeriam) and creates the demo accounts
it needs itself. Checks the walkthrough's closed November 2026 meeting, the open December meeting holding the
items deferred in November, and that seeding again creates nothing.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core import accounts, db, demo, meetings, proposals
from core.models import Attendee, AuditEntry, Musyawarah, Proposal

KAYUMANIS = "31.75.01.1003"
TABLES = ("musyawarah", "attendee", "proposal", "proposalmember", "flag", "family", "person", "user_account",
          "auditentry", "registerimport")


pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
def seeded(sqlite_only, make_account):
    """The SQLite test database after one demo seed, with the demo operator of Kayu Manis."""
    admin = make_account(sqlite_only, "admin.test", "admin", "31")
    with db.session_scope(sqlite_only) as session:
        result = demo.seed(actor=admin, session=session)
    with db.session_scope(sqlite_only) as session:  # the Administrator may not see family data; the operator may
        operator = accounts.actor_for(accounts.get_user(session, "operator.kayumanis"), channel="cli")
    return sqlite_only, admin, operator, result


def test_november_meeting_closed_with_quorum(seeded):
    """Guards the walkthrough's November meeting: closed, 27 attendees, quorum met, 38 items of which 3 deferred."""
    engine, _, operator, _ = seeded
    with db.session_scope(engine) as session:
        november = session.exec(select(Musyawarah).where(Musyawarah.kelurahan_kode == KAYUMANIS,
                                                         Musyawarah.periode == "2026-11")).one()
        assert november.status == "closed" and november.kind == "held"
        assert not november.closed_without_quorum and november.closed_by == "lurah.kayumanis"
        assert november.jam_mulai == "09:00" and november.jam_selesai == "12:30"
        q = meetings.quorum(november.id, actor=operator, session=session)
        people = session.exec(select(Attendee).where(Attendee.musyawarah_id == november.id,
                                                     Attendee.removed == False)).all()  # noqa: E712
        items = proposals.list_proposals(november.id, actor=operator, session=session)
        closed = session.exec(select(AuditEntry).where(AuditEntry.action == "meeting.closed",
                                                       AuditEntry.object_id == november.uuid)).one()
    assert len(people) == 27 and sum(q.by_unsur.values()) == 27
    assert q.met and q.chair_present and q.rw >= 1 and q.lmk >= 1
    assert json.loads(closed.after)["kuorum"] is True
    assert len(items) == 38
    decisions = [i["keputusan"] for i in items]
    assert decisions.count("ditunda") == 3 and "" not in decisions
    assert all(i["catatan_keputusan"] for i in items if i["keputusan"] == "ditunda")


def test_december_meeting_holds_deferred_items(seeded):
    """Guards against the deferred November items not being carried into the open December meeting."""
    engine, _, operator, _ = seeded
    with db.session_scope(engine) as session:
        by_period = {m.periode: m for m in session.exec(
            select(Musyawarah).where(Musyawarah.kelurahan_kode == KAYUMANIS)).all()}
        # October holds the not-held statement of the workflow demo (a draft batch)
        assert set(by_period) == {"2026-10", "2026-11", "2026-12"}
        assert by_period["2026-10"].kind == "not_held"
        december = by_period["2026-12"]
        assert december.status == "draft"
        deferred = session.exec(select(Proposal).where(Proposal.musyawarah_id == by_period["2026-11"].id,
                                                       Proposal.keputusan == "ditunda")).all()
        items = proposals.list_proposals(december.id, actor=operator, session=session)
        pending = proposals.carried_over(KAYUMANIS, "2026-12", actor=operator, session=session)
        returned = session.exec(select(Proposal).where(Proposal.musyawarah_id == by_period["2026-11"].id,
                                                       Proposal.status.in_(("dikembalikan", "ditolak")))).all()
    assert len(items) == 3
    assert all(i["origin_id"] is not None and i["keputusan"] == "" for i in items)
    assert sorted(i["origin_id"] for i in items) == sorted(p.id for p in deferred)
    assert sorted(i["no_kk"] for i in items) == sorted(p.no_kk for p in deferred)
    # what the Camat and the Walikota returned waits in December's pre-list, with their reasons
    assert len(returned) == 3
    assert sorted((p["no_kk"], p["status_reason"]) for p in pending) == \
        sorted((p.no_kk, p.status_reason) for p in returned)


def test_seed_twice_creates_nothing(seeded):
    """Guards against the demo silently skipping its meetings, and a second ``seed-demo`` duplicating meetings,
    items, attendees or anything else."""
    engine, admin, _, result = seeded
    assert result["meetings_created"] == ["2026-11", "2026-12"]
    assert set(result["registers_imported"]) == {KAYUMANIS, "31.75.01.1004"}

    def table_counts() -> dict[str, int]:
        with engine.connect() as conn:
            return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}

    before = table_counts()
    with db.session_scope(engine) as session:
        again = demo.seed(actor=admin, session=session)
    assert again == {"accounts_created": [], "offices_created": [], "registers_imported": [], "meetings_created": [],
                     "visits_created": 0, "documents_finalised": [], "batches_created": []}
    assert table_counts() == before


def test_demo_field_verification_shows_the_walkthrough_findings(seeded):
    """Guards the demo visits: Pak Budi's assignments, one photo without GPS, one house photographed for two
    KKs (the same photo flagged dup_exact), one family not found, one visit still open."""
    from core import evidence, verification
    from core.access import Actor, Role

    engine, _, operator, result = seeded
    assert result["visits_created"] == 6
    budi = Actor("petugas.kayumanis", "Budi Santoso", Role.PETUGAS, KAYUMANIS)
    with db.session_scope(engine) as session:
        mine = verification.list_assignments(actor=budi, session=session)
        visited = [a for a in mine if a["visit_id"]]
        codes = [sorted({c for item in evidence.visit_flags(a["visit_id"], session=session) for c in item["codes"]})
                 for a in visited]
        states = sorted(verification.get_visit(a["visit_id"], actor=budi, session=session)["status"] for a in visited)
        results = sorted(verification.get_visit(a["visit_id"], actor=budi, session=session)["hasil"] for a in visited)
    assert len(mine) > len(visited) == 6
    assert sum("gps_missing" in c for c in codes) == 1
    assert sum("dup_exact" in c for c in codes) == 1
    assert states == ["draft"] + ["selesai"] * 5
    assert results.count("tidak_ditemukan") == 1
