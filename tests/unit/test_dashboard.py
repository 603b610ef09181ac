"""The dashboard figures (core.dashboard) and the laporan triwulan (core.quarterly, its PDF, XLSX and CLI) on
SQLite and PostgreSQL.

One small world is built through the real services: in Kecamatan Matraman, Kayu Manis holds a musyawarah whose
batch goes all the way to the Walikota (one item returned by the Camat, one rejected by the Walikota, one trip
back to the Camat on the way), Palmeriam has a musyawarah still open (after a not-held statement earlier in
the quarter) and Kebon Manggis states it held none; in Kecamatan Pulogadung, Pulo Gadung has an open
musyawarah. Some NIKs are proposed in two or three kelurahan. Every figure is then checked against an
independent computation: plain SQL rows read here and counted in Python, plus a few numbers known from the
construction itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import (
    cli,
    dashboard,
    db,
    doc_verify,
    documents,
    meetings,
    period_steps,
    proposals,
    quarterly,
    register,
)
from core.access import Actor
from core.demo_register import generate, nik_for, to_csv
from core.errors import AccessDenied, InvalidInput
from core.proposals import JENIS
from core.timefmt import utcnow
from tests.unit.test_workflow import PERIODE, act, batch_id, finalise_all, waive_all

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

ROOT = Path(__file__).resolve().parents[2]
KOTA = "31.75"  # Jakarta Timur
KEC = "31.75.01"  # Matraman
KEC_OTHER = "31.75.02"  # Pulogadung
K1, K2, K3 = "31.75.01.1003", "31.75.01.1004", "31.75.01.1005"  # Kayu Manis, Palmeriam, Kebon Manggis
K4 = "31.75.02.1001"  # Pulo Gadung
TAHUN, TRIWULAN = int(PERIODE[:4]), (int(PERIODE[5:]) - 1) // 3 + 1
MONTHS = [f"{TAHUN}-{m:02d}" for m in range(3 * TRIWULAN - 2, 3 * TRIWULAN + 1)]
OTHER_MONTH = next(m for m in MONTHS if m != PERIODE)  # Palmeriam's not-held statement
RETURN = "KK belum diperbarui di Dukcapil"
REJECT = "Keluarga sudah pindah ke luar kota"
BACK = "Mohon periksa kembali lampiran"
NOT_HELD = "Tidak ada usulan warga bulan ini"
LOCATE = sa.text("UPDATE family SET latitude = -6.2, longitude = 106.86 WHERE id = :f")  # as a visit does


# ---------------------------------------------------------------- the world

def new_members(region6: str, serial: int, n: int, *, shared: list[str] = ()) -> list[dict]:
    """``n`` valid members; the first ``len(shared)`` take the given NIKs (proposed elsewhere too)."""
    relations = ["KEPALA KELUARGA", "ISTRI", "ANAK", "ANAK"]
    out = []
    for j in range(n):
        born = date(1975 + j, 3, 9)
        nik = shared[j] if j < len(shared) else nik_for(region6, born, j == 1, 50 * serial + j)
        out.append({"nik": nik, "nama": f"Warga {serial}-{j}", "hubungan": relations[j],
                    "jenis_kelamin": "P" if j == 1 else "L", "tanggal_lahir": born})
    return out


def kk_for(region6: str, serial: int) -> str:
    return f"{region6}090375{6000 + serial:04d}"


def open_meeting(engine, operator: Actor, kode: str, periode: str = PERIODE) -> int:
    with db.session_scope(engine) as s:
        mid = meetings.create_meeting(kode, periode, actor=operator, session=s)["id"]
    with db.session_scope(engine) as s:
        day = date(int(periode[:4]), int(periode[5:]), 4)
        for fieldname, value in (("tanggal", day), ("jam_mulai", "09.00"), ("ketua", "Hendra Gunawan"),
                                 ("notulis", "Sari Wulandari")):
            current = getattr(s.get(meetings.Musyawarah, mid), fieldname)
            meetings.update_meeting_field(mid, fieldname, current, value, actor=operator, session=s)
        for nama, unsur in (("Hendra Gunawan", "Lurah"), ("Agus Salim", "Ketua RW"),
                            ("H. Abdul Rahman", "LMK")):
            meetings.add_attendee(mid, {"nama": nama, "unsur": unsur}, actor=operator, session=s)
    return mid


def add_new(engine, operator: Actor, mid: int, kk: str, members: list[dict], *, jenis: str = "baru",
            programs: list[str] | None = None) -> int:
    with db.session_scope(engine) as s:
        return proposals.add_new_family(mid, no_kk=kk, alamat="Jl. Uji No. 1", rt="1", rw="2",
                                        members=members, jenis=jenis,
                                        programs=programs if programs is not None else ["PKH"],
                                        actor=operator, session=s)["id"]


def add_registered(engine, operator: Actor, mid: int, family_id: int, **kwargs) -> int:
    with db.session_scope(engine) as s:
        return proposals.add_from_register(mid, family_id, actor=operator, session=s, **kwargs)["id"]


def decide(engine, operator: Actor, decisions: dict[int, str]) -> None:
    with db.session_scope(engine) as s:
        for item, keputusan in decisions.items():
            note = "" if keputusan == "disepakati" else "Menunggu surat keterangan RT"
            proposals.set_decision(item, keputusan, note, seen="", actor=operator, session=s)


@dataclass
class World:
    engine: sa.Engine
    people: dict[str, Actor]
    items: dict[str, int]  # name -> proposal id
    k1_meeting: int = 0
    k1_batch: int = 0
    families: dict[str, int] = field(default_factory=dict)  # F1..F3 -> family id (Kayu Manis register)
    nik_x: str = ""
    nik_y: str = ""


def accounts(engine, make_account) -> dict[str, Actor]:
    spec = {"op1": ("operator", K1), "lurah1": ("lurah", K1), "op2": ("operator", K2),
            "lurah2": ("lurah", K2), "lurah3": ("lurah", K3), "op4": ("operator", K4),
            "camat": ("camat", KEC),
            "camat_other": ("camat", KEC_OTHER), "walikota": ("walikota", KOTA), "auditor": ("auditor", KOTA)}
    return {name: make_account(engine, f"{name}.uji", role, kode) for name, (role, kode) in spec.items()}


def build_world(engine, make_account) -> World:
    p = accounts(engine, make_account)
    items: dict[str, int] = {}
    # Kayu Manis: a small register (desil, families to propose from), then the musyawarah.
    with db.session_scope(engine) as s:
        register.import_extract(to_csv(generate(K1, 4, seed=31)), "dtsen.csv", K1, actor=p["op1"], session=s)
    with engine.connect() as conn:
        fams = list(conn.execute(sa.text("SELECT id FROM family WHERE kelurahan_kode = :k ORDER BY id"),
                                 {"k": K1}).scalars())
        f2_nik = conn.execute(sa.text("SELECT nik FROM person WHERE family_id = :f ORDER BY id"),
                              {"f": fams[1]}).scalars().first()
    w = World(engine, p, items, families={"F1": fams[0], "F2": fams[1], "F3": fams[2]})
    mid = open_meeting(engine, p["op1"], K1)
    a_members = new_members("317501", 1, 2)
    b_members = new_members("317501", 2, 3)
    w.nik_x, w.nik_y = a_members[0]["nik"], b_members[0]["nik"]
    items["a"] = add_new(engine, p["op1"], mid, kk_for("317501", 1), a_members)
    items["b"] = add_new(engine, p["op1"], mid, kk_for("317501", 2), b_members)
    items["c"] = add_registered(engine, p["op1"], mid, fams[0], jenis="prioritas_program",
                                programs=["PKH", "BPNT/Sembako"])
    items["d"] = add_registered(engine, p["op1"], mid, fams[1], jenis="nonaktif", alasan_nonaktif="meninggal",
                                member_niks=[f2_nik])
    items["e"] = add_registered(engine, p["op1"], mid, fams[2], jenis="perbaikan",
                                perubahan=[{"field": "nama", "lama": "BUDI", "baru": "BUDI SANTOSO"}])
    items["f"] = add_new(engine, p["op1"], mid, kk_for("317501", 6), new_members("317501", 6, 2))
    items["g"] = add_new(engine, p["op1"], mid, kk_for("317501", 7), new_members("317501", 7, 1))
    items["h"] = add_new(engine, p["op1"], mid, kk_for("317501", 8), new_members("317501", 8, 1))
    with db.session_scope(engine) as s:
        proposals.cancel(items["h"], "Salah input agenda", actor=p["op1"], session=s)
    decide(engine, p["op1"], {items["a"]: "disepakati", items["b"]: "disepakati", items["c"]: "disepakati",
                              items["d"]: "disepakati", items["e"]: "disepakati", items["f"]: "ditunda",
                              items["g"]: "tidak_disepakati"})
    with db.session_scope(engine) as s:
        meetings.close_meeting(mid, confirm_without_quorum=False, actor=p["lurah1"], session=s)
    waive_all(engine, p["lurah1"], [items["a"], items["b"]])
    finalise_all(engine, p["lurah1"], mid)
    w.k1_meeting, w.k1_batch = mid, batch_id(engine, p["lurah1"], mid)
    act(engine, p["lurah1"], w.k1_batch, "ajukan")
    act(engine, p["camat"], w.k1_batch, "teruskan", item_actions={items["b"]: ("kembalikan", RETURN)})
    act(engine, p["walikota"], w.k1_batch, "kembalikan_ke_camat", reason=BACK)
    act(engine, p["camat"], w.k1_batch, "teruskan")
    act(engine, p["walikota"], w.k1_batch, "sahkan", item_actions={items["d"]: ("tolak", REJECT)})
    with engine.begin() as conn:
        conn.execute(LOCATE, {"f": fams[0]})

    # Palmeriam: not held earlier in the quarter; this period a musyawarah still open, NIK X proposed again.
    with db.session_scope(engine) as s:
        meetings.record_not_held(K2, OTHER_MONTH, NOT_HELD, actor=p["lurah2"], session=s)
    mid2 = open_meeting(engine, p["op2"], K2)
    items["p"] = add_new(engine, p["op2"], mid2, kk_for("317501", 11),
                         new_members("317501", 11, 2, shared=[w.nik_x]))
    items["q"] = add_new(engine, p["op2"], mid2, kk_for("317501", 12), new_members("317501", 12, 1))
    decide(engine, p["op2"], {items["p"]: "disepakati"})
    # Kebon Manggis: no musyawarah this period; the home page opens its (draft) batch.
    with db.session_scope(engine) as s:
        meetings.record_not_held(K3, PERIODE, NOT_HELD, actor=p["lurah3"], session=s)
    with db.session_scope(engine) as s:
        period_steps.steps(K3, PERIODE, actor=p["lurah3"], session=s)
    # Pulo Gadung (another kecamatan): NIK X and NIK Y proposed there too.
    mid4 = open_meeting(engine, p["op4"], K4)
    items["r"] = add_new(engine, p["op4"], mid4, kk_for("317502", 21),
                         new_members("317502", 21, 3, shared=[w.nik_x, w.nik_y]))
    items["s"] = add_new(engine, p["op4"], mid4, kk_for("317502", 22), new_members("317502", 22, 2),
                         jenis="prioritas_program", programs=["PIP"])
    decide(engine, p["op4"], {items["r"]: "disepakati", items["s"]: "disepakati"})
    return w


@pytest.fixture
def world(engine, make_account) -> World:
    return build_world(engine, make_account)


# ---------------------------------------------------------------- independent computations

def in_scope(kode: str, scope: str) -> bool:
    return kode == scope or kode.startswith(scope + ".")


def proposal_rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            "SELECT p.id, p.kelurahan_kode, p.periode, p.jenis, p.status, p.keputusan, p.desil, p.no_kk, "
            "p.programs, p.alasan_nonaktif, p.status_level, p.status_reason, m.nik "
            "FROM proposal p LEFT JOIN proposalmember m ON m.proposal_id = p.id"))]


def expected_counts(rows, scope, periode, group, statuses=None, agreed_only=True) -> dict[str, dict]:
    column = {"jenis": "jenis", "status": "status", "kelurahan": "kelurahan_kode", "desil": "desil",
              "alasan": "alasan_nonaktif", "keputusan": "keputusan"}[group]
    acc: dict[str, tuple[set, set, set]] = {}
    for r in rows:
        if not in_scope(r["kelurahan_kode"], scope) or r["status"] == "dibatalkan":
            continue
        if periode and r["periode"] != periode:
            continue
        if agreed_only and r["keputusan"] != "disepakati":
            continue
        if statuses and r["status"] not in statuses:
            continue
        key = "" if r[column] is None else str(r[column])
        kk, nik, ids = acc.setdefault(key, (set(), set(), set()))
        kk.add(r["no_kk"])
        ids.add(r["id"])
        if r["nik"] is not None:
            nik.add(r["nik"])
    return {k: {"kk": len(kk), "jiwa": len(nik), "usulan": len(ids)} for k, (kk, nik, ids) in acc.items()}


def expected_rows(engine, scope: str, periode: str) -> list[dict]:
    with engine.connect() as conn:
        kel = conn.execute(sa.text("SELECT kode, nama, kode_induk FROM wilayah WHERE tingkat = 'kelurahan' "
                                   "AND kode LIKE :p ORDER BY kode"), {"p": scope + ".%"}).all()
        kec = dict(conn.execute(sa.text("SELECT kode, nama FROM wilayah WHERE tingkat = 'kecamatan'")).all())
        meeting = {}
        for kode, kind, status in conn.execute(sa.text(
                "SELECT kelurahan_kode, kind, status FROM musyawarah WHERE periode = :p ORDER BY id"),
                {"p": periode}):
            meeting[kode] = (kind, status)
        batch = dict(conn.execute(sa.text(
            "SELECT kelurahan_kode, state FROM batch WHERE periode = :p ORDER BY id"), {"p": periode}).all())
        flags = dict(conn.execute(sa.text("SELECT kelurahan_kode, COUNT(*) FROM flag WHERE status = 'open' "
                                          "GROUP BY kelurahan_kode")).all())
    counts = expected_counts(proposal_rows(engine), scope, periode, "kelurahan",
                             statuses=("diusulkan", "diteruskan", "disahkan"))
    out = []
    for kode, nama, induk in kel:
        kind, status = meeting.get(kode, (None, None))
        state = ("belum" if kind is None else "tidak_diadakan" if kind == "not_held"
                 else "ditutup" if status == "closed" else "berlangsung")
        c = counts.get(kode, {"kk": 0, "jiwa": 0})
        out.append({"kode": kode, "kelurahan": nama, "kecamatan": kec[induk], "musyawarah": state,
                    "status": batch.get(kode, "tanpa_pengajuan"), "kk": c["kk"], "jiwa": c["jiwa"],
                    "temuan": flags.get(kode, 0)})
    return out


def comparable(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("terlambat", "umur_hari")} for r in rows]


def members_of(engine, proposal_id: int) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text("SELECT nik FROM proposalmember WHERE proposal_id = :p"),
                                {"p": proposal_id}).scalars())


def with_session(engine, fn, *args, **kwargs):
    with db.session_scope(engine) as s:
        return fn(*args, session=s, **kwargs)


# ================================================================ 1. counts against independent computations

def test_proposal_counts_match_plain_sql(world):
    """Guards the one counting query every dashboard and the quarterly report use: per jenis, status,
    kelurahan, desil and reason, KK is distinct No KK and jiwa distinct NIK (a NIK in two kelurahan counts
    once), cancelled and not-agreed items never count — for the kota, both kecamatan and a kelurahan."""
    e, i = world.engine, world.items
    rows = proposal_rows(e)
    for scope in (KOTA, KEC, KEC_OTHER, K1, K2):
        for group in ("jenis", "status", "kelurahan", "desil", "alasan"):
            got = with_session(e, dashboard.proposal_counts, scope, PERIODE, group=group)
            assert got == expected_counts(rows, scope, PERIODE, group), (scope, group)
        got = with_session(e, dashboard.proposal_counts, scope, PERIODE, group="jenis", agreed_only=False)
        assert got == expected_counts(rows, scope, PERIODE, "jenis", agreed_only=False), scope
    # Known from the construction: Matraman's new families are a (2), b (3) and p (2, sharing NIK X with a).
    baru = with_session(e, dashboard.proposal_counts, KEC, PERIODE)["baru"]
    assert baru == {"kk": 3, "jiwa": 6, "usulan": 3}
    by_status = with_session(e, dashboard.proposal_counts, K1, PERIODE, group="status")
    assert {k: v["usulan"] for k, v in by_status.items()} == {"disahkan": 3, "dikembalikan": 1, "ditolak": 1}
    everything = with_session(e, dashboard.proposal_counts, K1, PERIODE, agreed_only=False)
    assert sum(v["usulan"] for v in everything.values()) == 7  # a–g; h was cancelled
    assert with_session(e, dashboard.proposal_counts, K3, PERIODE) == {}
    assert i["h"] not in {r["id"] for r in rows if r["status"] != "dibatalkan"}


def test_wilayah_rows_and_progress_match_plain_sql(world):
    """Guards the Camat's and Walikota's table: per kelurahan the musyawarah state, the batch state, the
    KK/jiwa of items still on their way or ratified, and open findings; and the progress toward the cut-off.
    """
    e, p = world.engine, world.people
    for actor, scope in ((p["camat"], KEC), (p["walikota"], KOTA), (p["camat_other"], KEC_OTHER)):
        rows = with_session(e, dashboard.wilayah_rows, scope, PERIODE, actor=actor)
        assert comparable(rows) == expected_rows(e, scope, PERIODE), scope
        for r in rows:
            assert r["terlambat"] is False
            assert (r["umur_hari"] is None) == (r["status"] == "tanpa_pengajuan")
        with e.connect() as conn:
            total = conn.execute(sa.text(
                "SELECT COUNT(*) FROM wilayah WHERE tingkat = 'kelurahan' AND kode LIKE :p"),
                {"p": scope + ".%"}).scalar_one()
            submitted = conn.execute(sa.text(
                "SELECT COUNT(*) FROM batch WHERE periode = :p AND kelurahan_kode LIKE :k "
                "AND state <> 'draft'"),
                {"p": PERIODE, "k": scope + ".%"}).scalar_one()
        prog = with_session(e, dashboard.progress, rows, PERIODE, KOTA)
        assert (prog["kelurahan"], prog["diajukan"]) == (total, submitted)
        assert prog["batas"] == date(int(PERIODE[:4]), int(PERIODE[5:]), 25)
    rows = {r["kode"]: r for r in with_session(e, dashboard.wilayah_rows, KEC, PERIODE, actor=p["camat"])}
    f1, f3 = members_of(e, world.items["c"]), members_of(e, world.items["e"])
    assert (rows[K1]["musyawarah"], rows[K1]["status"], rows[K1]["kk"], rows[K1]["jiwa"]) == \
        ("ditutup", "disahkan", 3, 2 + len(f1) + len(f3))  # a, c, e ratified; b returned, d rejected
    assert (rows[K2]["musyawarah"], rows[K2]["status"], rows[K2]["kk"], rows[K2]["jiwa"]) == \
        ("berlangsung", "tanpa_pengajuan", 1, 2)
    assert (rows[K3]["musyawarah"], rows[K3]["status"], rows[K3]["kk"]) == ("tidak_diadakan", "draft", 0)
    assert with_session(e, dashboard.progress, list(rows.values()), PERIODE, KOTA)["diajukan"] == 1


def test_duplicate_niks_counted_per_wilayah(world):
    """Guards the "NIK ganda" figure: NIK X is proposed in Kayu Manis, Palmeriam and Pulo Gadung, NIK Y in
    Kayu Manis and Pulo Gadung — Matraman sees one, Jakarta Timur two, a single kelurahan none."""
    e, p = world.engine, world.people
    with e.connect() as conn:
        def plain(scope):
            return conn.execute(sa.text(
                "SELECT COUNT(*) FROM (SELECT m.nik FROM proposalmember m "
                "JOIN proposal p ON p.id = m.proposal_id "
                "WHERE (p.kelurahan_kode = :s OR p.kelurahan_kode LIKE :like) AND p.periode = :per "
                "AND p.keputusan = 'disepakati' AND p.status <> 'dibatalkan' "
                "GROUP BY m.nik HAVING COUNT(*) > 1) t"),
                {"s": scope, "like": scope + ".%", "per": PERIODE}).scalar_one()
        expected = {KEC: plain(KEC), KOTA: plain(KOTA), K1: plain(K1), KEC_OTHER: plain(KEC_OTHER)}
    assert expected == {KEC: 1, KOTA: 2, K1: 0, KEC_OTHER: 0}
    for who, scope in (("camat", KEC), ("walikota", KOTA), ("lurah1", K1), ("camat_other", KEC_OTHER)):
        got = with_session(e, dashboard.duplicate_niks, scope, PERIODE, actor=p[who])
        assert got == expected[scope], scope
    assert with_session(e, dashboard.duplicate_niks, KOTA, OTHER_MONTH, actor=p["walikota"]) == 0


def test_ratified_by_program_and_desil(world):
    """Guards the Walikota's charts: only ratified items, per programme (from the item's JSON list) and per
    desil, with distinct KK and NIK."""
    e, p, i = world.engine, world.people, world.items
    rows = proposal_rows(e)
    programs: dict[str, tuple[set, set]] = {}
    for r in rows:
        if in_scope(r["kelurahan_kode"], KOTA) and r["periode"] == PERIODE and r["status"] == "disahkan":
            for prog in json.loads(r["programs"]):
                kk, nik = programs.setdefault(prog, (set(), set()))
                kk.add(r["no_kk"])
                nik.add(r["nik"])
    expected = {k: {"kk": len(kk), "jiwa": len(nik)} for k, (kk, nik) in sorted(programs.items())}
    for actor, scope in ((p["walikota"], KOTA), (p["camat"], KEC)):
        assert with_session(e, dashboard.ratified_by, scope, PERIODE, "program", actor=actor) == expected
        assert with_session(e, dashboard.ratified_by, scope, PERIODE, "desil", actor=actor) == \
            expected_counts(rows, scope, PERIODE, "desil", statuses=("disahkan",))
    f1 = members_of(e, i["c"])
    assert expected == {"BPNT/Sembako": {"kk": 1, "jiwa": len(f1)}, "PKH": {"kk": 2, "jiwa": 2 + len(f1)}}
    assert with_session(e, dashboard.ratified_by, KEC_OTHER, PERIODE, "program", actor=p["camat_other"]) == {}
    with e.connect() as conn:
        desil_f1, desil_f3 = (conn.execute(sa.text("SELECT desil FROM family WHERE id = :f"),
                                           {"f": world.families[k]}).scalar_one() for k in ("F1", "F3"))
    desil = with_session(e, dashboard.ratified_by, KOTA, PERIODE, "desil", actor=p["walikota"])
    assert sum(v["kk"] for v in desil.values()) == 3 and desil[""]["kk"] == 1  # a (new family, no desil)
    assert {str(desil_f1), str(desil_f3)} <= set(desil)


def test_kelurahan_panel_and_points(world):
    """Guards the kelurahan panel (decisions per type, batch state, returns) and the map points (only agreed
    proposals of families with a location, coloured by their batch's state)."""
    e, p = world.engine, world.people
    panel = with_session(e, dashboard.kelurahan_panel, K1, PERIODE, actor=p["lurah1"])
    with e.connect() as conn:
        decisions = Counter((j, k or "belum") for j, k in conn.execute(sa.text(
            "SELECT jenis, keputusan FROM proposal WHERE kelurahan_kode = :k AND periode = :p "
            "AND status <> 'dibatalkan'"), {"k": K1, "p": PERIODE}))
        returns = conn.execute(sa.text("SELECT COUNT(*) FROM proposal WHERE kelurahan_kode = :k "
                                       "AND status IN ('dikembalikan', 'ditolak')"), {"k": K1}).scalar_one()
    assert Counter({(d["jenis"], d["keputusan"]): d["usulan"] for d in panel["keputusan"]}) == decisions
    assert (panel["status"], panel["dikembalikan"], returns) == ("disahkan", 2, 2)
    assert panel["verifikasi"] == {"perlu": 0, "selesai": 0}  # nothing left to verify after submission
    open_panel = with_session(e, dashboard.kelurahan_panel, K2, PERIODE, actor=p["op2"])
    assert open_panel["status"] == "belum_ditutup"
    assert {(d["jenis"], d["keputusan"]) for d in open_panel["keputusan"]} == \
        {("baru", "disepakati"), ("baru", "belum")}
    untouched = with_session(e, dashboard.kelurahan_panel, "31.75.01.1006", PERIODE, actor=p["camat"])
    assert untouched["status"] == "belum_ada"
    points = with_session(e, dashboard.proposal_points, KOTA, PERIODE, actor=p["walikota"])
    assert [(pt["family_id"], pt["state"], pt["colour"]) for pt in points] == \
        [(world.families["F1"], "disahkan", dashboard.STATE_COLOUR["disahkan"])]
    assert with_session(e, dashboard.proposal_points, KEC_OTHER, PERIODE, actor=p["camat_other"]) == []


def test_points_leave_out_a_cancelled_proposal(engine, make_account):
    """Guards the map against an item taken off the agenda: every other figure ignores a cancelled
    (dibatalkan) proposal, so the map must too — even when it had been marked agreed before it was cancelled.
    """
    operator = make_account(engine, "op1.uji", "operator", K1)
    walikota = make_account(engine, "walikota.uji", "walikota", KOTA)
    with db.session_scope(engine) as s:
        register.import_extract(to_csv(generate(K1, 2, seed=31)), "dtsen.csv", K1, actor=operator, session=s)
    with engine.begin() as conn:
        family = conn.execute(sa.text("SELECT MIN(id) FROM family")).scalar_one()
        conn.execute(LOCATE, {"f": family})
    mid = open_meeting(engine, operator, K1)
    item = add_registered(engine, operator, mid, family, jenis="prioritas_program", programs=["PIP"])
    decide(engine, operator, {item: "disepakati"})
    with db.session_scope(engine) as s:
        proposals.cancel(item, "Salah input agenda", actor=operator, session=s)
    assert with_session(engine, dashboard.proposal_counts, KOTA, PERIODE) == {}  # the counts agree it is gone
    assert with_session(engine, dashboard.proposal_points, KOTA, PERIODE, actor=walikota) == []


# ================================================================ 2. scope

def test_camat_sees_only_his_kecamatan(world):
    """Guards the wilayah scope: the Camat of Matraman never counts Pulogadung's data and is refused when he
    asks for Pulogadung (or one of its kelurahan) by code."""
    e, p = world.engine, world.people
    rows = with_session(e, dashboard.wilayah_rows, KEC, PERIODE, actor=p["camat"])
    assert rows and all(r["kode"].startswith(KEC + ".") for r in rows)
    assert K4 not in {r["kode"] for r in rows}
    counts = with_session(e, dashboard.proposal_counts, KEC, PERIODE, group="kelurahan")
    assert set(counts) == {K1, K2}
    kota = with_session(e, dashboard.proposal_counts, KOTA, PERIODE, group="kelurahan")
    assert K4 in kota and kota[K4]["kk"] == 2
    for call in (lambda s: dashboard.wilayah_rows(KEC_OTHER, PERIODE, actor=p["camat"], session=s),
                 lambda s: dashboard.wilayah_rows(KOTA, PERIODE, actor=p["camat"], session=s),
                 lambda s: dashboard.kelurahan_panel(K4, PERIODE, actor=p["camat"], session=s),
                 lambda s: dashboard.duplicate_niks(KEC_OTHER, PERIODE, actor=p["camat"], session=s),
                 lambda s: dashboard.ratified_by(KEC_OTHER, PERIODE, "program", actor=p["camat"], session=s),
                 lambda s: dashboard.proposal_points(KEC_OTHER, PERIODE, actor=p["camat"], session=s),
                 lambda s: dashboard.kelurahan_panel(K1, PERIODE, actor=p["op2"], session=s)):
        with pytest.raises(AccessDenied), db.session_scope(e) as s:
            call(s)


def test_auditor_panel_requires_an_auditor_and_matches_sql(world):
    """Guards the auditor's home: nobody else gets it; activity per day, the batch returns and the item
    returns and rejections agree with the audit log and the proposals."""
    e, p = world.engine, world.people
    for who in ("camat", "walikota", "lurah1", "op1"):
        with pytest.raises(AccessDenied):
            with_session(e, dashboard.auditor_panel, p[who].wilayah_kode, actor=p[who])
    with pytest.raises(AccessDenied):
        with_session(e, dashboard.auditor_panel, "31.71", actor=p["auditor"])  # another kota
    panel = with_session(e, dashboard.auditor_panel, KOTA, actor=p["auditor"])
    since = utcnow() - timedelta(days=60)
    with e.connect() as conn:
        entries = conn.execute(sa.text("SELECT COUNT(*) FROM auditentry WHERE (wilayah_kode = :k "
                                       "OR wilayah_kode LIKE :like) AND created_at >= :since"),
                               {"k": KOTA, "like": KOTA + ".%", "since": since}).scalar_one()
        returns = conn.execute(sa.text(
            "SELECT e.action, e.reason, b.kelurahan_kode FROM batchevent e JOIN batch b ON b.id = e.batch_id "
            "WHERE e.action IN ('kembalikan', 'kembalikan_ke_camat', 'tolak') ORDER BY e.id DESC")).all()
        items = Counter((k, level, status, reason) for k, level, status, reason in conn.execute(sa.text(
            "SELECT kelurahan_kode, status_level, status, status_reason FROM proposal "
            "WHERE status IN ('dikembalikan', 'ditolak')")))
    assert sum(a["entri"] for a in panel["aktivitas"]) == entries > 0
    assert [(r["tindakan"], r["alasan"], r["kelurahan"]) for r in panel["pengembalian"]] == \
        [tuple(r) for r in returns] == [("kembalikan_ke_camat", BACK, K1)]
    assert Counter({(r["kelurahan"], r["tingkat"], r["status"], r["alasan"]): r["jumlah"]
                    for r in panel["pengembalian_usulan"]}) == items == \
        Counter({(K1, "camat", "dikembalikan", RETURN): 1, (K1, "walikota", "ditolak", REJECT): 1})
    assert panel["verifikasi_terakhir"] is None


# ================================================================ 3. the quarterly report

def expected_figures(engine) -> dict:
    rows = proposal_rows(engine)
    jenis, status = defaultdict(Counter), defaultdict(Counter)
    for month in MONTHS:  # the report adds up the months
        for key, v in expected_counts(rows, KEC, month, "jenis").items():
            jenis[key].update(v)
        for key, v in expected_counts(rows, KEC, month, "status").items():
            status[key].update(v)
    programs = Counter()
    for pid in {r["id"] for r in rows if in_scope(r["kelurahan_kode"], KEC) and r["periode"] in MONTHS
                and r["keputusan"] == "disepakati" and r["status"] != "dibatalkan"}:
        programs.update(json.loads(next(r["programs"] for r in rows if r["id"] == pid)))
    with engine.connect() as conn:
        kel = conn.execute(sa.text("SELECT kode, nama FROM wilayah WHERE tingkat = 'kelurahan' "
                                   "AND kode LIKE :p ORDER BY kode"), {"p": KEC + ".%"}).all()
        held = {(k, per): ("tidak" if kind == "not_held" else "ya" if st == "closed" else "berlangsung")
                for k, per, kind, st in conn.execute(sa.text(
                    "SELECT kelurahan_kode, periode, kind, status FROM musyawarah ORDER BY id"))}
    return {"jenis": {k: dict(v) for k, v in jenis.items()},
            "status": {k: dict(v) for k, v in status.items()},
            "program": dict(sorted(programs.items())),
            "kelurahan": [{"kecamatan": "Matraman", "kelurahan": nama, "kode": kode,
                           **{m: held.get((kode, m), "belum") for m in MONTHS}} for kode, nama in kel]}


def test_quarterly_figures_match_independent_counts(world):
    """Guards the laporan triwulan's numbers: musyawarah per kelurahan and month, proposals per type and
    state, programmes, and returns with reasons — for the quarter, against counts made here."""
    e = world.engine
    with db.session_scope(e) as s:
        f = quarterly.figures(KEC, TAHUN, TRIWULAN, s)
    expected = expected_figures(e)
    assert f["periods"] == MONTHS
    assert f["kelurahan"] == expected["kelurahan"]
    by_code = {r["kode"]: r for r in f["kelurahan"]}
    assert (by_code[K1][PERIODE], by_code[K2][PERIODE], by_code[K2][OTHER_MONTH], by_code[K3][PERIODE]) == \
        ("ya", "berlangsung", "tidak", "tidak")
    assert f["jenis"] == expected["jenis"] and f["status"] == expected["status"]
    assert f["program"] == expected["program"] == {"BPNT/Sembako": 1, "PKH": 4}  # a, b, c, p
    assert f["alasan"] == {"meninggal": {"kk": 1, "jiwa": 1, "usulan": 1}}
    reasons = sorted((r["status"], r["tingkat"], r["alasan"], r["usulan"]) for r in f["alasan_pengembalian"])
    assert reasons == [("dikembalikan", "camat", RETURN, 1), ("ditolak", "walikota", REJECT, 1)]
    assert (f["keluarga_diverifikasi"], f["temuan_foto"], f["kandidat"]) == (0, {}, {})
    with db.session_scope(e) as s:  # nothing of Pulogadung in Matraman's report, and the kota adds both
        kota = quarterly.figures(KOTA, TAHUN, TRIWULAN, s)
    assert kota["jenis"]["prioritas_program"]["kk"] == f["jenis"]["prioritas_program"]["kk"] + 1
    with pytest.raises(InvalidInput):
        quarterly.months(TAHUN, 5)


def pdf_text(data: bytes, tmp_path: Path, name: str) -> tuple[str, int]:
    path = tmp_path / name
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return text, pages


def watermark(data: bytes, tmp_path: Path) -> list[str]:
    """Per page, the glyphs taller than 50 pt, left to right: ``pdftotext -layout`` scatters a rotated word
    over the lines, ``-bbox`` gives each glyph's box."""
    path = tmp_path / "watermark.pdf"
    path.write_bytes(data)
    xhtml = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True,
                           check=True).stdout
    out = []
    for page in re.findall(r"<page .*?</page>", xhtml, flags=re.DOTALL):
        words = [(float(x0), word) for x0, y0, y1, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', page)
            if float(y1) - float(y0) > 50]
        out.append("".join(word for _, word in sorted(words)))
    return out


def test_quarterly_pdf_and_xlsx_show_the_same_figures(world, tmp_path):
    """Guards the documents of the quarter: the draft says DRAFT and has no number; the Camat's final shows
    the per-type KK/jiwa, every kelurahan with its musyawarah per month, the number and "Halaman 1 dari N",
    and verifies as valid; the XLSX (read with calamine, not openpyxl) carries the same figures; a lurah may
    not finalise it."""
    from python_calamine import CalamineWorkbook

    e, p = world.engine, world.people
    key = {"kode": KEC, "tahun": TAHUN, "triwulan": TRIWULAN}
    expected = expected_figures(e)
    with db.session_scope(e) as s:
        draft = documents.draft("laporan_triwulan", key, actor=p["camat"], session=s)
    draft_text, draft_pages = pdf_text(draft, tmp_path, "draft.pdf")
    assert watermark(draft, tmp_path) == ["DRAFT"] * draft_pages
    assert draft_text.count("DRAF — belum bernomor, belum sah") == draft_pages
    assert "(diberikan saat difinalkan)" in draft_text
    with pytest.raises(AccessDenied), db.session_scope(e) as s:
        documents.finalise("laporan_triwulan", key, actor=p["lurah1"], session=s)
    with pytest.raises(AccessDenied), db.session_scope(e) as s:
        documents.finalise("laporan_triwulan", key, actor=p["camat_other"], session=s)
    with db.session_scope(e) as s:
        doc = documents.finalise("laporan_triwulan", key, actor=p["camat"], session=s)
    with db.session_scope(e) as s:
        final, _, _ = documents.download(doc["id"], actor=p["camat"], session=s)
    assert hashlib.sha256(final).hexdigest() == doc["sha256"]
    text, pages = pdf_text(final, tmp_path, "final.pdf")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert watermark(final, tmp_path) == [""] * pages and "DRAF" not in text
    assert doc["nomor"] and doc["nomor"] in " ".join(lines)
    assert f"Halaman 1 dari {pages}" in " ".join(lines)
    for key_, label in JENIS.items():
        v = expected["jenis"].get(key_, {"usulan": 0, "kk": 0, "jiwa": 0})
        assert f"{label} {v['usulan']} {v['kk']} {v['jiwa']}" in lines, (label, v)
    for r in expected["kelurahan"]:
        row = f"{r['kelurahan']} " + " ".join(r[m] for m in MONTHS)
        assert any(row in line for line in lines), row
    with db.session_scope(e) as s:
        assert doc_verify.by_pdf(final, session=s)["status"] == "valid"
        assert doc_verify.by_pdf(draft, session=s)["status"] == "draft"

    with db.session_scope(e) as s:
        data = quarterly.xlsx(KEC, TAHUN, TRIWULAN, actor=p["camat"], session=s)
    path = tmp_path / "laporan.xlsx"
    path.write_bytes(data)
    book = CalamineWorkbook.from_path(str(path))
    jenis_sheet = book.get_sheet_by_name("Usulan per jenis").to_python()
    assert jenis_sheet[0] == ["Jenis", "Usulan", "KK", "Jiwa"]
    got = {row[0]: [int(x) for x in row[1:4]] for row in jenis_sheet[1:]}
    assert got == {label: [expected["jenis"].get(k, {}).get(f, 0) for f in ("usulan", "kk", "jiwa")]
                   for k, label in JENIS.items()}
    musyawarah = book.get_sheet_by_name("Musyawarah").to_python()
    assert musyawarah[0] == ["Kecamatan", "Kelurahan", "Kode", *MONTHS]
    assert musyawarah[1:] == [[r["kecamatan"], r["kelurahan"], r["kode"], *[r[m] for m in MONTHS]]
                              for r in expected["kelurahan"]]
    programs = book.get_sheet_by_name("Program").to_python()
    assert {row[0]: int(row[1]) for row in programs[1:]} == expected["program"]
    with pytest.raises(AccessDenied), db.session_scope(e) as s:
        quarterly.xlsx(KEC, TAHUN, TRIWULAN, actor=p["lurah1"], session=s)


def muskel(engine, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MUSKEL_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    return subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120, check=False)


def test_cli_report_triwulan_registers_once(world, tmp_path, monkeypatch, capsys):
    """Guards `muskel report triwulan`: the PDF it writes is the registered final (same SHA-256); a second
    call returns that same document (sudah_ada); a quarter 5 is a usage error (2) and a lurah is refused (3).
    """
    e = world.engine
    base = ["report", "triwulan", "--wilayah", KEC, "--tahun", str(TAHUN), "--triwulan", str(TRIWULAN)]
    first = muskel(e, *base, "--as", "camat.uji", "--out", str(tmp_path / "a.pdf"), "--json")
    assert first.returncode == 0, first.stderr
    one = json.loads(first.stdout)
    with e.connect() as conn:
        registered = conn.execute(sa.text("SELECT nomor, sha256, verification_code FROM document "
                                          "WHERE doc_type = 'laporan_triwulan' AND status = 'final'")).all()
    assert registered == [(one["nomor"], one["sha256"], one["kode"])]
    assert hashlib.sha256((tmp_path / "a.pdf").read_bytes()).hexdigest() == one["sha256"]
    assert one["sudah_ada"] is False
    second = muskel(e, *base, "--as", "camat.uji", "--out", str(tmp_path / "b.pdf"), "--json")
    assert second.returncode == 0, second.stderr
    two = json.loads(second.stdout)
    assert two["sudah_ada"] is True and (two["nomor"], two["sha256"]) == (one["nomor"], one["sha256"])
    assert (tmp_path / "b.pdf").read_bytes() == (tmp_path / "a.pdf").read_bytes()
    # The refusals run in-process (same argparse and handler as the subprocess; a new interpreter costs ~4 s).
    monkeypatch.setenv("MUSKEL_DATABASE_URL", e.url.render_as_string(hide_password=False))
    with pytest.raises(SystemExit) as usage:
        cli.main(["report", "triwulan", "--wilayah", KEC, "--tahun", str(TAHUN), "--triwulan", "5",
                  "--as", "camat.uji", "--out", str(tmp_path / "c.pdf")])
    assert usage.value.code == 2 and not (tmp_path / "c.pdf").exists()
    assert "invalid choice" in capsys.readouterr().err
    assert cli.main([*base, "--as", "lurah1.uji", "--out", str(tmp_path / "d.pdf"), "--json"]) == 3
    assert not (tmp_path / "d.pdf").exists()
    assert json.loads(capsys.readouterr().out)["ok"] is False
    with e.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM document WHERE doc_type = 'laporan_triwulan'")
                            ).scalar_one() == 1
