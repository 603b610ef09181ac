"""The kota's dashboards and its quarterly report over a full quarter of a whole kota (Jakarta Timur, 31.75).

Data: the 65 kelurahan of the kota with a 1,000,000-person DTSEN register (Family/Person spread over the 65
kelurahan, bulk-loaded as bench_register does), and 20,000 proposals (≈ 3.3 members each) over the quarter's
three months: one musyawarah per kelurahan and month, their batches in mixed states (draft, diajukan,
diteruskan, disahkan, dikembalikan; a few not-held statements and meetings still open), items returned or
rejected with reasons (stock phrases and free text), NIKs proposed in two kelurahan, open and resolved flags,
field visits (most finished) with 2–3 photos each whose evidence flags are sometimes set, and the
exclusion/inclusion hints the visits leave. Everything is inserted in bulk in the shape the services give it.

1. The Walikota's home (Home.py → pages/beranda.py in streamlit.testing.v1.AppTest, the login seeded into
   session state as tests/app/conftest.py does, the quarter's last month typed into the period field):
   server-side script time (the script thread of the run, Home.py and the page) — median of repeated runs
   after a warm-up, target ≤ 500 ms — against the baseline measured in the same run: the same queries run
   bare (``core.dashboard.wilayah_rows`` + ``progress`` + ``duplicate_niks`` + ``ratified_by`` programme and
   desil in one ``session_scope``). The Camat's home for one kecamatan likewise (baseline ``wilayah_rows`` +
   ``proposal_points``). ``home.overview`` + ``batch_views.inbox`` (the rest of what the page reads) are timed
   alone beside them.
2. The kota's laporan triwulan as a draft PDF: ``core.documents.draft("laporan_triwulan", …)`` in one
   ``session_scope`` (the audit entry and commit included), target ≤ 5 s, against the bare baseline
   ``core.quarterly.figures(...)`` alone; ``doc_assembly.laporan_triwulan_doc`` (figures + content, no PDF) is
   timed beside them.

Wall time decides; this process's CPU time is printed beside it. A target missed prints a cProfile summary of
one more run. Data goes to a fresh temporary MUSKEL_DATA_DIR (removed afterwards); on PostgreSQL to a database
of its own (``muskel_bench_dashboard``) on the URL's server, analysed after loading (as autovacuum would),
dropped afterwards.
Run: python -m bench.bench_dashboard [POSTGRES_URL]
"""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from bench.bench_register import _plain_insert, _plain_rows, _register_import, _renumber
from bench.bench_workflow import _hold_no_pages_directory, _profile
from bench.common import drop_database, own_database, report
from core import accounts, batch_views, dashboard, db, demo_register, documents, home, quarterly, setup
from core import doc_assembly as da
from core.access import SYSTEM_ACTOR
from core.config import Settings
from core.models import Assignment, Batch, BatchEvent, Family, Flag, Musyawarah, Proposal, ProposalMember, \
    StoredFile, Visit, VisitPhoto, Wilayah
from core.timefmt import WIB, utcnow

KOTA = "31.75"
KECAMATAN = "31.75.01"  # Matraman: the Camat whose home is measured
KELURAHAN = 65
PERSONS = 1_000_000
BASE_FAMILIES = 4_800  # one generated extract (≈ 15,800 persons), renumbered into every kelurahan
PROPOSALS = 20_000
SCREEN_RUNS = 8  # per screen and baseline, in two rounds of opposite order, after a warm-up
DOC_RUNS = 5
SCREEN_TARGET_SECONDS = 0.500
DOC_TARGET_SECONDS = 5.0
BENCH_DATABASE = "muskel_bench_dashboard"
PASSWORD = "bench-password-1"
PAGE = "pages/beranda.py"
PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Batch states, cycled over kelurahan and months (so every month holds every state).
BATCH_STATES = ["disahkan"] * 5 + ["diteruskan"] * 3 + ["diajukan"] * 2 + ["dikembalikan"] + ["draft"] * 2
JENIS_WEIGHTS = {"baru": 55, "perbaikan": 15, "nonaktif": 15, "prioritas_program": 15}
PROGRAMS = [["PKH"], ["PKH", "PBI-JK"], ["BPNT/Sembako"], ["PKH", "Sekolah Rakyat"], ["PBI-JK"],
            ["BPNT/Sembako", "PBI-JK"], ["Sekolah Rakyat"]]
NONAKTIF = ["meninggal", "pindah_dalam_negeri", "mampu", "data_ganda"]
SUMBER = ["musyawarah", "cek_bansos", "pksp", "sdm_pkh", "walk_in"]
STOCK_REASONS = ["NIK kepala keluarga tidak cocok dengan KK", "Foto rumah tidak sesuai alamat",
                 "Keluarga sudah menerima bantuan serupa", "Dokumen pendukung belum lengkap",
                 "Domisili belum dipastikan (terdaftar di kelurahan lain)",
                 "Hasil verifikasi lapangan: mampu"]
PHOTO_FLAGS = ["gps_missing", "time_missing", "edited", "gps_far_from_family", "dup_near",
               "time_far_from_visit"]
NAMES_M = ["AGUS", "BUDI", "HENDRA", "JOKO", "RAHMAT", "ANDI", "EKO", "FAJAR", "HASAN", "YUSUF"]
NAMES_F = ["SITI", "SRI", "DEWI", "RINA", "ANI", "WATI", "YUNI", "FITRI", "RATNA", "SARI"]
SURNAMES = ["RAHAYU", "SAPUTRA", "LESTARI", "HIDAYAT", "SUSANTI", "PRATAMA", "WULANDARI", "SETIAWAN"]


# --- databases and environment --------------------------------------------------------------------------


def main(url: str | None = None) -> None:
    saved = {k: os.environ.get(k) for k in ("MUSKEL_DATA_DIR", "MUSKEL_DATABASE_URL")}
    root = Path(tempfile.mkdtemp(prefix="muskel-bench-dashboard-"))
    own = own_database(url, BENCH_DATABASE) if url else f"sqlite:///{root / 'bench.db'}"
    # The pages open their sessions on the engine of the environment's URL: point it at this run's database.
    os.environ["MUSKEL_DATA_DIR"], os.environ["MUSKEL_DATABASE_URL"] = str(root), own
    db.get_engine.cache_clear()
    try:
        _run(own, root)
    finally:
        for engine in (db.get_engine(own), db.get_engine()):
            engine.dispose()
        db.get_engine.cache_clear()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if url:
            drop_database(url, BENCH_DATABASE)
        shutil.rmtree(root, ignore_errors=True)  # the SQLite file (≈ 330 MB) and the stored files


# --- data: the register ----------------------------------------------------------------------------------


def _kelurahan(engine) -> list[str]:
    with db.session_scope(engine) as s:
        codes = list(s.exec(select(Wilayah.kode).order_by(Wilayah.kode)
                            .where(Wilayah.kode.like(KOTA + ".%"), Wilayah.tingkat == "kelurahan")))
    assert len(codes) == KELURAHAN, len(codes)
    return codes


def _build_register(engine, codes: list[str], rng: random.Random) -> dict[str, list[dict]]:
    """≈ PERSONS persons over the kelurahan; returns, per kelurahan, a sample of families (id, KK, desil,
    members) for the proposals that concern registered families."""
    base = demo_register.generate(codes[0], BASE_FAMILIES, seed=75)
    per_kecamatan: dict[str, int] = {}
    loaded = 0
    sample: dict[str, list[dict]] = {}
    for i, kel in enumerate(codes):
        kec = kel.rsplit(".", 1)[0]
        n_in_kec = per_kecamatan.get(kec, 0)
        per_kecamatan[kec] = n_in_kec + 1
        frame = _renumber(base, kel, offset=100 * (n_in_kec + 1))
        quota = PERSONS * (i + 1) // len(codes) - loaded
        fits = frame.groupby("No KK", sort=False).size().cumsum() <= quota
        frame = frame[frame["No KK"].isin(fits[fits].index)]
        families, persons = _plain_rows(frame, engine, kel, _register_import(engine, kel))
        _plain_insert(engine, kel, families, persons, copy=True)
        loaded += len(persons)
        # A sample of whole families for the proposals (their ids are read back below).
        chosen = set(rng.sample(sorted(set(frame["No KK"])), 450))
        part = frame[frame["No KK"].isin(chosen)]
        by_kk: dict[str, dict] = {}
        for kk, nik, nama, jk, born, hub, desil, alamat, rt, rw in zip(
                part["No KK"], part["NIK"], part["Nama"], part["Jenis Kelamin"], part["Tanggal Lahir"],
                part["Hubungan Keluarga"], part["Desil"], part["Alamat"], part["RT"], part["RW"]):
            fam = by_kk.setdefault(kk, {"no_kk": kk, "desil": int(desil), "alamat": alamat, "rt": rt,
                                        "rw": rw, "members": []})
            d, m, y = (int(x) for x in born.split("/"))
            fam["members"].append({"nik": nik, "nama": nama, "jenis_kelamin": jk,
                                   "tanggal_lahir": date(y, m, d), "hubungan": hub})
        sample[kel] = list(by_kk.values())
    with engine.connect() as conn:
        ids = {(k, kk): fid for k, kk, fid in conn.execute(
            sa.select(Family.kelurahan_kode, Family.no_kk, Family.id)
            .where(Family.kelurahan_kode.like(KOTA + ".%")))}
    for kel, fams in sample.items():
        for fam in fams:
            fam["id"] = ids[(kel, fam["no_kk"])]
        rng.shuffle(fams)
    return sample


# --- data: the quarter -----------------------------------------------------------------------------------


def _at(day: date, hour: int = 10) -> datetime:
    """A WIB office hour of ``day`` as an aware UTC datetime."""
    return datetime.combine(day, dtime(hour), WIB).astimezone(timezone.utc)


def _nik(rng: random.Random, kel: str, female: bool) -> str:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 70 * 365))
    return demo_register.nik_for(kel.replace(".", "")[:6], born, female, rng.randrange(5000, 10000))


def _bulk_ids(s, model, rows: list[dict]) -> list[int]:
    """INSERT of many rows, their ids back in the order given."""
    if not rows:
        return []
    result = s.execute(sa.insert(model).returning(model.id, sort_by_parameter_order=True), rows)
    return [r[0] for r in result]


def _build_quarter(engine, codes: list[str], families: dict[str, list[dict]], periods: list[str],
                   rng: random.Random, creator: str) -> dict:
    """Meetings, batches, proposals with members, flags, visits with photos and events for the quarter."""
    stats = {"proposals": 0, "members": 0, "batches": {}, "returned": 0, "visits": 0, "photos": 0, "flags": 0,
             "duplicates": 0}
    slots = [(mi, p, k, kel) for mi, p in enumerate(periods) for k, kel in enumerate(codes)]
    # Which slots have no agenda: a statement that no musyawarah was held (2 a month), and in the last month
    # three meetings still open (no batch yet, items undecided).
    not_held = {(mi, k) for mi in range(3) for k in ((7 * mi + 11) % KELURAHAN, (7 * mi + 40) % KELURAHAN)}
    still_open = {(2, k) for k in (5, 23, 51)}
    weights = [0.0 if (mi, k) in not_held else rng.uniform(0.5, 1.5) for mi, _, k, _ in slots]
    scale = PROPOSALS / sum(weights)
    sizes = [int(w * scale) for w in weights]
    for i in rng.sample([i for i, w in enumerate(weights) if w], PROPOSALS - sum(sizes)):
        sizes[i] += 1
    used_families = {kel: 0 for kel in codes}
    period_niks: dict[str, list[tuple[str, str]]] = {p: [] for p in periods}
    now = utcnow()
    for (mi, p, k, kel), n_items in zip(slots, sizes):
        year, month = int(p[:4]), int(p[5:])
        tanggal = date(year, month, 8 + (k % 12))
        kind = "not_held" if (mi, k) in not_held else "held"
        status = "draft" if (mi, k) in still_open else "closed"
        state = BATCH_STATES[(5 * k + 3 * mi) % len(BATCH_STATES)]
        with db.session_scope(engine) as s:
            closed = status == "closed"
            meeting = Musyawarah(kelurahan_kode=kel, periode=p, kind=kind, status=status,
                                 tanggal=tanggal if kind == "held" else None, jam_mulai="09.00",
                                 jam_selesai="12.00" if closed else "", tempat="Aula kantor kelurahan",
                                 ketua="Lurah", notulis="Notulis",
                                 not_held_reason="Tidak ada usulan bulan ini" if kind == "not_held" else "",
                                 closed_by=creator if closed else "",
                                 closed_at=_at(tanggal, 12) if closed else None,
                                 created_by=creator, created_at=_at(tanggal, 8), updated_at=_at(tanggal, 12),
                                 version=3)
            s.add(meeting)
            s.flush()
            mid = meeting.id
            batch = None
            if status == "closed":
                submitted = tanggal + timedelta(days=3 + k % 20) if state != "draft" else None
                changed = (submitted + timedelta(days=2 + k % 5)) if submitted else tanggal
                batch = Batch(kelurahan_kode=kel, periode=p, musyawarah_id=mid, state=state,
                              revision=2 if state == "dikembalikan" and k % 2 else 1,
                              late=bool(submitted and submitted.day > 25), created_at=_at(tanggal, 13),
                              submitted_at=_at(submitted) if submitted else None,
                              state_changed_at=_at(changed), version=4)
                s.add(batch)
                s.flush()
                stats["batches"][state] = stats["batches"].get(state, 0) + 1
                events = _events(batch, state, submitted, changed)
                if events:
                    s.execute(sa.insert(BatchEvent), events)
            if not n_items:
                continue
            rows, members, extra = [], [], []
            for n in range(n_items):
                jenis = rng.choices(list(JENIS_WEIGHTS), weights=list(JENIS_WEIGHTS.values()))[0]
                fam = None
                if jenis != "baru" and used_families[kel] < len(families[kel]):
                    fam = families[kel][used_families[kel]]
                    used_families[kel] += 1
                elif jenis != "baru":
                    jenis = "baru"
                alasan_nonaktif = rng.choice(NONAKTIF) if jenis == "nonaktif" else ""
                if fam is not None:
                    people = [dict(m) for m in fam["members"]]
                    if jenis == "nonaktif" and alasan_nonaktif == "meninggal":
                        people = people[:1]
                    kk, head, desil = fam["no_kk"], fam["members"][0]["nama"], fam["desil"]
                    alamat, rt, rw = fam["alamat"], fam["rt"], fam["rw"]
                else:
                    size = rng.choices([1, 2, 3, 4, 5, 6], weights=[10, 16, 24, 24, 16, 10])[0]
                    surname = rng.choice(SURNAMES)
                    people = []
                    for j in range(size):
                        female = j == 1 or (j > 1 and rng.random() < 0.5)
                        people.append({"nik": _nik(rng, kel, female),
                                       "nama": f"{rng.choice(NAMES_F if female else NAMES_M)} {surname}",
                                       "jenis_kelamin": "P" if female else "L",
                                       "tanggal_lahir": date(1950 + rng.randrange(60), rng.randint(1, 12),
                                                             rng.randint(1, 28)),
                                       "hubungan": ["KEPALA KELUARGA", "ISTRI"][j] if j < 2 else "ANAK"})
                    # Some persons are proposed in two kelurahan the same month (dashboard: NIK ganda).
                    others = [x for x in period_niks[p][-400:] if x[1] != kel]
                    if rng.random() < 0.015 and others:
                        people[-1]["nik"] = rng.choice(others)[0]
                        stats["duplicates"] += 1
                    kk = f"{kel.replace('.', '')[:6]}{rng.randrange(10 ** 9, 10 ** 10)}"
                    head, desil = people[0]["nama"], None
                    alamat = f"Jl. Bench Raya No. {n % 200 + 1}"
                    rt, rw = f"{n % 12 + 1:03d}", f"{n % 8 + 1:03d}"
                period_niks[p].extend((m["nik"], kel) for m in people)
                keputusan = "" if status == "draft" else rng.choices(
                    ["disepakati", "tidak_disepakati", "ditunda"], weights=[90, 5, 5])[0]
                item_status, level, reason = _item_state(state if batch else "draft", keputusan, rng, n)
                stats["returned"] += item_status in ("dikembalikan", "ditolak")
                rows.append({"uuid": str(uuid.uuid4()), "musyawarah_id": mid, "kelurahan_kode": kel,
                             "periode": p, "urutan": n + 1, "family_id": fam["id"] if fam else None,
                             "no_kk": kk,
                             "nama_kepala": head, "alamat": alamat, "rt": rt, "rw": rw, "desil": desil,
                             "jenis": jenis, "alasan_nonaktif": alasan_nonaktif,
                             "programs": json.dumps(rng.choice(PROGRAMS)
                                                    if jenis in ("baru", "prioritas_program") else []),
                             "sumber": rng.choice(SUMBER), "alasan": "Usulan RW",
                             "perubahan": json.dumps([{"field": "rt", "lama": "001", "baru": "002"}]
                                                     if jenis == "perbaikan" else []),
                             "keputusan": keputusan, "catatan_keputusan": "", "status": item_status,
                             "status_reason": reason, "origin_id": None, "status_level": level,
                             "verification_waiver": "Sudah dikenal RT" if jenis == "nonaktif" else "",
                             "created_by": creator, "created_at": _at(tanggal, 9), "updated_at": now,
                             "version": 2})
                members.append(people)
                extra.append(fam)
            ids = _bulk_ids(s, Proposal, rows)
            s.execute(sa.insert(ProposalMember), [{"proposal_id": pid, **m}
                                                  for pid, people in zip(ids, members) for m in people])
            stats["proposals"] += len(rows)
            stats["members"] += sum(len(m) for m in members)
            stats["flags"] += _proposal_flags(s, kel, tanggal, rows, ids, extra, rng)
            v, ph, fl = _visits(s, kel, tanggal, rows, ids, extra, rng, creator)
            stats["visits"] += v
            stats["photos"] += ph
            stats["flags"] += fl
    with db.session_scope(engine) as s:
        stats["flags"] += _register_flags(s, codes, periods, families, rng)
    return stats


def _events(batch: Batch, state: str, submitted: date | None, changed: date) -> list[dict]:
    out = []
    if submitted is None:
        return out

    def event(action, before, after, day, role, reason=""):
        out.append({"batch_id": batch.id, "revision": batch.revision, "action": action, "from_state": before,
                    "to_state": after, "actor_username": f"{role}.bench", "actor_role": role,
                    "reason": reason, "details": "{}", "at": _at(day)})

    event("ajukan", "draft", "diajukan", submitted, "lurah")
    if state == "dikembalikan":
        event("kembalikan", "diajukan", "dikembalikan", changed, "camat",
              "Berita Acara belum ditandatangani ketua")
    if state in ("diteruskan", "disahkan"):
        event("teruskan", "diajukan", "diteruskan", changed - timedelta(days=1), "camat")
    if state == "disahkan":
        event("sahkan", "diteruskan", "disahkan", changed, "walikota")
    return out


def _item_state(state: str, keputusan: str, rng: random.Random, n: int) -> tuple[str, str, str]:
    """(status, status_level, status_reason) of an item in a batch of ``state``."""
    if keputusan != "disepakati" or state in ("draft", "diajukan", "dikembalikan"):
        return "diusulkan", "", ""

    def why() -> str:
        if rng.random() < 0.5:
            return rng.choice(STOCK_REASONS)  # a stock phrase, or free text naming the item
        return (f"Usulan nomor {n + 1}: {rng.choice(STOCK_REASONS).lower()}, mohon dilengkapi "
                f"(ref {rng.randrange(10 ** 6)})")

    roll = rng.random()
    if roll < 0.03:
        return "dikembalikan", "camat", why()
    if state == "diteruskan":
        return "diteruskan", "", ""
    if roll < 0.05:
        return "dikembalikan", "walikota", why()
    if roll < 0.06:
        return "ditolak", "walikota", why()
    return "disahkan", "", ""


def _proposal_flags(s, kel: str, tanggal: date, rows: list[dict], ids: list[int], fams: list, rng) -> int:
    flags = []
    for row, pid, fam in zip(rows, ids, fams):
        if rng.random() >= 0.05:
            continue
        code = rng.choice(["dup_proposal", "dup_other_kelurahan", "nik_birthdate_mismatch", "nik_in_two_kk"])
        blocking = code == "nik_in_two_kk"
        resolved = rng.random() < 0.4
        flags.append({"uuid": str(uuid.uuid4()), "code": code,
                      "severity": "blocking" if blocking else "warning",
                      "kelurahan_kode": kel, "family_id": fam["id"] if fam else None, "proposal_id": pid,
                      "nik": "", "message": f"Temuan {code} (bench)", "source": "proposal",
                      "status": "resolved" if resolved else "open",
                      "resolved_by": "lurah.bench" if resolved else "",
                      "resolution_note": "Domisili dipastikan" if resolved else "",
                      "created_at": _at(tanggal, 9), "resolved_at": _at(tanggal, 11) if resolved else None})
    if flags:
        s.execute(sa.insert(Flag), flags)
    return len(flags)


def _visits(s, kel: str, tanggal: date, rows: list[dict], ids: list[int], fams: list, rng,
            creator: str) -> tuple[int, int, int]:
    """Assignments for ~35 % of the agreed items; most visits finished, with 2–3 photos; the visits' hints."""
    chosen = [(row, pid, fam) for row, pid, fam in zip(rows, ids, fams)
              if row["keputusan"] == "disepakati" and rng.random() < 0.35]
    if not chosen:
        return 0, 0, 0
    officer = f"petugas.{kel.replace('.', '')}"
    days = [tanggal - timedelta(days=rng.randrange(1, 7)) for _ in chosen]
    finished = [rng.random() < 0.85 for _ in chosen]
    assignment_ids = _bulk_ids(s, Assignment, [
        {"uuid": str(uuid.uuid4()), "kelurahan_kode": kel, "family_id": fam["id"] if fam else None,
         "proposal_id": pid, "no_kk": row["no_kk"], "officer": officer, "assigned_by": creator,
         "assigned_at": _at(day - timedelta(days=3)), "status": "selesai" if done else "ditugaskan"}
        for (row, pid, fam), day, done in zip(chosen, days, finished)])
    visit_rows = []
    for aid, (row, pid, fam), day, done in zip(assignment_ids, chosen, days, finished):
        criteria = sorted(rng.sample(range(1, 15), rng.randrange(0, 12)))
        visit_rows.append({"uuid": str(uuid.uuid4()), "assignment_id": aid, "officer": officer,
                           "tanggal": day, "hasil": "ditemukan",
                           "kondisi": json.dumps({"lantai": "semen", "aset": []}),
                           "kriteria_bps": json.dumps(criteria), "anggota_hadir": 2, "status_nik": "{}",
                           "rekomendasi": "layak" if len(criteria) >= 9 else "perlu_dibahas",
                           "catatan": "", "status": "selesai" if done else "draft", "created_at": _at(day, 9),
                           "updated_at": _at(day, 11), "version": 2})
    visit_ids = _bulk_ids(s, Visit, visit_rows)
    files, photos, hints, located = [], [], [], []
    for vid, visit, (row, pid, fam), day in zip(visit_ids, visit_rows, chosen, days):
        if visit["status"] != "selesai":
            continue
        lat, lon = -6.20 + rng.uniform(-0.02, 0.02), 106.87 + rng.uniform(-0.02, 0.02)
        if fam is not None:
            located.append({"fid": fam["id"], "lat": lat, "lon": lon})
        for kind in ("depan", "dalam", "dapur_km")[:rng.choice((2, 3))]:
            flags = {}
            if rng.random() < 0.25:
                for code in rng.sample(PHOTO_FLAGS, rng.choice((1, 1, 2))):
                    flags[code] = f"Temuan {code} (bench)"
            photos.append({"uuid": str(uuid.uuid4()), "visit_id": vid,
                           "family_id": fam["id"] if fam else None, "kelurahan_kode": kel, "kind": kind,
                           "sha256": secrets.token_hex(32),
                           "phash": secrets.token_hex(8), "width": 1600, "height": 1200, "format": "JPEG",
                           "latitude": None if "gps_missing" in flags else lat,
                           "longitude": None if "gps_missing" in flags else lon, "taken_at": _at(day, 10),
                           "offset_assumed": False, "camera": "Bench Phone", "software": "",
                           "flags": json.dumps(flags), "note": "", "created_by": visit["officer"],
                           "created_at": _at(day, 11)})
            for what in ("original", "display", "thumb"):
                files.append({"uuid": str(uuid.uuid4()), "sha256": secrets.token_hex(32), "size": 200_000,
                              "media_type": "image/jpeg", "original_name": f"{what}.jpg", "purpose": "photo",
                              "wilayah_kode": kel, "created_by": visit["officer"],
                              "created_at": _at(day, 11)})
        criteria = len(json.loads(visit["kriteria_bps"]))
        desil = fam["desil"] if fam else None
        code = ("kandidat_exclusion_error" if criteria >= 9 and (desil is None or desil > 4) else
                "kandidat_inclusion_error" if desil is not None and desil <= 2 and criteria <= 3 else None)
        if code:
            hints.append({"uuid": str(uuid.uuid4()), "code": code, "severity": "warning",
                          "kelurahan_kode": kel, "family_id": fam["id"] if fam else None,
                          "proposal_id": pid, "nik": "",
                          "message": f"Petunjuk {code} (bench)", "source": "verification", "status": "open",
                          "created_at": _at(day, 11)})
    file_ids = _bulk_ids(s, StoredFile, files)
    for n, photo in enumerate(photos):
        photo["original_id"], photo["display_id"], photo["thumb_id"] = file_ids[3 * n:3 * n + 3]
    if photos:
        s.execute(sa.insert(VisitPhoto), photos)
    if hints:
        s.execute(sa.insert(Flag), hints)
    if located:
        table = Family.__table__
        s.connection().execute(table.update().where(table.c.id == sa.bindparam("fid"))
                               .values(latitude=sa.bindparam("lat"), longitude=sa.bindparam("lon"),
                                       location_source="exif"), located)
    return sum(1 for v in visit_rows if v["status"] == "selesai"), len(photos), len(hints)


def _register_flags(s, codes: list[str], periods: list[str], families: dict[str, list[dict]], rng) -> int:
    """Screening findings of the register imports: 50 a kelurahan, 60 % still open."""
    first = date(int(periods[0][:4]), int(periods[0][5:]), 2)
    rows = []
    for kel in codes:
        for fam in families[kel][-50:]:
            resolved = rng.random() < 0.4
            rows.append({"uuid": str(uuid.uuid4()), "code": rng.choice(["age_implausible", "non_dki",
                                                                         "dup_other_kelurahan"]),
                         "severity": "warning", "kelurahan_kode": kel, "family_id": fam["id"],
                         "proposal_id": None, "nik": fam["members"][0]["nik"],
                         "message": "Temuan impor (bench)", "source": "register",
                         "status": "resolved" if resolved else "open",
                         "resolved_by": "operator.bench" if resolved else "", "created_at": _at(first, 9)})
    s.execute(sa.insert(Flag), rows)
    return len(rows)


def _account(engine, username: str, role: str, wilayah_kode: str, nama: str):
    with db.session_scope(engine) as s:
        accounts.create_account(accounts.NewAccount(username=username, nama=nama, role=role,
                                                    wilayah_kode=wilayah_kode),
                                actor=SYSTEM_ACTOR, session=s, password=PASSWORD, must_change=False)
        return accounts.actor_for(accounts.get_user(s, username), channel="web")


# --- measuring -------------------------------------------------------------------------------------------


def _timed(fn) -> tuple[float, float]:
    start, start_cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - start_cpu


@contextmanager
def _script_clock(samples: list[float]):
    """Appends the wall time of every AppTest script thread (Home.py and the page: the server's share)."""
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    original = LocalScriptRunner._run_script_thread

    def wrapped(self):
        start = time.perf_counter()
        try:
            original(self)
        finally:
            samples.append(time.perf_counter() - start)

    LocalScriptRunner._run_script_thread = wrapped
    try:
        yield
    finally:
        LocalScriptRunner._run_script_thread = original


def _app(actor, periode: str):
    """An AppTest of Home.py logged in as ``actor`` (seeded as tests/app/conftest.py does) on the home page
    with ``periode`` typed into the period field (already run)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=120)
    at.session_state["_auth"] = {"username": actor.username, "nama": actor.nama, "role": str(actor.role),
                                 "wilayah_kode": actor.wilayah_kode, "must_change": False,
                                 "last_seen": time.time()}
    at.run()
    at.switch_page(PAGE).run()
    at.text_input(key="dash_period").input(periode).run()
    _check_app(at)
    return at


def _check_app(at) -> None:
    assert not at.exception, at.exception
    assert not [e.value for e in at.error], [e.value for e in at.error]
    assert any("Selamat datang" in t.value for t in at.title), [t.value for t in at.title]


def _metric(at, label: str) -> str:
    return next(str(m.value) for m in at.metric if m.label == label)


def _measure(pairs: list[tuple[str, object]], runs: int) -> dict[str, dict[str, list[float]]]:
    """Interleaved rounds (order reversed in the second) of each named callable after one warm-up each;
    ``{name: {"wall": [...], "cpu": [...]}}``."""
    out = {name: {"wall": [], "cpu": []} for name, _ in pairs}
    for _, fn in pairs:
        fn()
    half = runs // 2
    for order in (pairs, pairs[::-1]):
        for name, fn in order:
            for _ in range(half if order is pairs else runs - half):
                wall, cpu = _timed(fn)
                out[name]["wall"].append(wall)
                out[name]["cpu"].append(cpu)
    return out


def _ms(samples: list[float]) -> str:
    return " ".join(f"{x * 1000:.0f}" for x in samples)


def _part_screens(engine, name: str, walikota, camat, periode: str, persons: int) -> None:
    kota_kode = KOTA

    def bare_kota() -> None:
        with db.session_scope(engine) as s:
            rows = dashboard.wilayah_rows(KOTA, periode, actor=walikota, session=s)
            dashboard.progress(rows, periode, kota_kode, s)
            dashboard.duplicate_niks(KOTA, periode, actor=walikota, session=s)
            dashboard.ratified_by(KOTA, periode, "program", actor=walikota, session=s)
            dashboard.ratified_by(KOTA, periode, "desil", actor=walikota, session=s)

    def bare_camat() -> None:
        with db.session_scope(engine) as s:
            dashboard.wilayah_rows(KECAMATAN, periode, actor=camat, session=s)
            dashboard.proposal_points(KECAMATAN, periode, actor=camat, session=s)

    def rest_of(actor):
        def run() -> None:
            with db.session_scope(engine) as s:
                home.overview(actor=actor, session=s)
                batch_views.inbox(actor=actor, session=s)
        return run

    with db.session_scope(engine) as s:
        rows = dashboard.wilayah_rows(KOTA, periode, actor=walikota, session=s)
        dup = dashboard.duplicate_niks(KOTA, periode, actor=walikota, session=s)
        programs = dashboard.ratified_by(KOTA, periode, "program", actor=walikota, session=s)
        points = dashboard.proposal_points(KECAMATAN, periode, actor=camat, session=s)
    submitted = sum(1 for r in rows if r["status"] not in ("tanpa_pengajuan", "draft"))
    assert len(rows) == KELURAHAN and dup > 0 and programs and points, (len(rows), dup, programs, len(points))
    print(f"[{name}] kota home {periode}: {submitted}/{len(rows)} kelurahan submitted, "
          f"{sum(r['kk'] for r in rows):,} KK / {sum(r['jiwa'] for r in rows):,} jiwa active, "
          f"{dup} NIK ganda, "
          f"{len(programs)} programmes ratified; camat map: {len(points)} located families", flush=True)

    t0 = time.perf_counter()
    script: dict[str, list[float]] = {"kota": [], "camat": []}
    at_kota, at_camat = _app(walikota, periode), _app(camat, periode)
    assert _metric(at_kota, "Kelurahan mengajukan") == f"{submitted} / {KELURAHAN}", \
        _metric(at_kota, "Kelurahan mengajukan")
    assert _metric(at_kota, "NIK ganda antarkelurahan") == str(dup)

    def screen(at, key):
        def run() -> None:
            with _script_clock(script[key]):
                at.run()
        return run

    measured = _measure([("bare_kota", bare_kota), ("kota", screen(at_kota, "kota")),
                         ("bare_camat", bare_camat), ("camat", screen(at_camat, "camat")),
                         ("rest_kota", rest_of(walikota)), ("rest_camat", rest_of(camat))], SCREEN_RUNS)
    for at in (at_kota, at_camat):
        _check_app(at)
    script = {k: v[1:] for k, v in script.items()}  # the first sample of each is the warm-up
    print(f"[{name}] script thread (ms): kota {_ms(script['kota'])}; camat {_ms(script['camat'])}; "
          f"bare kota {_ms(measured['bare_kota']['wall'])}; AppTest part ran {time.perf_counter() - t0:.0f}s",
          flush=True)
    med = {k: statistics.median(v["wall"]) for k, v in measured.items()}
    cpu = {k: statistics.median(v["cpu"]) for k, v in measured.items()}
    kota_s, camat_s = statistics.median(script["kota"]), statistics.median(script["camat"])
    verdict = {k: "OK" if v <= SCREEN_TARGET_SECONDS else "OVER TARGET" for k, v in
               (("kota", kota_s), ("camat", camat_s))}
    report(f"Home dashboards, period {periode}: {KELURAHAN} kelurahan, {persons:,}-person register, "
           f"{PROPOSALS:,} proposals in the quarter; median of {SCREEN_RUNS} runs after a warm-up "
           "(2 interleaved rounds)", [
               ("Walikota home: script thread (Home.py+beranda)", kota_s, med["bare_kota"],
                f"target ≤ {SCREEN_TARGET_SECONDS * 1000:.0f} ms: {verdict['kota']}; AppTest.run wall "
                f"{med['kota'] * 1000:.0f}ms, CPU {cpu['kota'] * 1000:.0f}ms"),
               ("  baseline: wilayah_rows+progress+dup+ratified×2", med["bare_kota"], None,
                f"CPU {cpu['bare_kota'] * 1000:.0f}ms"),
               ("  beside: home.overview + inbox (walikota)", med["rest_kota"], None,
                f"CPU {cpu['rest_kota'] * 1000:.0f}ms"),
               (f"Camat home ({KECAMATAN}): script thread", camat_s, med["bare_camat"],
                f"target ≤ {SCREEN_TARGET_SECONDS * 1000:.0f} ms: {verdict['camat']}; AppTest.run wall "
                f"{med['camat'] * 1000:.0f}ms, CPU {cpu['camat'] * 1000:.0f}ms"),
               ("  baseline: wilayah_rows + proposal_points", med["bare_camat"], None,
                f"CPU {cpu['bare_camat'] * 1000:.0f}ms"),
               ("  beside: home.overview + inbox (camat)", med["rest_camat"], None,
                f"CPU {cpu['rest_camat'] * 1000:.0f}ms"),
           ], name)
    from streamlit.testing.v1.local_script_runner import LocalScriptRunner

    if kota_s > SCREEN_TARGET_SECONDS:
        _profile(at_kota.run, f"Walikota home [{name}]", thread_class=LocalScriptRunner, lines=30)
    if camat_s > SCREEN_TARGET_SECONDS:
        _profile(at_camat.run, f"Camat home [{name}]", thread_class=LocalScriptRunner, lines=30)


def _part_report(engine, name: str, walikota, tahun: int, triwulan: int) -> None:
    key = {"kode": KOTA, "tahun": tahun, "triwulan": triwulan}
    sizes = []

    def pdf() -> None:
        with db.session_scope(engine) as s:
            data = documents.draft("laporan_triwulan", key, actor=walikota, session=s)
        assert data[:5] == b"%PDF-"
        sizes.append(len(data))

    def figures() -> None:
        with db.session_scope(engine) as s:
            quarterly.figures(KOTA, tahun, triwulan, s)

    def assembled() -> None:
        with db.session_scope(engine) as s:
            da.laporan_triwulan_doc(KOTA, tahun, triwulan, s, nomor=None, verify_url="", on=documents.today())

    with db.session_scope(engine) as s:
        f = quarterly.figures(KOTA, tahun, triwulan, s)
    assert f["keluarga_diverifikasi"] and f["temuan_foto"] and f["kandidat"] and f["alasan_pengembalian"], f
    usulan = sum(v["usulan"] for v in f["jenis"].values())
    print(f"[{name}] laporan triwulan {tahun}-Q{triwulan}: {usulan:,} agreed proposals, "
          f"{len(f['alasan_pengembalian'])} reason rows, {f['keluarga_diverifikasi']:,} families verified, "
          f"photo flags {f['temuan_foto']}, candidates {f['kandidat']}", flush=True)
    t0 = time.perf_counter()
    measured = _measure([("figures", figures), ("pdf", pdf), ("assembled", assembled)], DOC_RUNS)
    med = {k: statistics.median(v["wall"]) for k, v in measured.items()}
    cpu = {k: statistics.median(v["cpu"]) for k, v in measured.items()}
    print(f"[{name}] draft PDF runs (ms): {_ms(measured['pdf']['wall'])}; "
          f"figures {_ms(measured['figures']['wall'])}; "
          f"part ran {time.perf_counter() - t0:.0f}s", flush=True)
    verdict = "OK" if med["pdf"] <= DOC_TARGET_SECONDS else "OVER TARGET"
    report(f"Laporan triwulan of the kota ({tahun}-Q{triwulan}), draft PDF; median of {DOC_RUNS} runs after "
           "a warm-up",
           [("documents.draft(laporan_triwulan) + commit", med["pdf"], med["figures"],
             f"target ≤ {DOC_TARGET_SECONDS:.0f} s: {verdict}; CPU {cpu['pdf'] * 1000:.0f}ms; "
             f"PDF {statistics.median(sizes) / 1024:.0f} KiB"),
            ("  baseline: quarterly.figures alone", med["figures"], None,
             f"CPU {cpu['figures'] * 1000:.0f}ms"),
            ("  beside: laporan_triwulan_doc (figures+content)", med["assembled"], med["figures"],
             f"CPU {cpu['assembled'] * 1000:.0f}ms; PDF rendering ≈ "
             f"{(med['pdf'] - med['assembled']) * 1000:.0f}ms")], name)
    if med["pdf"] > DOC_TARGET_SECONDS:
        _profile(pdf, f"documents.draft(laporan_triwulan) [{name}]", lines=30)


def _run(url: str, root: Path) -> None:
    t0 = time.perf_counter()
    _hold_no_pages_directory()
    settings = Settings(data_dir=root, database_url=url, idle_timeout_minutes=30)
    engine = db.get_engine(url)
    setup.initialise(settings, engine)
    name = engine.dialect.name
    # The last complete quarter; the home dashboards show its last month.
    today = utcnow().astimezone(WIB).date()
    q = (today.month - 1) // 3 + 1
    tahun, triwulan = (today.year, q - 1) if q > 1 else (today.year - 1, 4)
    periods = quarterly.months(tahun, triwulan)
    walikota = _account(engine, "walikota.dashbench", "walikota", KOTA, "Walikota Bench")
    camat = _account(engine, "camat.dashbench", "camat", KECAMATAN, "Camat Bench")
    codes = _kelurahan(engine)
    rng = random.Random(3175)

    t1 = time.perf_counter()
    families = _build_register(engine, codes, rng)
    with engine.connect() as conn:
        persons = conn.execute(sa.text("SELECT count(*) FROM person")).scalar_one()
        n_families = conn.execute(sa.text("SELECT count(*) FROM family")).scalar_one()
    register_seconds = time.perf_counter() - t1
    print(f"[{name}] register: {persons:,} persons in {n_families:,} families over {len(codes)} kelurahan, "
          f"built in {register_seconds:.0f}s", flush=True)

    t2 = time.perf_counter()
    stats = _build_quarter(engine, codes, families, periods, rng, "operator.dashbench")
    if name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    quarter_seconds = time.perf_counter() - t2
    assert stats["proposals"] == PROPOSALS, stats
    print(f"[{name}] quarter {periods[0]}..{periods[-1]}: {stats['proposals']:,} proposals with "
          f"{stats['members']:,} members ({stats['members'] / stats['proposals']:.2f} each), batches "
          f"{stats['batches']}, {stats['returned']:,} items returned/rejected, {stats['duplicates']} NIKs "
          f"proposed twice, {stats['visits']:,} finished visits with {stats['photos']:,} photos, "
          f"{stats['flags']:,} flags; "
          f"built in {quarter_seconds:.0f}s{' (+ ANALYZE)' if name == 'postgresql' else ''}", flush=True)

    _part_screens(engine, name, walikota, camat, periods[-1], persons)
    _part_report(engine, name, walikota, tahun, triwulan)
    print(f"[{name}] bench_dashboard ran {time.perf_counter() - t0:.0f}s (data: register "
          f"{register_seconds:.0f}s, quarter {quarter_seconds:.0f}s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
