"""Agenda items of a musyawarah (core.proposals), their tally (core.tally) and the BNBA export (core.bnba), on
SQLite and PostgreSQL.

Families get into the register through the real import (core.register.import_extract) of small generated
extracts for Kayu Manis (31.75.01.1003, with the planted screening findings) and Palmeriam (31.75.01.1004).
Bad input must be refused with a stable code and leave nothing behind (rows counted before and after);
duplicates across kelurahan become warnings; deferred items carry over; KK and jiwa are checked against a
computation done here over the data the test created, not through core.tally.
"""

from __future__ import annotations

import io
import json
from collections import Counter, defaultdict
from datetime import date

import openpyxl
import pytest
import sqlalchemy as sa
from sqlmodel import select

from core import bnba, db, meetings, proposals, register, tally
from core.demo_register import generate, nik_for, plant_screening_findings, to_csv
from core.errors import InvalidInput
from core.models import AuditEntry, Family, Flag

KEL = "31.75.01.1003"  # Kayu Manis
OTHER = "31.75.01.1004"  # Palmeriam
NOTE = "Menunggu verifikasi domisili"


pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
def operator(engine, make_account):
    return make_account(engine, "operator.km", "operator", KEL)


@pytest.fixture
def lurah(engine, make_account):
    return make_account(engine, "lurah.km", "lurah", KEL)


@pytest.fixture
def operator_pm(engine, make_account):
    return make_account(engine, "operator.pm", "operator", OTHER)


@pytest.fixture
def extracts(engine, operator, operator_pm) -> dict:
    """Import 12 Kayu Manis families (two with a Bekasi KTP) and 6 Palmeriam families; returns the frames and
    No KK → family id per kelurahan."""
    frames = {KEL: plant_screening_findings(generate(KEL, 12, seed=7)), OTHER: generate(OTHER, 6, seed=8)}
    ids = {}
    for kode, actor in ((KEL, operator), (OTHER, operator_pm)):
        with db.session_scope(engine) as session:
            result = register.import_extract(to_csv(frames[kode]), f"dtsen_{kode}.csv", kode, actor=actor,
                                             session=session)
            assert result.imported, result.blocking
            ids[kode] = {kk: fid for kk, fid in session.exec(
                select(Family.no_kk, Family.id).where(Family.kelurahan_kode == kode)).all()}
    return {"frames": frames, "ids": ids}


def families_of(extracts, kode: str = KEL) -> list[tuple[str, int, list[str]]]:
    """(No KK, family id, member NIKs in extract order) for each family of the extract, sorted by No KK."""
    frame = extracts["frames"][kode]
    return [(kk, extracts["ids"][kode][kk], list(group["NIK"])) for kk, group in sorted(frame.groupby("No KK"))]


def create_meeting(engine, actor, periode: str = "2026-11", kode: str = KEL) -> int:
    with db.session_scope(engine) as session:
        return meetings.create_meeting(kode, periode, actor=actor, session=session)["id"]


def add_item(engine, actor, mid: int, family_id: int, **kwargs) -> dict:
    kwargs.setdefault("jenis", "baru")
    with db.session_scope(engine) as session:
        return proposals.add_from_register(mid, family_id, actor=actor, session=session, **kwargs)


def add_new(engine, actor, mid: int, *, no_kk: str, members: list[dict], **kwargs) -> dict:
    with db.session_scope(engine) as session:
        return proposals.add_new_family(mid, no_kk=no_kk, alamat="Jl. Tegalan No. 3", rt="4", rw="5",
                                        members=members, actor=actor, session=session, **kwargs)


def decide(engine, actor, item_id: int, keputusan: str, note: str = "") -> dict:
    with db.session_scope(engine) as session:
        return proposals.set_decision(item_id, keputusan, note, seen="", actor=actor, session=session)


def list_items(engine, actor, mid: int) -> list[dict]:
    with db.session_scope(engine) as session:
        return proposals.list_proposals(mid, actor=actor, session=session)


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                for t in ("proposal", "proposalmember", "flag")}


def close(engine, operator, lurah, mid: int) -> None:
    for fieldname, old, new in (("tanggal", None, date(2026, 10, 14)), ("jam_mulai", "", "09.00"),
                                ("ketua", "", "Hendra Gunawan"), ("notulis", "", "Sari Wulandari")):
        with db.session_scope(engine) as session:
            meetings.update_meeting_field(mid, fieldname, old, new, actor=operator, session=session)
    for nama, unsur in (("Hendra Gunawan", "Lurah"), ("Ketua RW 01", "Ketua RW"), ("H. Abdul Rahman", "LMK")):
        with db.session_scope(engine) as session:
            meetings.add_attendee(mid, {"nama": nama, "unsur": unsur}, actor=operator, session=session)
    with db.session_scope(engine) as session:
        meetings.close_meeting(mid, confirm_without_quorum=False, actor=lurah, session=session)


def person(nik: str, nama: str = "WARGA BARU", hubungan: str = "KEPALA KELUARGA") -> dict:
    return {"nik": nik, "nama": nama, "hubungan": hubungan, "jenis_kelamin": "L", "tanggal_lahir": date(1980, 5, 17)}


NEW_KK = "3175011705800777"
NEW_NIK = nik_for("317501", date(1980, 5, 17), False, 777)


# --- bad input: refused whole, nothing stored ------------------------------------------------------------------


BAD_INPUT = {
    "family_outside_kelurahan": ("family_outside_kelurahan",
                                 lambda e, a, mid, fx: add_item(e, a, mid, families_of(fx, OTHER)[0][1])),
    "dup_baru": ("dup_proposal", lambda e, a, mid, fx: add_item(e, a, mid, families_of(fx)[0][1])),
    "dup_baru_other_member": ("dup_proposal", lambda e, a, mid, fx: add_item(
        e, a, mid, families_of(fx)[0][1], member_niks=families_of(fx)[0][2][1:])),
    "perbaikan_empty": ("perbaikan_without_change", lambda e, a, mid, fx: add_item(
        e, a, mid, families_of(fx)[1][1], jenis="perbaikan", perubahan=[])),
    "perbaikan_same": ("perbaikan_without_change", lambda e, a, mid, fx: add_item(
        e, a, mid, families_of(fx)[1][1], jenis="perbaikan",
        perubahan=[{"field": "alamat", "lama": "Jl. Tegalan No. 3", "baru": "Jl. Tegalan No. 3 "}])),
    "nonaktif_no_reason": ("nonaktif_reason_missing", lambda e, a, mid, fx: add_item(
        e, a, mid, families_of(fx)[1][1], jenis="nonaktif", alasan_nonaktif="")),
    "nonaktif_unknown_reason": ("nonaktif_reason_missing", lambda e, a, mid, fx: add_item(
        e, a, mid, families_of(fx)[1][1], jenis="nonaktif", alasan_nonaktif="bosan")),
    "no_member": ("no_member", lambda e, a, mid, fx: add_item(e, a, mid, families_of(fx)[1][1], member_niks=[])),
    "member_of_other_family": ("no_member", lambda e, a, mid, fx: add_item(
        e, a, mid, families_of(fx)[1][1], member_niks=families_of(fx)[2][2])),
    "unknown_program": ("program_unknown", lambda e, a, mid, fx: add_item(
        e, a, mid, families_of(fx)[1][1], programs=["PKH", "Bansos Fiktif"])),
    "new_family_bad_nik": ("nik_invalid", lambda e, a, mid, fx: add_new(
        e, a, mid, no_kk=NEW_KK, members=[person("3175011399800777")])),
    "new_family_short_nik": ("nik_invalid", lambda e, a, mid, fx: add_new(
        e, a, mid, no_kk=NEW_KK, members=[person("31750117058")])),
    "new_family_bad_kk": ("kk_invalid", lambda e, a, mid, fx: add_new(
        e, a, mid, no_kk="9975011705800777", members=[person(NEW_NIK)])),
    "new_family_short_kk": ("kk_invalid", lambda e, a, mid, fx: add_new(
        e, a, mid, no_kk="31750117", members=[person(NEW_NIK)])),
    "new_family_member_without_name": ("member_name_missing", lambda e, a, mid, fx: add_new(
        e, a, mid, no_kk=NEW_KK, members=[person(NEW_NIK), person(nik_for("317501", date(1985, 1, 2), True, 778),
                                                                   nama="  ", hubungan="ISTRI")])),
    "new_family_no_member": ("no_member", lambda e, a, mid, fx: add_new(e, a, mid, no_kk=NEW_KK, members=[])),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_refused_nothing_stored(engine, operator, extracts, case):
    """Guards against a bad proposal being stored (even partly) or refused without its specific code."""
    code, attempt = BAD_INPUT[case]
    mid = create_meeting(engine, operator)
    first = add_item(engine, operator, mid, families_of(extracts)[0][1])  # a valid baru item already there
    assert first["jenis"] == "baru"
    before = counts(engine)
    with db.session_scope(engine) as session:
        audit_before = session.exec(select(sa.func.count()).select_from(AuditEntry)).one()
    with pytest.raises(InvalidInput) as exc:
        attempt(engine, operator, mid, extracts)
    assert exc.value.code == code
    assert exc.value.field  # the message belongs to a field on the form
    assert counts(engine) == before
    with db.session_scope(engine) as session:
        assert session.exec(select(sa.func.count()).select_from(AuditEntry)).one() == audit_before


def test_second_baru_in_another_meeting_same_period_refused(engine, operator, lurah, extracts):
    """Guards against a follow-up meeting of the same period proposing a family again as baru."""
    kk, fid, _ = families_of(extracts)[0]
    mid = create_meeting(engine, operator)
    decide(engine, operator, add_item(engine, operator, mid, fid)["id"], "disepakati")
    close(engine, operator, lurah, mid)
    follow = create_meeting(engine, operator)
    before = counts(engine)
    with pytest.raises(InvalidInput) as exc:
        add_item(engine, operator, follow, fid)
    assert exc.value.code == "dup_proposal"
    assert counts(engine) == before


def test_valid_items_of_each_type_stored(engine, operator, extracts):
    """Guards against valid items being refused or stored with the wrong members, change list or reason."""
    fams = families_of(extracts)
    mid = create_meeting(engine, operator)
    baru = add_item(engine, operator, mid, fams[0][1], programs=["PKH"])
    fix = add_item(engine, operator, mid, fams[1][1], jenis="perbaikan",
                   perubahan=[{"field": "nama", "lama": "AGUS", "baru": "AGUS SALIM"}], member_niks=fams[1][2][:1])
    gone = add_item(engine, operator, mid, fams[2][1], jenis="nonaktif", alasan_nonaktif="meninggal",
                    member_niks=fams[2][2][:1])
    assert [m["nik"] for m in baru["anggota"]] == fams[0][2]
    assert baru["no_kk"] == fams[0][0] and baru["programs"] == ["PKH"] and baru["urutan"] == 1
    assert fix["perubahan"] == [{"field": "nama", "lama": "AGUS", "baru": "AGUS SALIM"}] and len(fix["anggota"]) == 1
    assert gone["alasan_nonaktif"] == "meninggal" and [m["nik"] for m in gone["anggota"]] == fams[2][2][:1]
    assert counts(engine)["proposal"] == 3
    assert counts(engine)["proposalmember"] == len(fams[0][2]) + 2


# --- duplicates elsewhere and new families ---------------------------------------------------------------------


def test_same_nik_in_other_kelurahan_gets_warning(engine, operator, operator_pm, extracts):
    """Guards against the same person proposed in two kelurahan without a visible warning on either side."""
    kk, fid, niks = families_of(extracts)[0]
    km_meeting = create_meeting(engine, operator)
    pm_meeting = create_meeting(engine, operator_pm, kode=OTHER)
    first = add_item(engine, operator, km_meeting, fid)
    assert not [t for t in first["temuan"] if t["code"] == "dup_proposal"]
    # Palmeriam proposes a family not in its register that holds the head of a Kayu Manis family
    pm_item = add_new(engine, operator_pm, pm_meeting, no_kk=NEW_KK, members=[person(niks[0])])
    dup = [t for t in pm_item["temuan"] if t["code"] == "dup_proposal"]
    assert len(dup) == 1 and "Kel. Kayu Manis" in dup[0]["pesan"] and dup[0]["severity"] == "warning"
    # Kayu Manis now adds the same family as another type: warned about Palmeriam
    km_item = add_item(engine, operator, km_meeting, fid, jenis="prioritas_program", programs=["Sekolah Rakyat"])
    dup = [t for t in km_item["temuan"] if t["code"] == "dup_proposal"]
    assert len(dup) == 1 and "Kel. Palmeriam" in dup[0]["pesan"]
    with db.session_scope(engine) as session:
        flags = session.exec(select(Flag).where(Flag.code == "dup_proposal")).all()
    assert {(f.proposal_id, f.kelurahan_kode, f.status) for f in flags} == {
        (pm_item["id"], OTHER, "open"), (km_item["id"], KEL, "open")}


def test_new_family_with_non_dki_nik_flagged(engine, operator, extracts):
    """Guards against a family from outside Jakarta (a 3275… Bekasi NIK) entering the agenda unflagged."""
    mid = create_meeting(engine, operator)
    bekasi = nik_for("327501", date(1980, 5, 17), False, 779)
    item = add_new(engine, operator, mid, no_kk=NEW_KK, members=[person(NEW_NIK), person(bekasi, "ISTRI BEKASI",
                                                                                          "ISTRI")])
    assert item["family_id"] is None and item["rt"] == "004" and item["rw"] == "005"
    assert [m["nik"] for m in item["anggota"]] == [NEW_NIK, bekasi]
    assert item["nama_kepala"] == "WARGA BARU"
    non_dki = [t for t in item["temuan"] if t["code"] == "non_dki"]
    assert len(non_dki) == 1
    with db.session_scope(engine) as session:
        flag = session.exec(select(Flag).where(Flag.proposal_id == item["id"], Flag.code == "non_dki")).one()
    assert flag.nik == bekasi and flag.status == "open" and flag.source == "proposal"


def test_new_family_already_in_register_refused(engine, operator, extracts):
    """Guards against a register family entered again by hand (bypassing its register data)."""
    kk, _, niks = families_of(extracts)[0]
    mid = create_meeting(engine, operator)
    before = counts(engine)
    with pytest.raises(InvalidInput) as exc:
        add_new(engine, operator, mid, no_kk=kk, members=[person(niks[0])])
    assert exc.value.code == "family_in_register"
    assert counts(engine) == before


# --- carry-over and the pre-list -------------------------------------------------------------------------------


def test_deferred_item_carried_over_once(engine, operator, lurah, extracts):
    """Guards against deferred items being forgotten in the next period, or listed again once carried over."""
    fams = families_of(extracts)
    october = create_meeting(engine, operator, "2026-10")
    deferred = add_item(engine, operator, october, fams[3][1], programs=["PKH"], alasan="Usulan RW 004")
    agreed = add_item(engine, operator, october, fams[4][1])
    decide(engine, operator, deferred["id"], "ditunda", NOTE)
    decide(engine, operator, agreed["id"], "disepakati")
    close(engine, operator, lurah, october)
    with db.session_scope(engine) as session:
        pending = proposals.carried_over(KEL, "2026-11", actor=operator, session=session)
    assert [(p["id"], p["periode"], p["catatan_keputusan"]) for p in pending] == [(deferred["id"], "2026-10", NOTE)]
    with db.session_scope(engine) as session:  # not offered to its own or an earlier period
        assert proposals.carried_over(KEL, "2026-10", actor=operator, session=session) == []
    november = create_meeting(engine, operator, "2026-11")
    with db.session_scope(engine) as session:
        carried = proposals.carry_over(november, deferred["id"], actor=operator, session=session)
    assert carried["origin_id"] == deferred["id"] and carried["musyawarah_id"] == november
    assert carried["keputusan"] == "" and carried["programs"] == ["PKH"]
    assert NOTE in carried["alasan"] and "2026-10" in carried["alasan"]
    assert [m["nik"] for m in carried["anggota"]] == [m["nik"] for m in deferred["anggota"]]
    with db.session_scope(engine) as session:
        assert proposals.carried_over(KEL, "2026-11", actor=operator, session=session) == []
        assert proposals.carried_over(KEL, "2026-12", actor=operator, session=session) == []


def _candidates(engine, operator, **filters) -> set[int]:
    with db.session_scope(engine) as session:
        rows = proposals.register_candidates(KEL, actor=operator, session=session, **filters)
    for r in rows:
        assert "•" in r["no_kk"]  # masked on the pre-list
    return {r["family_id"] for r in rows}


def test_register_candidates_filters(engine, operator, extracts):
    """Guards against the pre-list showing families outside the chosen RW, desil or screening finding."""
    frame = extracts["frames"][KEL]
    ids = extracts["ids"][KEL]
    per_family = frame.groupby("No KK").first()
    assert _candidates(engine, operator) == set(ids.values())
    rw = per_family["RW"].mode()[0]
    expected_rw = {ids[kk] for kk in per_family.index[per_family["RW"] == rw]}
    assert _candidates(engine, operator, rw=str(int(rw))) == expected_rw
    assert expected_rw and expected_rw != set(ids.values())
    low = per_family["Desil"].astype(int) <= 3
    assert _candidates(engine, operator, desil=[1, 2, 3]) == {ids[kk] for kk in per_family.index[low]}
    bekasi = {ids[kk] for kk in frame.loc[frame["NIK"].str.startswith("3275"), "No KK"]}
    assert len(bekasi) == 2
    assert _candidates(engine, operator, flag_codes=["non_dki"]) == bekasi
    both = {ids[kk] for kk in per_family.index[low & (per_family["RW"] == rw)]}
    assert _candidates(engine, operator, rw=rw, desil=[1, 2, 3]) == both


# --- tally -----------------------------------------------------------------------------------------------------


# (family index, jenis, nonaktif reason, programmes, number of affected members or None = all, decision)
TALLY_PLAN = [
    (0, "baru", "", ["PKH"], None, "disepakati"),
    (1, "baru", "", ["PKH", "Sekolah Rakyat"], None, "disepakati"),
    (2, "baru", "", [], 2, "tidak_disepakati"),
    (3, "perbaikan", "", [], 1, "disepakati"),
    (4, "nonaktif", "meninggal", [], 1, "disepakati"),
    (5, "nonaktif", "meninggal", [], 1, "ditunda"),
    (6, "nonaktif", "pindah_dalam_negeri", [], None, "disepakati"),
    (7, "prioritas_program", "", ["Sekolah Rakyat"], None, ""),
    (0, "prioritas_program", "", ["PBI-JK"], 1, "disepakati"),  # a family already on the agenda as baru
]


def _build_tally_meeting(engine, operator, extracts) -> tuple[int, list[dict]]:
    fams = families_of(extracts)
    mid = create_meeting(engine, operator)
    planned = []
    for index, jenis, reason, programs, n, decision in TALLY_PLAN:
        kk, fid, niks = fams[index]
        chosen = niks if n is None else niks[:n]
        change = [{"field": "alamat", "lama": "lama", "baru": "baru"}] if jenis == "perbaikan" else []
        item = add_item(engine, operator, mid, fid, jenis=jenis, alasan_nonaktif=reason, programs=programs,
                        member_niks=chosen, perubahan=change)
        if decision:
            decide(engine, operator, item["id"], decision)
        planned.append({"kk": kk, "niks": chosen, "jenis": jenis, "reason": reason, "programs": programs,
                        "decision": decision or "belum"})
    # an item entered by mistake and cancelled: must not count
    extra = add_item(engine, operator, mid, fams[8][1])
    with db.session_scope(engine) as session:
        proposals.cancel(extra["id"], "salah input keluarga", actor=operator, session=session)
    return mid, planned


def _expected(planned: list[dict]) -> dict:
    kk: dict[tuple, set] = defaultdict(set)
    jiwa: dict[tuple, Counter] = defaultdict(Counter)
    for p in planned:
        keys = [("jenis", p["jenis"]), ("keputusan", p["decision"]), ("total", "semua")]
        keys += [("program", prog) for prog in p["programs"]]
        if p["jenis"] == "nonaktif":
            keys.append(("alasan_nonaktif", p["reason"]))
        if p["decision"] == "disepakati":
            keys.append(("disepakati_per_jenis", p["jenis"]))
        for key in keys:
            kk[key].add(p["kk"])
            jiwa[key].update(p["niks"])
    result: dict[str, dict] = defaultdict(dict)
    for (dim, key), families in kk.items():
        result[dim][key] = {"kk": len(families), "jiwa": len(jiwa[(dim, key)])}  # distinct persons
    return dict(result)


def test_tally_matches_independent_count(engine, operator, extracts):
    """Guards against wrong KK (distinct No KK) or jiwa (affected members) per type, decision, reason and
    programme, and against cancelled items being counted."""
    mid, planned = _build_tally_meeting(engine, operator, extracts)
    got = tally.tally(list_items(engine, operator, mid))
    assert got == _expected(planned)
    # spot checks written out by hand from TALLY_PLAN
    assert got["jenis"]["nonaktif"] == {"kk": 3, "jiwa": 2 + len(families_of(extracts)[6][2])}
    assert got["alasan_nonaktif"]["meninggal"] == {"kk": 2, "jiwa": 2}
    assert got["keputusan"]["belum"]["kk"] == 1
    assert got["total"]["semua"]["kk"] == 8  # family 0 counted once although on the agenda twice
    fams = families_of(extracts)
    assert got["program"]["PKH"] == {"kk": 2, "jiwa": len(fams[0][2]) + len(fams[1][2])}


# --- BNBA export -----------------------------------------------------------------------------------------------


def test_bnba_xlsx_one_row_per_person(engine, operator, extracts):
    """Guards against the BNBA list losing persons, reordering columns, turning NIKs into numbers or naming the
    wrong wilayah, and against an unaudited export of personal data."""
    mid, planned = _build_tally_meeting(engine, operator, extracts)
    with db.session_scope(engine) as session:
        data = bnba.xlsx(mid, actor=operator, session=session)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "No")
    assert header_at > 0 and "BNBA" in str(rows[0][0])  # the title row above
    header = rows[header_at]
    assert header == ["No", "Jenis usulan", "Alasan", "NIK", "No KK", "Nama", "Jenis kelamin", "Tanggal lahir",
                      "Hubungan keluarga", "Alamat", "RT", "RW", "Kelurahan", "Kecamatan", "Kota/Kabupaten", "Desil",
                      "Program", "Keputusan", "Catatan"]
    body = [dict(zip(header, r)) for r in rows[header_at + 1:] if any(v not in (None, "") for v in r)]
    assert len(body) == sum(len(p["niks"]) for p in planned)
    assert sorted(r["NIK"] for r in body) == sorted(n for p in planned for n in p["niks"])
    assert Counter(r["No KK"] for r in body) == Counter(p["kk"] for p in planned for _ in p["niks"])
    col = {name: i + 1 for i, name in enumerate(header)}
    for offset in range(len(body)):
        for name in ("NIK", "No KK"):
            cell = sheet.cell(row=header_at + 2 + offset, column=col[name])
            assert cell.data_type == "s" and isinstance(cell.value, str) and len(cell.value) == 16, (name, cell.value)
    assert {(r["Kelurahan"], r["Kecamatan"], r["Kota/Kabupaten"]) for r in body} == {
        ("Kayu Manis", "Matraman", "Kota Administrasi Jakarta Timur")}
    assert [str(r["No"]) for r in body] == [str(i) for i in range(1, len(body) + 1)]
    meninggal = [r for r in body if r["Jenis usulan"] == "Usulan nonaktif" and "Meninggal" in (r["Alasan"] or "")]
    assert len(meninggal) == 2
    frame = extracts["frames"][KEL]
    person_row = frame.set_index("NIK").loc[body[0]["NIK"]]
    assert body[0]["Nama"] == person_row["Nama"] and body[0]["Tanggal lahir"] == person_row["Tanggal Lahir"]
    assert body[0]["Jenis kelamin"] == person_row["Jenis Kelamin"]
    with db.session_scope(engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "proposal.exported")).all()
    assert len(entries) == 1 and json.loads(entries[0].after)["baris"] == len(body)
    assert entries[0].actor_username == "operator.km"
