"""The musyawarah record (core.meetings) on SQLite and PostgreSQL.

Covers opening a meeting per period (and follow-ups), the "not held this period" statement, per-field
compare-and-set storage (a second user editing on top of a stale value is refused, never written over), time
normalisation, attendance and the default quorum rule, closing (Lurah only, no undecided items, quorum or an
explicit and audited confirmation), what closing freezes and which corrections stay possible (audited with a
diff), and two writers working on one musyawarah at the same time from two threads.
"""

from __future__ import annotations

import json
import threading
from datetime import date

import pytest
import sqlalchemy as sa
from sqlmodel import select

from core import db, meetings, proposals
from core.demo_register import nik_for
from core.errors import AccessDenied, InvalidInput, StaleEdit
from core.models import Attendee, AuditEntry, Musyawarah

KEL = "31.75.01.1003"  # Kayu Manis


pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
def operator(engine, make_account):
    return make_account(engine, "operator.km", "operator", KEL)


@pytest.fixture
def lurah(engine, make_account):
    return make_account(engine, "lurah.km", "lurah", KEL)


def create(engine, actor, periode: str = "2026-11", **kwargs) -> dict:
    with db.session_scope(engine) as session:
        return meetings.create_meeting(KEL, periode, actor=actor, session=session, **kwargs)


def set_field(engine, actor, mid: int, fieldname: str, old, new) -> dict:
    with db.session_scope(engine) as session:
        return meetings.update_meeting_field(mid, fieldname, old, new, actor=actor, session=session)


def stored(engine, mid: int) -> Musyawarah:
    with db.session_scope(engine) as session:
        return session.get(Musyawarah, mid)


def add(engine, actor, mid: int, nama: str, unsur: str = "", **values) -> dict:
    with db.session_scope(engine) as session:
        return meetings.add_attendee(mid, {"nama": nama, "unsur": unsur, **values}, actor=actor, session=session)


def quorum(engine, actor, mid: int) -> meetings.Quorum:
    with db.session_scope(engine) as session:
        return meetings.quorum(mid, actor=actor, session=session)


def fill_required(engine, actor, mid: int) -> None:
    """The fields close_meeting insists on (tempat is prefilled on creation)."""
    for fieldname, value in (("tanggal", date(2026, 11, 12)), ("jam_mulai", "09.00"), ("ketua", "Hendra Gunawan"),
                             ("notulis", "Sari Wulandari")):
        set_field(engine, actor, mid, fieldname, getattr(stored(engine, mid), fieldname), value)


def add_quorum(engine, actor, mid: int) -> None:
    add(engine, actor, mid, "Hendra Gunawan", "Lurah")
    add(engine, actor, mid, "Ketua RW 01", "Ketua RW")
    add(engine, actor, mid, "H. Abdul Rahman", "LMK")


def new_family_item(engine, actor, mid: int, serial: int = 1) -> dict:
    """An agenda item for a family not in the register (no import needed)."""
    born = date(1980, 5, 17)
    kk = f"317501{born:%d%m}{born.year % 100:02d}{9000 + serial:04d}"
    members = [{"nik": nik_for("317501", born, False, 100 + serial), "nama": f"Kepala {serial}",
                "hubungan": "KEPALA KELUARGA", "jenis_kelamin": "L", "tanggal_lahir": born},
               {"nik": nik_for("317501", date(1984, 2, 3), True, 200 + serial), "nama": f"Istri {serial}",
                "hubungan": "ISTRI", "jenis_kelamin": "P", "tanggal_lahir": date(1984, 2, 3)}]
    with db.session_scope(engine) as session:
        return proposals.add_new_family(mid, no_kk=kk, alamat="Jl. Kayu Manis No. 1", rt="1", rw="2",
                                        members=members, programs=["PKH"], actor=actor, session=session)


def decide(engine, actor, item_id: int, keputusan: str, seen: str = "") -> dict:
    with db.session_scope(engine) as session:
        return proposals.set_decision(item_id, keputusan, "", seen=seen, actor=actor, session=session)


def close(engine, actor, mid: int, confirm: bool = False) -> dict:
    with db.session_scope(engine) as session:
        return meetings.close_meeting(mid, confirm_without_quorum=confirm, actor=actor, session=session)


def audit_entries(engine, action: str) -> list[AuditEntry]:
    with db.session_scope(engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


def closed_meeting(engine, operator, lurah) -> tuple[int, dict]:
    """A meeting with quorum and one decided item, closed by the Lurah."""
    mid = create(engine, operator)["id"]
    fill_required(engine, operator, mid)
    add_quorum(engine, operator, mid)
    item = new_family_item(engine, operator, mid)
    decide(engine, operator, item["id"], "disepakati")
    close(engine, lurah, mid)
    return mid, item


# --- creating ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("periode", ["2026-13", "2026-00", "26-11", "2026/11", "2026-1", ""])
def test_invalid_period_refused(engine, operator, periode):
    """Guards against meetings stored under a period that is not a calendar month (YYYY-MM)."""
    with pytest.raises(InvalidInput) as exc:
        create(engine, operator, periode)
    assert exc.value.code == "period_invalid"
    assert count(engine, "musyawarah") == 0


def test_second_open_meeting_in_period_refused(engine, operator):
    """Guards against two draft meetings for one period splitting the record."""
    first = create(engine, operator)
    assert first["status"] == "draft" and first["periode"] == "2026-11" and first["follow_up_of"] is None
    with pytest.raises(InvalidInput) as exc:
        create(engine, operator)
    assert exc.value.code == "meeting_open_exists"
    assert count(engine, "musyawarah") == 1
    assert create(engine, operator, "2026-12")["periode"] == "2026-12"  # another period is independent


def test_follow_up_after_closing_points_to_closed_meeting(engine, operator, lurah):
    """Guards against a second meeting in a period losing its link to the closed one (the Berita Acara says so)."""
    mid, _ = closed_meeting(engine, operator, lurah)
    follow = create(engine, operator)
    assert follow["follow_up_of"] == mid
    assert follow["status"] == "draft" and follow["id"] != mid


# --- not held ------------------------------------------------------------------------------------------------


def test_not_held_only_lurah(engine, operator, lurah):
    """Guards against an operator declaring on the Lurah's behalf that no musyawarah was held."""
    with pytest.raises(AccessDenied):
        with db.session_scope(engine) as session:
            meetings.record_not_held(KEL, "2026-10", "Tidak ada usulan dari RW bulan ini", actor=operator,
                                     session=session)
    assert count(engine, "musyawarah") == 0
    with db.session_scope(engine) as session:
        rec = meetings.record_not_held(KEL, "2026-10", "Tidak ada usulan dari RW bulan ini", actor=lurah,
                                       session=session)
    assert rec["kind"] == "not_held" and rec["status"] == "closed"
    assert rec["not_held_reason"] == "Tidak ada usulan dari RW bulan ini"
    assert len(audit_entries(engine, "meeting.not_held")) == 1
    with pytest.raises(InvalidInput) as exc:  # and no meeting can be opened for that period afterwards
        create(engine, operator, "2026-10")
    assert exc.value.code == "period_not_held"


@pytest.mark.parametrize("reason", ["", "   ", "singkat"])
def test_not_held_requires_reason(engine, lurah, reason):
    """Guards against a 'not held' statement (and its SPTJM) without a stated reason."""
    with pytest.raises(InvalidInput) as exc:
        with db.session_scope(engine) as session:
            meetings.record_not_held(KEL, "2026-10", reason, actor=lurah, session=session)
    assert exc.value.code == "reason_missing"
    assert count(engine, "musyawarah") == 0


def test_not_held_refused_when_period_has_meeting(engine, operator, lurah):
    """Guards against a period being both held and not held."""
    create(engine, operator, "2026-10")
    with pytest.raises(InvalidInput) as exc:
        with db.session_scope(engine) as session:
            meetings.record_not_held(KEL, "2026-10", "Tidak ada usulan dari RW bulan ini", actor=lurah,
                                     session=session)
    assert exc.value.code == "period_has_meeting"
    assert count(engine, "musyawarah") == 1


# --- per-field compare-and-set ---------------------------------------------------------------------------------


def test_field_edit_on_stale_value_refused(engine, operator, make_account):
    """Guards against a second operator silently overwriting a field someone else just stored."""
    other = make_account(engine, "operator2.km", "operator", KEL)
    mid = create(engine, operator)["id"]
    # both users loaded the page while notulis was empty
    set_field(engine, operator, mid, "notulis", "", "Sari Wulandari")
    with pytest.raises(StaleEdit):
        set_field(engine, other, mid, "notulis", "", "Budi Santoso")
    assert stored(engine, mid).notulis == "Sari Wulandari"
    # the second user, having seen the new value, can change it
    set_field(engine, other, mid, "notulis", "Sari Wulandari", "Budi Santoso")
    assert stored(engine, mid).notulis == "Budi Santoso"
    updates = audit_entries(engine, "meeting.updated")
    assert [json.loads(e.after) for e in updates] == [{"notulis": "Sari Wulandari"}, {"notulis": "Budi Santoso"}]


def test_time_stored_with_colon(engine, operator):
    """Guards against '09.00' (how Indonesians write times) being stored as typed instead of HH:MM."""
    mid = create(engine, operator)["id"]
    set_field(engine, operator, mid, "jam_mulai", "", "09.00")
    assert stored(engine, mid).jam_mulai == "09:00"
    set_field(engine, operator, mid, "jam_selesai", "", "12:30")
    assert stored(engine, mid).jam_selesai == "12:30"


@pytest.mark.parametrize("value", ["25.00", "9", "09.60", "jam 9"])
def test_invalid_time_refused(engine, operator, value):
    """Guards against impossible times such as 25.00 being stored."""
    mid = create(engine, operator)["id"]
    with pytest.raises(InvalidInput) as exc:
        set_field(engine, operator, mid, "jam_mulai", "", value)
    assert exc.value.code == "time_invalid" and exc.value.field == "jam_mulai"
    assert stored(engine, mid).jam_mulai == ""


# --- attendance and quorum -------------------------------------------------------------------------------------


@pytest.mark.parametrize("nama", ["", "   ", None])
def test_attendee_without_name_refused(engine, operator, nama):
    """Guards against nameless attendees in the attendance list (nothing may be stored)."""
    mid = create(engine, operator)["id"]
    with pytest.raises(InvalidInput) as exc:
        with db.session_scope(engine) as session:
            meetings.add_attendee(mid, {"nama": nama, "unsur": "Ketua RW"}, actor=operator, session=session)
    assert exc.value.code == "attendee_name_missing" and exc.value.field == "nama"
    assert count(engine, "attendee") == 0
    assert audit_entries(engine, "meeting.attendee_added") == []


def test_attendee_added_and_counted_by_unsur(engine, operator):
    """Guards against an attendee's fields or the counts by unsur going missing."""
    mid = create(engine, operator)["id"]
    person = add(engine, operator, mid, "  Ibu Nurhayati ", "TP PKK", jabatan="Ketua TP PKK", telepon="0812-1111",
                 jenis_kelamin="P", alamat="RT 001/RW 002")
    assert person["nama"] == "Ibu Nurhayati" and person["jenis_kelamin"] == "P" and not person["is_chair"]
    add(engine, operator, mid, "Budi", "PSM")
    add(engine, operator, mid, "Rini", "PSM")
    q = quorum(engine, operator, mid)
    assert q.by_unsur == {"PSM": 2, "TP PKK": 1}


def test_quorum_default_met(engine, operator):
    """Guards the default rule: chair + at least one Ketua RW + at least one LMK is a quorum."""
    mid = create(engine, operator)["id"]
    add_quorum(engine, operator, mid)
    q = quorum(engine, operator, mid)
    assert q.met and q.chair_present and q.rw == 1 and q.lmk == 1
    assert q.explain().startswith("Kuorum terpenuhi")
    assert "perwakilan RW 1/1" in q.explain() and "LMK 1/1" in q.explain()


def test_quorum_not_met_without_rw(engine, operator):
    """Guards against quorum shown as met when no RW representative signed in, and a vague explanation."""
    mid = create(engine, operator)["id"]
    add(engine, operator, mid, "Hendra Gunawan", "Lurah")
    add(engine, operator, mid, "H. Abdul Rahman", "LMK")
    add(engine, operator, mid, "Ketua RT 01", "Ketua RT")
    q = quorum(engine, operator, mid)
    assert not q.met and q.chair_present and q.rw == 0 and q.lmk == 1
    text = q.explain()
    assert text.startswith("Kuorum BELUM terpenuhi") and "perwakilan RW 0/1" in text and "LMK 1/1" in text


def test_quorum_not_met_without_chair(engine, operator):
    """Guards against quorum shown as met while the chair (Lurah) is not recorded present."""
    mid = create(engine, operator)["id"]
    add(engine, operator, mid, "Ketua RW 01", "Ketua RW")
    add(engine, operator, mid, "H. Abdul Rahman", "LMK")
    q = quorum(engine, operator, mid)
    assert not q.met and not q.chair_present
    assert "belum tercatat hadir" in q.explain()


def test_quorum_not_met_without_lmk(engine, operator):
    """Guards against quorum shown as met without any LMK member."""
    mid = create(engine, operator)["id"]
    add(engine, operator, mid, "Hendra Gunawan", "Lurah")
    add(engine, operator, mid, "Ketua RW 01", "Ketua RW")
    q = quorum(engine, operator, mid)
    assert not q.met and "LMK 0/1" in q.explain()


# --- closing -------------------------------------------------------------------------------------------------


def test_close_only_lurah(engine, operator, lurah):
    """Guards against an operator closing (freezing) the meeting instead of the Lurah."""
    mid = create(engine, operator)["id"]
    fill_required(engine, operator, mid)
    add_quorum(engine, operator, mid)
    with pytest.raises(AccessDenied):
        close(engine, operator, mid)
    assert stored(engine, mid).status == "draft"
    closed = close(engine, lurah, mid)
    assert closed["status"] == "closed" and closed["closed_by"] == "lurah.km" and not closed["closed_without_quorum"]


def test_close_refused_with_undecided_items(engine, operator, lurah):
    """Guards against closing a meeting while an item still has no decision."""
    mid = create(engine, operator)["id"]
    fill_required(engine, operator, mid)
    add_quorum(engine, operator, mid)
    first = new_family_item(engine, operator, mid, 1)
    new_family_item(engine, operator, mid, 2)
    decide(engine, operator, first["id"], "disepakati")
    with pytest.raises(InvalidInput) as exc:
        close(engine, lurah, mid)
    assert exc.value.code == "undecided_items"
    assert "1 usulan" in exc.value.message
    assert stored(engine, mid).status == "draft"
    assert audit_entries(engine, "meeting.closed") == []


def test_close_without_quorum_needs_confirmation(engine, operator, lurah):
    """Guards against a meeting closed without quorum unnoticed: refused, then allowed only when confirmed and
    recorded."""
    mid = create(engine, operator)["id"]
    fill_required(engine, operator, mid)
    add(engine, operator, mid, "Hendra Gunawan", "Lurah")
    with pytest.raises(InvalidInput) as exc:
        close(engine, lurah, mid)
    assert exc.value.code == "quorum_not_met" and "perwakilan RW 0/1" in exc.value.message
    assert stored(engine, mid).status == "draft"
    closed = close(engine, lurah, mid, confirm=True)
    assert closed["status"] == "closed" and closed["closed_without_quorum"] is True
    entries = audit_entries(engine, "meeting.closed")
    assert len(entries) == 1
    after = json.loads(entries[0].after)
    assert after["tanpa_kuorum_dikonfirmasi"] is True and after["kuorum"] is False and after["peserta"] == 1
    assert entries[0].actor_username == "lurah.km"


def test_close_with_quorum_records_not_confirmed(engine, operator, lurah):
    """Guards against a meeting with quorum being recorded as closed without quorum."""
    mid = create(engine, operator)["id"]
    fill_required(engine, operator, mid)
    add_quorum(engine, operator, mid)
    closed = close(engine, lurah, mid, confirm=True)
    assert closed["closed_without_quorum"] is False
    after = json.loads(audit_entries(engine, "meeting.closed")[0].after)
    assert after["tanpa_kuorum_dikonfirmasi"] is False and after["kuorum"] is True


# --- after closing -------------------------------------------------------------------------------------------


def test_closed_meeting_freezes_attendance_and_decisions(engine, operator, lurah):
    """Guards against attendance, decisions or new items changing after the meeting was closed."""
    from core.models import Proposal

    mid, item = closed_meeting(engine, operator, lurah)
    attendees_before = count(engine, "attendee")
    with pytest.raises(InvalidInput) as exc:
        add(engine, operator, mid, "Terlambat", "Ketua RT")
    assert exc.value.code == "meeting_closed"
    with pytest.raises(InvalidInput) as exc:
        decide(engine, operator, item["id"], "ditunda", seen="disepakati")
    assert exc.value.code == "meeting_closed"
    with pytest.raises(InvalidInput) as exc:
        with db.session_scope(engine) as session:
            proposals.add_from_register(mid, 1, jenis="baru", actor=operator, session=session)
    assert exc.value.code == "meeting_closed"
    assert count(engine, "attendee") == attendees_before
    assert count(engine, "proposal") == 1
    with db.session_scope(engine) as session:
        assert session.get(Proposal, item["id"]).keputusan == "disepakati"


def test_closed_meeting_notulen_correction_audited(engine, operator, lurah):
    """Guards against corrections of the minutes after closing going unaudited or being refused."""
    mid, _ = closed_meeting(engine, operator, lurah)
    set_field(engine, operator, mid, "notulen", "", "Rapat dibuka pukul 09.00 oleh Lurah.")
    assert stored(engine, mid).notulen == "Rapat dibuka pukul 09.00 oleh Lurah."
    entries = audit_entries(engine, "meeting.corrected")
    assert len(entries) == 1
    assert json.loads(entries[0].before) == {"notulen": ""}
    assert json.loads(entries[0].after) == {"notulen": "Rapat dibuka pukul 09.00 oleh Lurah."}


def test_closed_meeting_date_refused(engine, operator, lurah):
    """Guards against the meeting's date changing after it was closed."""
    mid, _ = closed_meeting(engine, operator, lurah)
    with pytest.raises(InvalidInput) as exc:
        set_field(engine, operator, mid, "tanggal", date(2026, 11, 12), date(2026, 11, 13))
    assert exc.value.code == "meeting_closed"
    assert stored(engine, mid).tanggal == date(2026, 11, 12)
    assert audit_entries(engine, "meeting.corrected") == []


def test_correct_member_after_close_audited_with_diff(engine, operator, lurah):
    """Guards against a misspelt name corrected after closing without an audit diff."""
    mid, item = closed_meeting(engine, operator, lurah)
    member = item["anggota"][0]
    with db.session_scope(engine) as session:
        result = proposals.correct_member(member["id"], {"nama": "KEPALA SATU"}, actor=operator, session=session)
    assert result["nama"] == "KEPALA SATU"
    entries = audit_entries(engine, "proposal.corrected")
    assert len(entries) == 1
    assert entries[0].object_id == item["uuid"]
    assert json.loads(entries[0].before) == {"nama": member["nama"]}
    assert json.loads(entries[0].after) == {"nama": "KEPALA SATU"}


# --- two writers ---------------------------------------------------------------------------------------------


def test_two_threads_adding_attendees_lose_nothing(engine, operator, make_account):
    """Guards against attendees lost when two operators enter the attendance list at the same time."""
    other = make_account(engine, "operator2.km", "operator", KEL)
    mid = create(engine, operator)["id"]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(actor, prefix: str) -> None:
        try:
            start.wait(timeout=10)
            for i in range(20):
                with db.session_scope(engine) as session:
                    meetings.add_attendee(mid, {"nama": f"{prefix} {i:02d}", "unsur": "Ketua RT"}, actor=actor,
                                          session=session)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(operator, "A")),
               threading.Thread(target=writer, args=(other, "B"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with db.session_scope(engine) as session:
        names = session.exec(select(Attendee.nama).where(Attendee.musyawarah_id == mid)).all()
    assert len(names) == 40
    assert sorted(names) == sorted([f"A {i:02d}" for i in range(20)] + [f"B {i:02d}" for i in range(20)])
    assert len(audit_entries(engine, "meeting.attendee_added")) == 40


def test_two_threads_deciding_same_item_one_refused(engine, operator, make_account, monkeypatch, request):
    """Guards against a lost update: two operators deciding the same item from 'undecided' — exactly one wins,
    the other gets a StaleEdit and the stored decision is the winner's."""
    other = make_account(engine, "operator2.km", "operator", KEL)
    mid = create(engine, operator)["id"]
    item = new_family_item(engine, operator, mid)
    # Make both threads read the item before either writes (where the database lets them: SQLite's
    # BEGIN IMMEDIATE serialises the transactions, so there the wait simply times out).
    both_read = threading.Barrier(2)
    original = proposals._editable

    def editable_then_wait(*args, **kwargs):
        result = original(*args, **kwargs)
        try:
            both_read.wait(timeout=1.5)
        except threading.BrokenBarrierError:
            pass
        return result

    monkeypatch.setattr(proposals, "_editable", editable_then_wait)
    outcomes: dict[str, object] = {}

    def writer(actor, keputusan: str) -> None:
        try:
            with db.session_scope(engine) as session:
                proposals.set_decision(item["id"], keputusan, "", seen="", actor=actor, session=session)
            outcomes[keputusan] = "ok"
        except BaseException as exc:  # noqa: BLE001 - inspected below
            outcomes[keputusan] = exc

    threads = [threading.Thread(target=writer, args=(operator, "disepakati")),
               threading.Thread(target=writer, args=(other, "ditunda"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    winners = [k for k, v in outcomes.items() if v == "ok"]
    losers = [v for v in outcomes.values() if v != "ok"]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1 and isinstance(losers[0], StaleEdit), outcomes
    from core.models import Proposal

    with db.session_scope(engine) as session:
        assert session.get(Proposal, item["id"]).keputusan == winners[0]
    assert len(audit_entries(engine, "proposal.decided")) == 1


def test_two_threads_editing_same_field_one_refused(engine, operator, make_account, monkeypatch, request):
    """Guards against a lost update of a meeting field: two operators storing 'notulis' on top of the same empty
    value at the same moment — exactly one is stored, the other gets a StaleEdit."""
    other = make_account(engine, "operator2.km", "operator", KEL)
    mid = create(engine, operator)["id"]
    both_read = threading.Barrier(2)
    original = meetings.get_meeting

    def get_then_wait(*args, **kwargs):
        result = original(*args, **kwargs)
        try:
            both_read.wait(timeout=1.5)
        except threading.BrokenBarrierError:
            pass
        return result

    monkeypatch.setattr(meetings, "get_meeting", get_then_wait)
    outcomes: dict[str, object] = {}

    def writer(actor, value: str) -> None:
        try:
            with db.session_scope(engine) as session:
                meetings.update_meeting_field(mid, "notulis", "", value, actor=actor, session=session)
            outcomes[value] = "ok"
        except BaseException as exc:  # noqa: BLE001 - inspected below
            outcomes[value] = exc

    threads = [threading.Thread(target=writer, args=(operator, "Sari Wulandari")),
               threading.Thread(target=writer, args=(other, "Budi Santoso"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    winners = [k for k, v in outcomes.items() if v == "ok"]
    losers = [v for v in outcomes.values() if v != "ok"]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1 and isinstance(losers[0], StaleEdit), outcomes
    assert stored(engine, mid).notulis == winners[0]
    assert len(audit_entries(engine, "meeting.updated")) == 1
