"""The road of a batch (core.workflow, core.batch_views) on SQLite and PostgreSQL.

The transition table is written out here by hand (not read from ``workflow.TRANSITIONS``) and checked for every
state × action × role: allowed moves land where the table says, everything else is refused and changes nothing
(state, version, events, audit). Then: what blocks ``ajukan`` and the late flag; item returns at the camat and
walikota levels and their way into the next period's pre-list; the freeze of a submitted batch and ``tarik``;
revisions (retired documents, successors, snapshots and the diff); two users acting at once; wilayah scope; the
reviewers' queue counted independently with plain SQL; and the inbox.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date

import pytest
import sqlalchemy as sa

from core import audit, batch_views, db, documents, flags, meetings, proposals, workflow
from core.access import Actor, Role
from core.demo_register import nik_for
from core.errors import AccessDenied, InvalidInput, MuskelError, StaleEdit
from core.models import Flag
from core.timefmt import WIB, utcnow

KEL = "31.75.01.1003"  # Kayu Manis
KEL_OTHER = "31.75.01.1004"  # Palmeriam, same kecamatan
KEC = "31.75.01"  # Matraman
KEC_OTHER = "31.75.02"  # Pulogadung
KOTA = "31.75"  # Jakarta Timur
PDF_SCAN = b"%PDF-1.4 pindaian bertanda tangan\n%%EOF\n"
WAIVER = "Keluarga dikenal baik oleh Ketua RT/RW setempat"
REASON = "Data belum lengkap, mohon dilengkapi"
DOC_TYPES = ("berita_acara", "sptjm", "bast_kelurahan")

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def _month(offset: int) -> str:
    today = utcnow().astimezone(WIB).date()
    n = today.year * 12 + today.month - 1 + offset
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


PERIODE = _month(1)  # next month: never after the default cut-off (the 25th of that month)
NEXT_PERIODE = _month(2)

# ---------------------------------------------------------------- the table, written out independently

STATE_NAMES = {"draft", "diajukan", "diteruskan", "dikembalikan", "disahkan", "ditolak"}
ACTION_NAMES = {"ajukan", "tarik", "teruskan", "kembalikan", "revisi", "sahkan", "kembalikan_ke_camat", "tolak"}
ROLE_NAMES = ("operator", "lurah", "camat", "walikota", "dinsos", "auditor", "petugas", "admin")
# (state, action) -> (target state, roles allowed)
EXPECTED = {
    ("draft", "ajukan"): ("diajukan", {"lurah"}),
    ("diajukan", "tarik"): ("draft", {"lurah"}),
    ("diajukan", "teruskan"): ("diteruskan", {"camat"}),
    ("diajukan", "kembalikan"): ("dikembalikan", {"camat"}),
    ("dikembalikan", "revisi"): ("draft", {"lurah", "operator"}),
    ("diteruskan", "sahkan"): ("disahkan", {"walikota"}),
    ("diteruskan", "kembalikan_ke_camat"): ("diajukan", {"walikota"}),
    ("diteruskan", "tolak"): ("ditolak", {"walikota"}),
}
ALLOWED = sorted((s, a, r) for (s, a), (_, roles) in EXPECTED.items() for r in roles)
# How each state is reached for real from a batch ready to submit.
PATHS = {
    "draft": [],
    "diajukan": [("ajukan", "lurah")],
    "diteruskan": [("ajukan", "lurah"), ("teruskan", "camat")],
    "dikembalikan": [("ajukan", "lurah"), ("kembalikan", "camat")],
    "disahkan": [("ajukan", "lurah"), ("teruskan", "camat"), ("sahkan", "walikota")],
    "ditolak": [("ajukan", "lurah"), ("teruskan", "camat"), ("tolak", "walikota")],
}
ROLE_ACTORS = {
    "operator": Actor("operator.kayumanis", "Operator Kayu Manis", Role.OPERATOR, KEL),
    "lurah": Actor("lurah.kayumanis", "Lurah Kayu Manis", Role.LURAH, KEL),
    "petugas": Actor("petugas.kayumanis", "Petugas Kayu Manis", Role.PETUGAS, KEL),
    "camat": Actor("camat.matraman", "Camat Matraman", Role.CAMAT, KEC),
    "walikota": Actor("walikota.jaktim", "Walikota Jakarta Timur", Role.WALIKOTA, KOTA),
    "dinsos": Actor("dinsos.jaktim", "Dinsos Jakarta Timur", Role.DINSOS, KOTA),
    "auditor": Actor("auditor.jaktim", "Auditor Jakarta Timur", Role.AUDITOR, KOTA),
    "admin": Actor("admin.dki", "Admin DKI", Role.ADMIN, "31"),
}


def expected_refusal(state: str, action: str, role: str) -> type[MuskelError]:
    """Which error a refused move raises: the admin never sees a batch (no family data); a move missing from the
    table is a TransitionRefused; a move in the table by the wrong role is an AccessDenied."""
    if role == "admin":
        return AccessDenied
    if (state, action) not in EXPECTED:
        return workflow.TransitionRefused
    return AccessDenied


# ---------------------------------------------------------------- accounts and a batch ready to submit

@dataclass
class People:
    operator: Actor
    lurah: Actor
    camat: Actor
    walikota: Actor
    camat_other: Actor
    lurah_other: Actor

    def by_role(self, role: str) -> Actor:
        return getattr(self, role)


@pytest.fixture
def people(engine, make_account) -> People:
    return People(operator=make_account(engine, "operator.kayumanis", "operator", KEL),
                  lurah=make_account(engine, "lurah.kayumanis", "lurah", KEL),
                  camat=make_account(engine, "camat.matraman", "camat", KEC),
                  walikota=make_account(engine, "walikota.jaktim", "walikota", KOTA),
                  camat_other=make_account(engine, "camat.pulogadung", "camat", KEC_OTHER),
                  lurah_other=make_account(engine, "lurah.palmeriam", "lurah", KEL_OTHER))


MEMBERS_PER_ITEM = (2, 3, 1, 2)  # the four agreed families; a fifth (2 members) is deferred


@dataclass
class Ready:
    engine: sa.Engine
    meeting_id: int
    batch_id: int
    items: list[int]  # the agreed items, in agenda order
    deferred: int
    docs: dict[str, int] = field(default_factory=dict)


def add_family(engine, actor, mid: int, serial: int, n_members: int) -> dict:
    """A family not in the register with ``n_members`` members (unique KK and NIKs per serial)."""
    born = date(1980, 5, 17)
    kk = f"317501{born:%d%m}{born.year % 100:02d}{9000 + serial:04d}"
    relations = ["KEPALA KELUARGA", "ISTRI", "ANAK"]
    members = [{"nik": nik_for("317501", date(1980 + j, 5, 17), j == 1, 100 * serial + j),
                "nama": f"Warga {serial}-{j}",
                "hubungan": relations[j], "jenis_kelamin": "P" if j == 1 else "L",
                "tanggal_lahir": date(1980 + j, 5, 17)} for j in range(n_members)]
    with db.session_scope(engine) as s:
        return proposals.add_new_family(mid, no_kk=kk, alamat=f"Jl. Kayu Manis No. {serial}", rt="1", rw="2",
                                        members=members, programs=["PKH"], actor=actor, session=s)


def closed_meeting(engine, p: People, periode: str = PERIODE, serial_base: int = 0) -> tuple[int, list[int], int]:
    """A closed musyawarah: four agreed families and one deferred. Returns (meeting id, agreed ids, deferred)."""
    with db.session_scope(engine) as s:
        mid = meetings.create_meeting(KEL, periode, actor=p.operator, session=s)["id"]
    with db.session_scope(engine) as s:
        for fieldname, value in (("tanggal", date(int(periode[:4]), int(periode[5:]), 3)), ("jam_mulai", "09.00"),
                                 ("ketua", "Hendra Gunawan"), ("notulis", "Sari Wulandari")):
            current = getattr(s.get(meetings.Musyawarah, mid), fieldname)
            meetings.update_meeting_field(mid, fieldname, current, value, actor=p.operator, session=s)
        for nama, unsur in (("Hendra Gunawan", "Lurah"), ("Agus Salim", "Ketua RW"), ("H. Abdul Rahman", "LMK")):
            meetings.add_attendee(mid, {"nama": nama, "unsur": unsur}, actor=p.operator, session=s)
    agreed = [add_family(engine, p.operator, mid, serial_base + i + 1, n)["id"]
              for i, n in enumerate(MEMBERS_PER_ITEM)]
    deferred = add_family(engine, p.operator, mid, serial_base + 9, 2)["id"]
    with db.session_scope(engine) as s:
        for item in agreed:
            proposals.set_decision(item, "disepakati", "", seen="", actor=p.operator, session=s)
        proposals.set_decision(deferred, "ditunda", "Menunggu surat keterangan RT", seen="", actor=p.operator,
                               session=s)
    with db.session_scope(engine) as s:
        meetings.close_meeting(mid, confirm_without_quorum=False, actor=p.lurah, session=s)
    return mid, agreed, deferred


def waive_all(engine, lurah: Actor, item_ids: list[int], reason: str = WAIVER) -> None:
    with db.session_scope(engine) as s:
        for item in item_ids:
            workflow.waive_verification(item, reason, actor=lurah, session=s)


def finalise(engine, lurah: Actor, mid: int, doc_type: str, *, scan: bool = True) -> int:
    with db.session_scope(engine) as s:
        doc = documents.finalise(doc_type, {"meeting_id": mid}, actor=lurah, session=s)
    if scan:
        with db.session_scope(engine) as s:
            documents.upload_scan(doc["id"], PDF_SCAN + doc_type.encode(), f"{doc_type}.pdf", actor=lurah, session=s)
    return doc["id"]


def finalise_all(engine, lurah: Actor, mid: int) -> dict[str, int]:
    return {t: finalise(engine, lurah, mid, t) for t in DOC_TYPES}


def batch_id(engine, lurah: Actor, mid: int) -> int:
    with db.session_scope(engine) as s:
        return workflow.batch_id_for_meeting(mid, actor=lurah, session=s)


def build_ready(engine, p: People, periode: str = PERIODE, serial_base: int = 0) -> Ready:
    mid, agreed, deferred = closed_meeting(engine, p, periode, serial_base)
    waive_all(engine, p.lurah, agreed)
    docs = finalise_all(engine, p.lurah, mid)
    return Ready(engine, mid, batch_id(engine, p.lurah, mid), agreed, deferred, docs)


@pytest.fixture
def ready(engine, people) -> Ready:
    """A batch ready to submit: closed musyawarah, verifications waived, BA/SPTJM/BAST final with scans."""
    return build_ready(engine, people)


def act(engine, actor: Actor, bid: int, action: str, **kwargs) -> dict:
    with db.session_scope(engine) as s:
        return workflow.act(bid, action, actor=actor, session=s, **kwargs)


def walk(engine, p: People, bid: int, path: list[tuple[str, str]]) -> None:
    for action, role in path:
        act(engine, p.by_role(role), bid, action, reason=REASON)


def batch_row(engine, bid: int) -> dict:
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT state, version, revision, late FROM batch WHERE id = :b"),
                           {"b": bid}).one()
        events = conn.execute(sa.text("SELECT COUNT(*) FROM batchevent WHERE batch_id = :b"), {"b": bid}).scalar_one()
        entries = conn.execute(sa.text("SELECT COUNT(*) FROM auditentry WHERE action LIKE 'batch.%'")).scalar_one()
    return {"state": row[0], "version": row[1], "revision": row[2], "late": bool(row[3]), "events": events,
            "batch_audit": entries}


def item_rows(engine, ids: list[int]) -> dict[int, tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, status, status_level, status_reason FROM proposal "
                                    "WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
                            {"ids": ids}).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def doc_rows(engine, mid: int) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "SELECT id, doc_type, status, superseded_by_id, nomor, supersede_reason FROM document "
            "WHERE musyawarah_id = :m ORDER BY id"), {"m": mid})]


def set_state(engine, bid: int, state: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE batch SET state = :s WHERE id = :b"), {"s": state, "b": bid})


def chain_ok(engine) -> audit.ChainReport:
    with db.session_scope(engine) as s:
        return audit.verify_chain(s)


# ================================================================ 1. the table

def test_table_matches_the_written_out_specification():
    """Guards against a move, a state or a role slipping into or out of the workflow unnoticed."""
    assert set(workflow.STATES) == STATE_NAMES
    assert set(workflow.ACTIONS) == ACTION_NAMES
    assert {r.value for r in Role} == set(ROLE_NAMES)
    actual = {key: (move.to, {r.value for r in move.roles}) for key, move in workflow.TRANSITIONS.items()}
    assert actual == EXPECTED


@pytest.mark.parametrize("state", sorted(STATE_NAMES))
def test_every_forbidden_move_is_refused_and_changes_nothing(engine, people, state):
    """Guards the whole table: every (action, role) not allowed in ``state`` — including an unknown action — is
    refused with the right error and leaves the state, version, events and audit log as they were."""
    mid, _, _ = closed_meeting(engine, people)
    bid = batch_id(engine, people.lurah, mid)
    set_state(engine, bid, state)
    before = batch_row(engine, bid)
    refused = 0
    for action in sorted(ACTION_NAMES) + ["hapus"]:
        for role in ROLE_NAMES:
            if (state, action, role) in ALLOWED:
                continue
            with pytest.raises(MuskelError) as exc:
                act(engine, ROLE_ACTORS[role], bid, action, reason=REASON)
            wanted = expected_refusal(state, action, role)
            assert type(exc.value) is wanted, (state, action, role, exc.value)
            assert exc.value.message, (state, action, role)
            assert batch_row(engine, bid) == before, (state, action, role)
            refused += 1
    allowed_here = sum(1 for s, _, _ in ALLOWED if s == state)
    assert refused == 9 * 8 - allowed_here


@pytest.mark.parametrize("state, action, role", ALLOWED)
def test_every_allowed_move_lands_where_the_table_says(engine, people, ready, state, action, role):
    """Guards each allowed move, reached for real: it lands in the table's target state with version + 1, one
    event naming the move and one audit entry; after a final move (sahkan, tolak) nothing at all is possible."""
    walk(engine, people, ready.batch_id, PATHS[state])
    before = batch_row(engine, ready.batch_id)
    assert before["state"] == state
    result = act(engine, people.by_role(role), ready.batch_id, action, reason=REASON)
    target = EXPECTED[(state, action)][0]
    after = batch_row(engine, ready.batch_id)
    assert result["state"] == after["state"] == target
    assert after["version"] == before["version"] + 1
    assert after["events"] == before["events"] + 1 and after["batch_audit"] == before["batch_audit"] + 1
    with db.session_scope(engine) as s:
        last = batch_views.events(ready.batch_id, s)[-1]
    assert (last["action"], last["from"], last["to"], last["peran"]) == (action, state, target, role)
    assert chain_ok(engine).ok
    if target in ("disahkan", "ditolak"):
        for other_action in sorted(ACTION_NAMES):
            for other_role in ROLE_NAMES:
                with pytest.raises(MuskelError):
                    act(engine, ROLE_ACTORS[other_role], ready.batch_id, other_action, reason=REASON)
        assert batch_row(engine, ready.batch_id) == after


def test_reason_required_for_returns_and_rejections(engine, people, ready):
    """Guards against a batch sent back or rejected without a reason the kelurahan can read."""
    act(engine, people.lurah, ready.batch_id, "ajukan")
    before = batch_row(engine, ready.batch_id)
    for reason in ("", "   ", "kura"):
        with pytest.raises(InvalidInput) as exc:
            act(engine, people.camat, ready.batch_id, "kembalikan", reason=reason)
        assert exc.value.code == "reason_missing"
    assert batch_row(engine, ready.batch_id) == before
    act(engine, people.camat, ready.batch_id, "teruskan")
    before = batch_row(engine, ready.batch_id)
    for action in ("tolak", "kembalikan_ke_camat"):
        with pytest.raises(InvalidInput) as exc:
            act(engine, people.walikota, ready.batch_id, action, reason="ok")
        assert exc.value.code == "reason_missing"
    assert batch_row(engine, ready.batch_id) == before


# ================================================================ 2. what blocks ajukan; the late flag

def blocker_codes(engine, lurah: Actor, bid: int) -> set[str]:
    with db.session_scope(engine) as s:
        return {b["code"] for b in workflow.blockers_for(bid, actor=lurah, session=s)}


def test_submission_blockers_named_then_lifted_one_by_one(engine, people):
    """Guards ``ajukan``'s preconditions: a missing BAST scan, unverified families and an open blocking flag each
    refuse the submission with a message naming them; once all are fixed it goes through."""
    mid, agreed, _ = closed_meeting(engine, people)
    finalise(engine, people.lurah, mid, "berita_acara")
    finalise(engine, people.lurah, mid, "sptjm")
    bast = finalise(engine, people.lurah, mid, "bast_kelurahan", scan=False)
    bid = batch_id(engine, people.lurah, mid)
    assert blocker_codes(engine, people.lurah, bid) == {"bast_kelurahan_scan_missing", "verification_missing"}
    before = batch_row(engine, bid)

    with pytest.raises(workflow.TransitionRefused) as exc:
        act(engine, people.lurah, bid, "ajukan")
    assert exc.value.code == "submission_blocked"
    assert "BAST" in exc.value.message and "belum diverifikasi" in exc.value.message
    assert "4 dari 4 keluarga" in exc.value.message

    with db.session_scope(engine) as s:
        documents.upload_scan(bast, PDF_SCAN, "bast.pdf", actor=people.lurah, session=s)
    with pytest.raises(workflow.TransitionRefused) as exc:
        act(engine, people.lurah, bid, "ajukan")
    assert "belum diverifikasi" in exc.value.message and "BAST" not in exc.value.message

    with pytest.raises(InvalidInput) as short:  # a waiver needs a real reason
        waive_all(engine, people.lurah, agreed[:1], reason="tidak ada")
    assert short.value.code == "reason_missing"
    waive_all(engine, people.lurah, agreed)
    with db.session_scope(engine) as s:
        flag = Flag(code="nik_in_two_kk", severity="blocking", kelurahan_kode=KEL, proposal_id=agreed[2],
                    message="NIK ini tercatat di dua KK.", source="proposal")
        s.add(flag)
        s.flush()
        flag_id = flag.id
    assert blocker_codes(engine, people.lurah, bid) == {"blocking_flags"}
    with pytest.raises(workflow.TransitionRefused) as exc:
        act(engine, people.lurah, bid, "ajukan")
    assert "temuan penghalang" in exc.value.message
    assert batch_row(engine, bid) == before

    with db.session_scope(engine) as s:
        flags.close_flag(flag_id, "Sudah dicek ke Dukcapil, KK lama tidak berlaku", actor=people.lurah, session=s)
    assert blocker_codes(engine, people.lurah, bid) == set()
    result = act(engine, people.lurah, bid, "ajukan")
    assert result["state"] == "diajukan" and result["late"] is False
    assert batch_row(engine, bid)["events"] == 1


def test_kota_rule_without_visits_needs_no_waiver(engine, people):
    """Guards the other way out of verification: a kota rule that sends no new family into the field."""
    from core import verification

    mid, _, _ = closed_meeting(engine, people)
    bid = batch_id(engine, people.lurah, mid)
    assert "verification_missing" in blocker_codes(engine, people.lurah, bid)
    with db.session_scope(engine) as s:
        verification.update_rule(KOTA, {"baru": False}, expected_version=0, actor=people.walikota, session=s)
    assert "verification_missing" not in blocker_codes(engine, people.lurah, bid)


def test_submission_after_the_kota_cutoff_is_late(engine, people):
    """Guards the late flag: a batch submitted after the kota's cut-off day of its period's month is late."""
    today = utcnow().astimezone(WIB).date()
    periode = _month(0) if today.day > 1 else _month(-1)
    day = max(1, min(today.day - 1, 28)) if today.day > 1 else 28
    with db.session_scope(engine) as s:
        workflow.set_cutoff_day(KOTA, day, expected_version=0, actor=people.walikota, session=s)
    with db.session_scope(engine) as s:
        assert workflow.cutoff_date(periode, KOTA, s) == date(int(periode[:4]), int(periode[5:]), day)
        assert workflow.cutoff_date(PERIODE, KOTA, s).day == day
    late = build_ready(engine, people, periode=periode, serial_base=20)
    assert act(engine, people.lurah, late.batch_id, "ajukan")["late"] is True
    assert batch_row(engine, late.batch_id)["late"] is True
    with db.session_scope(engine) as s:
        event = batch_views.events(late.batch_id, s)[-1]
    assert event["rincian"]["terlambat"] is True
    with pytest.raises(AccessDenied):  # only the kota's head sets it
        with db.session_scope(engine) as s:
            workflow.set_cutoff_day(KOTA, 20, expected_version=1, actor=people.camat, session=s)


# ================================================================ 3. item returns and the next pre-list

def test_item_returns_at_both_levels_reach_the_next_pre_list(engine, people, ready):
    """Guards per-item decisions: returned/rejected items keep level and reason, the rest move on, and the
    returned and rejected ones (not the ratified) wait with their reasons in the next period's pre-list."""
    a, b, c, d = ready.items
    bid = ready.batch_id
    act(engine, people.lurah, bid, "ajukan")
    before = batch_row(engine, bid)
    with pytest.raises(InvalidInput) as exc:
        act(engine, people.camat, bid, "teruskan", item_actions={a: ("kembalikan", "kur")})
    assert exc.value.code == "item_reason_missing"
    with pytest.raises(InvalidInput) as exc:
        act(engine, people.camat, bid, "teruskan", item_actions={i: ("kembalikan", REASON) for i in ready.items})
    assert exc.value.code == "all_items_returned"
    with pytest.raises(InvalidInput) as exc:
        act(engine, people.camat, bid, "teruskan", item_actions={a: ("tolak", REASON)})
    assert exc.value.code == "item_action_unknown"
    with pytest.raises(InvalidInput) as exc:
        act(engine, people.camat, bid, "teruskan", item_actions={ready.deferred: ("kembalikan", REASON)})
    assert exc.value.code == "item_not_in_batch"
    with pytest.raises(InvalidInput) as exc:
        act(engine, people.camat, bid, "kembalikan", reason=REASON, item_actions={a: ("kembalikan", REASON)})
    assert exc.value.code == "item_actions_not_allowed"
    assert batch_row(engine, bid) == before
    assert set(item_rows(engine, ready.items).values()) == {("diusulkan", "", "")}

    act(engine, people.camat, bid, "teruskan", item_actions={a: ("kembalikan", "Alamat tidak sesuai KTP")})
    rows = item_rows(engine, ready.items + [ready.deferred])
    assert rows[a] == ("dikembalikan", "camat", "Alamat tidak sesuai KTP")
    assert rows[b][0] == rows[c][0] == rows[d][0] == "diteruskan"
    assert rows[ready.deferred] == ("diusulkan", "", "")

    with pytest.raises(InvalidInput) as exc:  # the camat's return is decided: not the walikota's to touch
        act(engine, people.walikota, bid, "sahkan", item_actions={a: ("tolak", REASON)})
    assert exc.value.code == "item_not_in_batch"
    with pytest.raises(InvalidInput) as exc:
        act(engine, people.walikota, bid, "sahkan", item_actions={b: ("kembalikan", REASON), c: ("tolak", REASON),
                                                                   d: ("tolak", REASON)})
    assert exc.value.code == "all_items_returned"
    act(engine, people.walikota, bid, "sahkan",
        item_actions={b: ("kembalikan", "Penghasilan perlu dicek ulang"), c: ("tolak", "Sudah menerima bantuan")})
    rows = item_rows(engine, ready.items)
    assert rows[a] == ("dikembalikan", "camat", "Alamat tidak sesuai KTP")
    assert rows[b] == ("dikembalikan", "walikota", "Penghasilan perlu dicek ulang")
    assert rows[c] == ("ditolak", "walikota", "Sudah menerima bantuan")
    assert rows[d][0] == "disahkan"
    with db.session_scope(engine) as s:
        event = batch_views.events(bid, s)[-1]
    assert event["rincian"] == {"disahkan": 1, "dikembalikan": 1, "ditolak": 1}

    with db.session_scope(engine) as s:
        next_mid = meetings.create_meeting(KEL, NEXT_PERIODE, actor=people.operator, session=s)["id"]
    with db.session_scope(engine) as s:
        pre = proposals.carried_over(KEL, NEXT_PERIODE, actor=people.operator, session=s)
    listed = {p["id"]: (p["status"], p["status_reason"], p["periode"]) for p in pre}
    assert listed == {a: ("dikembalikan", "Alamat tidak sesuai KTP", PERIODE),
                      b: ("dikembalikan", "Penghasilan perlu dicek ulang", PERIODE),
                      c: ("ditolak", "Sudah menerima bantuan", PERIODE),
                      ready.deferred: ("diusulkan", "", PERIODE)}
    with db.session_scope(engine) as s:  # carried over once, it leaves the pre-list
        proposals.carry_over(next_mid, a, actor=people.operator, session=s)
    with db.session_scope(engine) as s:
        assert {p["id"] for p in proposals.carried_over(KEL, NEXT_PERIODE, actor=people.operator, session=s)} == \
            {b, c, ready.deferred}


def test_whole_batch_rejection_marks_every_forwarded_item(engine, people, ready):
    """Guards ``tolak``: every forwarded item is rejected at the walikota level with the batch's reason; an item
    the camat already returned keeps the camat's decision."""
    a = ready.items[0]
    act(engine, people.lurah, ready.batch_id, "ajukan")
    act(engine, people.camat, ready.batch_id, "teruskan", item_actions={a: ("kembalikan", "Alamat tidak sesuai")})
    act(engine, people.walikota, ready.batch_id, "tolak", reason="Musyawarah tidak memenuhi ketentuan")
    rows = item_rows(engine, ready.items)
    assert rows[a] == ("dikembalikan", "camat", "Alamat tidak sesuai")
    assert {rows[i] for i in ready.items[1:]} == {("ditolak", "walikota", "Musyawarah tidak memenuhi ketentuan")}


# ================================================================ 4. the freeze and tarik

def test_submitted_batch_freezes_kelurahan_documents_and_waivers(engine, people, ready):
    """Guards the freeze: after ``ajukan`` the kelurahan documents, their scans and the verification waivers
    cannot change (batch_frozen) — not even by re-issuing with a reason."""
    act(engine, people.lurah, ready.batch_id, "ajukan")
    docs_before = doc_rows(engine, ready.meeting_id)
    for doc_type in DOC_TYPES:
        with pytest.raises(InvalidInput) as exc:
            with db.session_scope(engine) as s:
                documents.finalise(doc_type, {"meeting_id": ready.meeting_id}, actor=people.lurah, session=s,
                                   replace_reason="Perbaikan salah ketik pada nama warga")
        assert exc.value.code == "batch_frozen", doc_type
        with pytest.raises(InvalidInput) as exc:
            with db.session_scope(engine) as s:
                documents.upload_scan(ready.docs[doc_type], PDF_SCAN + b"baru", "baru.pdf", actor=people.lurah,
                                      session=s)
        assert exc.value.code == "batch_frozen", doc_type
    with pytest.raises(InvalidInput) as exc:
        waive_all(engine, people.lurah, ready.items[:1], reason="Alasan lain yang lebih panjang")
    assert exc.value.code == "batch_frozen"
    assert "terkunci" in exc.value.message
    with pytest.raises(InvalidInput) as exc:  # the minutes too
        with db.session_scope(engine) as s:
            meetings.update_meeting_field(ready.meeting_id, "notulen", "", "Catatan sesudah diajukan",
                                          actor=people.operator, session=s)
    assert exc.value.code == "batch_frozen"
    assert doc_rows(engine, ready.meeting_id) == docs_before
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM proposal WHERE verification_waiver = :w"),
                            {"w": WAIVER}).scalar_one() == 4


def test_submitted_batch_freezes_member_corrections(engine, people, ready):
    """Guards the by-name list of a submitted batch: like the meeting's own fields (meetings.update_meeting_field
    calls ensure_editable once the meeting is closed), a member's name must not change after ``ajukan`` — the
    signed BA/BNBA and the snapshot the camat reviews would no longer match the data exported after ratification."""
    act(engine, people.lurah, ready.batch_id, "ajukan")
    with engine.connect() as conn:
        member_id, nama = conn.execute(sa.text("SELECT id, nama FROM proposalmember WHERE proposal_id = :p "
                                               "ORDER BY id"), {"p": ready.items[0]}).first()
    with pytest.raises(InvalidInput) as exc:
        with db.session_scope(engine) as s:
            proposals.correct_member(member_id, {"nama": "NAMA LAIN SESUDAH DIAJUKAN"}, actor=people.operator,
                                     session=s)
    assert exc.value.code == "batch_frozen"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT nama FROM proposalmember WHERE id = :m"),
                            {"m": member_id}).scalar_one() == nama


def test_tarik_only_until_a_reviewer_acted(engine, people, ready):
    """Guards ``tarik``: the lurah takes a submission back while the camat has not acted (editable again);
    once the camat forwarded it and the walikota sent it back to the camat, ``tarik`` is refused."""
    bid = ready.batch_id
    act(engine, people.lurah, bid, "ajukan")
    assert act(engine, people.lurah, bid, "tarik")["state"] == "draft"
    waive_all(engine, people.lurah, ready.items[:1], reason="Alasan yang diperbarui sesudah ditarik")  # editable
    act(engine, people.lurah, bid, "ajukan")
    act(engine, people.camat, bid, "teruskan")
    assert set(item_rows(engine, ready.items).values()) == {("diteruskan", "", "")}
    act(engine, people.walikota, bid, "kembalikan_ke_camat", reason="Lengkapi BAST Camat dahulu")
    assert batch_row(engine, bid)["state"] == "diajukan"
    assert set(item_rows(engine, ready.items).values()) == {("diusulkan", "", "")}
    before = batch_row(engine, bid)
    with pytest.raises(workflow.TransitionRefused) as exc:
        act(engine, people.lurah, bid, "tarik")
    assert exc.value.code == "reviewer_acted"
    assert batch_row(engine, bid) == before
    with pytest.raises(InvalidInput) as frozen:
        waive_all(engine, people.lurah, ready.items[:1], reason="Masih terkunci di tingkat camat")
    assert frozen.value.code == "batch_frozen"
    assert act(engine, people.camat, bid, "teruskan")["state"] == "diteruskan"  # the camat decides again


# ================================================================ 5. revisions

def test_revision_retires_documents_and_diff_names_the_changes(engine, people, ready):
    """Guards a revision: a return and ``revisi`` open revision 2 in draft, the old BA/SPTJM/BAST read
    superseded and then point at their successors, both submissions are snapshotted, and the diff names the new
    document numbers and the changed waiver."""
    bid, mid = ready.batch_id, ready.meeting_id
    act(engine, people.lurah, bid, "ajukan")
    act(engine, people.camat, bid, "kembalikan", reason="Nomor SPTJM tidak terbaca")
    with pytest.raises(InvalidInput) as frozen:  # still frozen while returned, until the revision is opened
        waive_all(engine, people.lurah, ready.items[:1], reason="Alasan baru untuk revisi kedua")
    assert frozen.value.code == "batch_frozen"
    result = act(engine, people.lurah, bid, "revisi")
    assert (result["state"], result["revision"]) == ("draft", 2)
    old = {r[1]: r for r in doc_rows(engine, mid)}
    assert {t: (r[2], r[3], r[5]) for t, r in old.items()} == {t: ("superseded", None, "Revisi 2 dibuka")
                                                                for t in DOC_TYPES}
    assert "bast_kelurahan_missing" in blocker_codes(engine, people.lurah, bid)

    waive_all(engine, people.lurah, ready.items[:1], reason="Alasan baru untuk revisi kedua")
    new_docs = finalise_all(engine, people.lurah, mid)
    rows = {r[0]: r for r in doc_rows(engine, mid)}
    for doc_type in DOC_TYPES:
        old_id = ready.docs[doc_type]
        assert rows[old_id][2] == "superseded" and rows[old_id][3] == new_docs[doc_type], doc_type
        assert rows[new_docs[doc_type]][2] == "final" and rows[new_docs[doc_type]][3] is None
        assert rows[new_docs[doc_type]][4] != rows[old_id][4]
    act(engine, people.lurah, bid, "ajukan")
    with db.session_scope(engine) as s:
        assert batch_views.revisions(bid, s) == [1, 2]
        changes = batch_views.diff(bid, 1, 2, actor=people.camat, session=s)
        detail = batch_views.detail(bid, actor=people.camat, session=s)
        with pytest.raises(MuskelError):
            batch_views.diff(bid, 1, 3, actor=people.camat, session=s)
    doc_changes = {c["apa"]: c["perubahan"] for c in changes if c["bagian"] == "dokumen"}
    assert doc_changes == {documents.LABELS[t]: f"{rows[ready.docs[t]][4]} → {rows[new_docs[t]][4]}"
                           for t in DOC_TYPES}
    item_changes = [c for c in changes if c["bagian"] == "usulan"]
    assert len(item_changes) == 1
    assert item_changes[0]["perubahan"] == f"pengecualian_verifikasi: {WAIVER} → Alasan baru untuk revisi kedua"
    assert "Warga 1-0".upper() in item_changes[0]["apa"]
    assert detail["revision"] == 2 and detail["revisions"] == [1, 2]
    assert [e["action"] for e in detail["events"]] == ["ajukan", "kembalikan", "revisi", "ajukan"]
    assert [e["revision"] for e in detail["events"]] == [1, 1, 2, 2]


# ================================================================ 6. two users at once

def race(engine, moves: list[tuple[Actor, str, str]], expected_state: str | None) -> list[object]:
    """Run the moves in threads started together, each in its own unit of work; returns result or exception."""
    start = threading.Barrier(len(moves))
    outcomes: list[object] = [None] * len(moves)

    def run(i: int, actor: Actor, bid_action: tuple[int, str], reason: str) -> None:
        bid, action = bid_action
        try:
            start.wait(timeout=30)
            with db.session_scope(engine) as s:
                outcomes[i] = workflow.act(bid, action, actor=actor, session=s, reason=reason,
                                           expected_state=expected_state)
        except BaseException as exc:  # noqa: BLE001 - inspected by the caller
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i, *m)) for i, m in enumerate(moves)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return outcomes


@pytest.mark.parametrize("with_expected_state", [True, False], ids=["seen-state", "no-seen-state"])
@pytest.mark.parametrize("pair", ["camat-vs-camat", "lurah-tarik-vs-camat"])
def test_two_users_acting_at_once_one_wins(engine, people, ready, make_account, pair, with_expected_state):
    """Guards against lost updates: two moves on one submitted batch at the same moment — exactly one is made,
    the other is refused with a clear Indonesian message; one event and one audit entry per successful move."""
    bid = ready.batch_id
    act(engine, people.lurah, bid, "ajukan")
    if pair == "camat-vs-camat":
        second_camat = make_account(engine, "sekcam.matraman", "camat", KEC)
        moves = [(people.camat, (bid, "teruskan"), ""), (second_camat, (bid, "kembalikan"), REASON)]
        targets = {"teruskan": "diteruskan", "kembalikan": "dikembalikan"}
    else:
        moves = [(people.lurah, (bid, "tarik"), ""), (people.camat, (bid, "kembalikan"), REASON)]
        targets = {"tarik": "draft", "kembalikan": "dikembalikan"}
    outcomes = race(engine, moves, "diajukan" if with_expected_state else None)
    wins = [(m[1][1], o) for m, o in zip(moves, outcomes) if isinstance(o, dict)]
    losses = [o for o in outcomes if not isinstance(o, dict)]
    assert len(wins) == 1 and len(losses) == 1, outcomes
    loser = losses[0]
    assert isinstance(loser, (StaleEdit, workflow.TransitionRefused)), repr(loser)
    if with_expected_state:
        assert isinstance(loser, StaleEdit) and "baru saja berubah" in loser.message
    else:
        assert "tidak dapat" in loser.message
    winner_action = wins[0][0]
    row = batch_row(engine, bid)
    assert row["state"] == targets[winner_action]
    assert row["events"] == 2 and row["batch_audit"] == 2  # ajukan + the winner
    with engine.connect() as conn:
        actions = conn.execute(sa.text("SELECT action FROM auditentry WHERE action LIKE 'batch.%' ORDER BY seq"))
        assert [a for (a,) in actions] == ["batch.ajukan", f"batch.{winner_action}"]
    report = chain_ok(engine)
    assert report.ok, report.message


# ================================================================ 7. scope

def test_other_kecamatan_and_other_kelurahan_cannot_act(engine, people, ready):
    """Guards wilayah scope: a camat of another kecamatan cannot review, a lurah of another kelurahan cannot
    submit or waive, and a lurah of the same kecamatan sees nothing of this batch."""
    bid = ready.batch_id
    before = batch_row(engine, bid)
    with pytest.raises(AccessDenied):
        act(engine, people.lurah_other, bid, "ajukan")
    with pytest.raises(AccessDenied):
        waive_all(engine, people.lurah_other, ready.items[:1])
    with pytest.raises(AccessDenied):
        batch_id(engine, people.lurah_other, ready.meeting_id)
    act(engine, people.lurah, bid, "ajukan")
    for action, reason in (("teruskan", ""), ("kembalikan", REASON)):
        with pytest.raises(AccessDenied):
            act(engine, people.camat_other, bid, action, reason=reason)
    with pytest.raises(AccessDenied):
        with db.session_scope(engine) as s:
            batch_views.detail(bid, actor=people.camat_other, session=s)
    with db.session_scope(engine) as s:
        with pytest.raises(AccessDenied):
            batch_views.queue(KEC, actor=people.camat_other, session=s)
        assert batch_views.queue(KEC_OTHER, actor=people.camat_other, session=s) == []
    row = batch_row(engine, bid)
    assert row["state"] == "diajukan" and row["events"] == before["events"] + 1


# ================================================================ 8. queue and inbox

def sql_counts(engine, bid: int) -> tuple[int, int]:
    """KK and jiwa of the items still in the batch, counted with plain SQL."""
    with engine.connect() as conn:
        kk = conn.execute(sa.text(
            "SELECT COUNT(*) FROM proposal p JOIN batch b ON b.musyawarah_id = p.musyawarah_id "
            "WHERE b.id = :b AND p.keputusan = 'disepakati' "
            "AND p.status IN ('diusulkan', 'diteruskan', 'disahkan')"), {"b": bid}).scalar_one()
        jiwa = conn.execute(sa.text(
            "SELECT COUNT(*) FROM proposalmember m JOIN proposal p ON p.id = m.proposal_id "
            "JOIN batch b ON b.musyawarah_id = p.musyawarah_id "
            "WHERE b.id = :b AND p.keputusan = 'disepakati' "
            "AND p.status IN ('diusulkan', 'diteruskan', 'disahkan')"), {"b": bid}).scalar_one()
    return kk, jiwa


def test_walikota_queue_counts_match_plain_sql(engine, people, ready):
    """Guards the reviewers' queue: KK and jiwa per batch equal an independent count — before and after the
    camat returned one family (which leaves the batch), never counting the deferred family."""
    bid = ready.batch_id
    act(engine, people.lurah, bid, "ajukan")
    with db.session_scope(engine) as s:
        (entry,) = batch_views.queue(KOTA, actor=people.walikota, session=s)
    assert (entry["id"], entry["state"], entry["kelurahan"], entry["kecamatan"]) == (bid, "diajukan", "Kayu Manis",
                                                                                      "Matraman")
    assert (entry["kk"], entry["jiwa"]) == sql_counts(engine, bid) == (4, sum(MEMBERS_PER_ITEM))
    assert entry["usulan"] == 4 and entry["per_jenis"] == {"baru": {"kk": 4, "jiwa": 8}}

    act(engine, people.camat, bid, "teruskan", item_actions={ready.items[1]: ("kembalikan", "KK belum diperbarui")})
    with db.session_scope(engine) as s:
        (entry,) = batch_views.queue(KOTA, actor=people.walikota, session=s, states=("diteruskan",))
        assert batch_views.queue(KOTA, actor=people.walikota, session=s, states=("disahkan",)) == []
        assert batch_views.queue(KOTA, actor=people.walikota, session=s, periode=NEXT_PERIODE) == []
    assert (entry["kk"], entry["jiwa"]) == sql_counts(engine, bid) == (3, sum(MEMBERS_PER_ITEM) - 3)
    assert entry["state"] == "diteruskan" and entry["usulan"] == 3


def inbox_texts(engine, actor: Actor) -> list[str]:
    with db.session_scope(engine) as s:
        return [n["pesan"] for n in batch_views.inbox(actor=actor, session=s)]


def test_inbox_shows_waiting_batches_and_return_reasons(engine, people, ready):
    """Guards the notifications: the camat sees a batch waiting for review, the lurah sees the camat's reason
    after a return, the walikota a forwarded batch."""
    act(engine, people.lurah, ready.batch_id, "ajukan")
    assert any("menunggu tinjauan" in t for t in inbox_texts(engine, people.camat))
    assert inbox_texts(engine, people.camat_other) == []
    assert any("menunggu tinjauan Camat" in t for t in inbox_texts(engine, people.lurah))
    act(engine, people.camat, ready.batch_id, "kembalikan", reason="Pindaian SPTJM buram, unggah ulang")
    lurah_notes = inbox_texts(engine, people.lurah)
    assert any("dikembalikan" in t and "Pindaian SPTJM buram, unggah ulang" in t for t in lurah_notes)
    assert any("Pindaian SPTJM buram" in t for t in inbox_texts(engine, people.operator))
    assert not any("menunggu tinjauan" in t for t in inbox_texts(engine, people.camat))
    act(engine, people.lurah, ready.batch_id, "revisi")
    finalise_all(engine, people.lurah, ready.meeting_id)
    act(engine, people.lurah, ready.batch_id, "ajukan")
    act(engine, people.camat, ready.batch_id, "teruskan")
    assert any("menunggu pengesahan" in t for t in inbox_texts(engine, people.walikota))
