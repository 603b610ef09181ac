"""Official documents of a big musyawarah: the Berita Acara with a 1,000-family by-name list, and the whole
document round of a closed 300-family musyawarah.

1. The Berita Acara (draft, as the Lurah checks it on screen) of a closed musyawarah with 1,000 agreed
   families (≈ 3,500 persons in Lampiran II, the BNBA), through ``core.documents.draft`` in one
   ``session_scope`` — gathering the data from the database is part of the cost — against the baseline
   measured in the same run: a bare reportlab LongTable of the same rows with the same cell types
   (``core.doc_pdf_ba.bare_table_pdf``), nothing around it. Interleaved repetitions after one untimed run of
   each. Target: BA ≤ 1.5× the baseline.
2. The documents of a closed 300-family musyawarah, each step its own unit of work as in the app: the Lurah
   finalises the Berita Acara (with its attachments) and the SPTJM, the operator downloads both and uploads
   the signed scans (the final PDFs' own bytes stand in for the scans), the Lurah finalises the BAST kelurahan
   (which writes the BNBA data file). Median over several such meetings. Target: total < 10 s.

The meetings are made through the services (create, fields, attendance, photos, closing by the Lurah) from a
register imported with ``core.register.import_extract``; only the agenda items (Proposal, ProposalMember) are
inserted in bulk, in the shape ``core.proposals`` gives them, all agreed, plus a few deferred or rejected.
Files go to a fresh temporary MUSKEL_DATA_DIR. Run: python -m bench.bench_documents [POSTGRES_URL]
"""

from __future__ import annotations

import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from datetime import date, datetime

from sqlmodel import select

from bench.common import report, scratch_engine
from core import accounts, db, demo_meeting, demo_register, documents, meetings, offices, register
from core import doc_assembly as da
from core.access import SYSTEM_ACTOR
from core.doc_pdf_ba import bare_table_pdf
from core.models import Family, Musyawarah, Person, Proposal, ProposalMember
from core.timefmt import utcnow

KEL = "31.75.01.1003"
BIG = 1_000
SMALL = 300
SMALL_MEETINGS = 3
POOL = 1_400  # families in the imported register; the 1,000 with two or more members hold ≈ 3,500 persons
REPEAT = 3
BA_TARGET_RATIO = 1.5
ROUND_TARGET_SECONDS = 10.0
PASSWORD = "bench-password-1"
LONG_ADDRESSES = [
    "Jl. Kayu Manis VIII Gg. Masjid Al-Ikhlas No. 17B, belakang Pos RW, samping warung Bu Siti",
    "Rusun Pramuka Sari Blok C Lantai 4 No. 412, dekat pintu masuk Pasar Pramuka",
    "Gg. Haji Ridi Kavling 23A, rumah kontrakan petak ketiga dari ujung gang sebelah mushola",
]
ALASAN_BARU = ["Usulan RW", "Pendataan PKSP", "Laporan Ketua RT", "Keluarga miskin belum terdaftar di DTSEN, "
               "hasil pendataan PKSP", "Ground check SDM PKH", "Kepala keluarga kehilangan pekerjaan"]
PROGRAMS_BARU = [["PKH"], ["PKH", "PBI-JK"], ["BPNT/Sembako"], ["PKH", "Sekolah Rakyat"], ["PBI-JK"]]
NONAKTIF = ["meninggal", "pindah_dalam_negeri", "mampu", "pindah_dalam_negeri", "data_ganda", "mampu",
            "pindah_dalam_negeri", "asn_tni_polri_bumn"]
SUMBER = ["musyawarah", "cek_bansos", "pksp", "sdm_pkh", "walk_in"]
NOTULEN = ("Musyawarah dibuka oleh Lurah pukul 09.00. Operator memaparkan daftar usulan per RW; peserta "
           "membahas setiap keluarga dan menyepakati usulan yang dilampirkan. Beberapa usulan ditunda "
           "menunggu verifikasi domisili.")


# --- data --------------------------------------------------------------------------------------------------


def _extract():
    """The register (seed 5 as the other benches) with a few long addresses that wrap in the BNBA column."""
    frame = demo_register.generate(KEL, POOL, seed=5)
    kks = frame["No KK"].drop_duplicates().tolist()
    for n, kk in enumerate(kks[7::97]):
        frame.loc[frame["No KK"] == kk, "Alamat"] = LONG_ADDRESSES[n % len(LONG_ADDRESSES)]
    return frame


def _outsiders() -> list[dict]:
    """Families not (yet) in the register — the exclusion errors a musyawarah proposes as ``baru``."""
    frame = demo_register.generate(KEL, 120, seed=77)
    out = []
    for kk, group in frame.groupby("No KK", sort=False):
        if len(group) < 2:
            continue
        first = group.iloc[0]
        members = [{"nik": r["NIK"], "nama": r["Nama"], "jenis_kelamin": r["Jenis Kelamin"],
                    "tanggal_lahir": datetime.strptime(r["Tanggal Lahir"], "%d/%m/%Y").date(),
                    "hubungan": r["Hubungan Keluarga"]} for _, r in group.iterrows()]
        out.append({"family": None, "no_kk": kk, "alamat": first["Alamat"], "rt": first["RT"],
                    "rw": first["RW"], "desil": None, "members": members})
    return out


def _register_families(engine) -> list[dict]:
    """The kelurahan's active families with their active members, in register order."""
    with db.session_scope(engine) as s:
        families = s.exec(select(Family).where(Family.kelurahan_kode == KEL, Family.status == "aktif")
                          .order_by(Family.id)).all()
        people: dict[int, list[dict]] = {f.id: [] for f in families}
        for p in s.exec(select(Person).join(Family, Family.id == Person.family_id)
                        .where(Family.kelurahan_kode == KEL, Person.status == "aktif").order_by(Person.id)):
            people[p.family_id].append({"nik": p.nik, "nama": p.nama, "jenis_kelamin": p.jenis_kelamin,
                                        "tanggal_lahir": p.tanggal_lahir, "hubungan": p.hubungan})
    return [{"family": f.id, "no_kk": f.no_kk, "alamat": f.alamat, "rt": f.rt, "rw": f.rw, "desil": f.desil,
             "members": people[f.id]} for f in families if people[f.id]]


def _meeting(engine, operator, lurah, periode: str, pictures: list[bytes]) -> int:
    """A draft musyawarah filled in through the services: fields, 27 attendees, documentation photos."""
    year, month = int(periode[:4]), int(periode[5:])
    with db.session_scope(engine) as s:
        mid = meetings.create_meeting(KEL, periode, actor=operator, session=s)["id"]
        for fieldname, value in (("tanggal", date(year, month, 12)), ("jam_mulai", "09.00"),
                                 ("jam_selesai", "12.30"), ("notulis", "Sari Wulandari"),
                                 ("notulen", NOTULEN)):
            current = meetings.get_meeting(mid, actor=operator, session=s)
            meetings.update_meeting_field(mid, fieldname, getattr(current, fieldname), value, actor=operator,
                                          session=s)
        for n, (nama, unsur, jabatan) in enumerate(demo_meeting.ATTENDEES):
            meetings.add_attendee(mid, {"nama": nama, "unsur": unsur, "jabatan": jabatan,
                                        "alamat": f"RT {n % 12 + 1:03d}/RW {n % 8 + 1:03d}",
                                        "telepon": f"0812{n:04d}5678", "jenis_kelamin": "LP"[n % 2]},
                                  actor=operator, session=s)
        for n, data in enumerate(pictures):
            meetings.add_photo(mid, data, f"musyawarah_{n + 1}.jpg", f"Suasana musyawarah ({n + 1})",
                               actor=operator, session=s)
    return mid


def _plan(n: int, fam: dict) -> dict:
    """Item ``n`` for family ``fam``: mostly new beneficiaries; some corrections, removals, priorities."""
    slot = n % 50
    members = fam["members"]
    item = {"jenis": "baru", "alasan_nonaktif": "", "programs": [], "perubahan": [], "members": members,
            "alasan": ALASAN_BARU[n % len(ALASAN_BARU)]}
    if fam["family"] is None or slot < 30:
        item["programs"] = PROGRAMS_BARU[n % len(PROGRAMS_BARU)]
    elif slot < 35:
        moved_rt = f"{int(fam['rt']) % 12 + 1:03d}"
        change = ({"field": "alamat", "lama": fam["alamat"], "baru": fam["alamat"] + " (belakang)"}
                  if slot % 2 else {"field": "rt", "lama": fam["rt"], "baru": moved_rt})
        item.update(jenis="perbaikan", alasan="Data tidak sesuai KK terbaru", perubahan=[change])
    elif slot < 43:
        reason = NONAKTIF[slot - 35]
        item.update(jenis="nonaktif", alasan_nonaktif=reason, alasan="Laporan Ketua RT",
                    members=members[:1] if reason == "meninggal" else members)
    else:
        item.update(jenis="prioritas_program", programs=[["Sekolah Rakyat"], ["PIP"], ["KJP Plus"]][n % 3],
                    alasan="Anak usia sekolah")
    return item


def _fill_and_close(engine, mid: int, families: list[dict], operator, lurah, *,
                    undecided_extra: int) -> tuple[int, int]:
    """Agenda items inserted in bulk (agreed; the last ``undecided_extra`` deferred or rejected), then the
    Lurah closes the meeting through the service."""
    with db.session_scope(engine) as s:
        meeting = s.get(Musyawarah, mid)
        now = utcnow()
        items, member_lists = [], []
        for n, fam in enumerate(families):
            plan = _plan(n, fam)
            keputusan = ("disepakati" if n < len(families) - undecided_extra
                         else ["ditunda", "tidak_disepakati"][n % 2])
            head = next((m["nama"] for m in plan["members"] if "KEPALA" in m["hubungan"]),
                        plan["members"][0]["nama"])
            items.append(Proposal(musyawarah_id=mid, kelurahan_kode=KEL, periode=meeting.periode,
                                  urutan=n + 1,
                                  family_id=fam["family"], no_kk=fam["no_kk"], nama_kepala=head,
                                  alamat=fam["alamat"], rt=fam["rt"], rw=fam["rw"], desil=fam["desil"],
                                  jenis=plan["jenis"], alasan_nonaktif=plan["alasan_nonaktif"],
                                  programs=json.dumps(plan["programs"], ensure_ascii=False),
                                  sumber=SUMBER[n % len(SUMBER)], alasan=plan["alasan"],
                                  perubahan=json.dumps(plan["perubahan"], ensure_ascii=False),
                                  keputusan=keputusan,
                                  catatan_keputusan=("Menunggu verifikasi domisili" if keputusan == "ditunda"
                                                     else ""),
                                  created_by=operator.username, created_at=now, updated_at=now, version=2))
            member_lists.append(plan["members"])
        s.add_all(items)
        s.flush()
        s.add_all([ProposalMember(proposal_id=item.id, **m)
                   for item, ms in zip(items, member_lists) for m in ms])
    with db.session_scope(engine) as s:
        meetings.close_meeting(mid, confirm_without_quorum=False, actor=lurah, session=s)
    agreed = [ms for ms, item in zip(member_lists, items) if item.keputusan == "disepakati"]
    return len(agreed), sum(len(ms) for ms in agreed)


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))


def _photos() -> list[bytes]:
    from bench.bench_photo import phone_photo

    return [phone_photo(seed=n, width=1600, height=1200) for n in range(3)]


# --- the benchmark -----------------------------------------------------------------------------------------


def main(url: str | None = None) -> None:
    previous = os.environ.get("MUSKEL_DATA_DIR")
    os.environ["MUSKEL_DATA_DIR"] = tempfile.mkdtemp(prefix="muskel-bench-documents-")
    try:
        _run(url)
    finally:
        if previous is None:
            os.environ.pop("MUSKEL_DATA_DIR", None)
        else:
            os.environ["MUSKEL_DATA_DIR"] = previous


def _run(url: str | None) -> None:
    t0 = time.perf_counter()
    engine = scratch_engine(url)
    name = engine.dialect.name
    token = secrets.token_hex(3)  # fresh accounts even when a PostgreSQL database is reused
    with db.session_scope(engine) as s:
        for username, role in ((f"operator.docbench.{token}", "operator"),
                               (f"lurah.docbench.{token}", "lurah")):
            accounts.create_account(accounts.NewAccount(username=username, nama=f"Bench {role.title()}",
                                                        role=role, wilayah_kode=KEL),
                                    actor=SYSTEM_ACTOR, session=s, password=PASSWORD, must_change=False)
        operator = accounts.actor_for(accounts.get_user(s, f"operator.docbench.{token}"), channel="cli")
        lurah = accounts.actor_for(accounts.get_user(s, f"lurah.docbench.{token}"), channel="cli")
        if offices.get_profile(KEL, session=s)["version"] == 0:
            offices.update_profile(KEL, {"alamat": "Jl. Kayu Manis VIII No. 1, Matraman, Jakarta Timur",
                                         "telepon": "(021) 8581234", "nama_pimpinan": "Hendra Gunawan",
                                         "nip_pimpinan": "197805122005011002", "kode_pos": "13130"},
                                   expected_version=0, actor=SYSTEM_ACTOR, session=s)
    with db.session_scope(engine) as s:
        result = register.import_extract(demo_register.to_csv(_extract()), "dtsen.csv", KEL, actor=operator,
                                         session=s)
    assert result.imported, result.counts
    pool = _register_families(engine)
    big_families = ([f for f in pool if len(f["members"]) >= 2][:BIG - 30] + _outsiders()[:30])
    assert len(big_families) == BIG, len(big_families)
    pictures = _photos()
    # Periods far ahead, picked per run, so a reused PostgreSQL database never has a draft of the same period.
    base_year = 2040 + int(token, 16) % 50
    periods = [f"{base_year}-{m:02d}" for m in range(1, 2 + SMALL_MEETINGS)]
    big = _meeting(engine, operator, lurah, periods[0], pictures)
    used = {f["family"] for f in big_families}
    deferred = [f for f in pool if f["family"] not in used][:30]
    kk, jiwa = _fill_and_close(engine, big, big_families + deferred, operator, lurah,
                               undecided_extra=len(deferred))
    small = []
    for k in range(SMALL_MEETINGS):
        mid = _meeting(engine, operator, lurah, periods[1 + k], pictures)
        _fill_and_close(engine, mid, pool[k * SMALL:(k + 1) * SMALL] + pool[-10:], operator, lurah,
                        undecided_extra=10)
        small.append(mid)
    print(f"[{name}] data: register of {len(pool)} families, musyawarah of {kk} agreed families "
          f"({jiwa} persons) and {SMALL_MEETINGS} of {SMALL}, built in {time.perf_counter() - t0:.1f}s",
          flush=True)

    # 1. Berita Acara vs a bare LongTable of the same rows.
    with db.session_scope(engine) as s:
        rows = da.bnba_rows(da._proposals(s.get(Musyawarah, big), s), s)
    assert len(rows) == jiwa, (len(rows), jiwa)
    out: dict[str, bytes] = {}

    def ba_draft() -> None:
        with db.session_scope(engine) as s:
            out["ba"] = documents.draft("berita_acara", {"meeting_id": big}, actor=lurah, session=s)

    def assemble() -> None:
        with db.session_scope(engine) as s:
            da.berita_acara_doc(s.get(Musyawarah, big), s, nomor=None, verify_url="")

    def bare() -> None:
        out["bare"] = bare_table_pdf(rows)

    # Wall-clock decides; this process's CPU time is printed beside it, as it shows the PDF work even when
    # other processes share the CPU (on PostgreSQL it leaves out the server's share of the data gathering).
    samples: dict[str, list[float]] = {"ba": [], "bare": [], "assemble": []}
    cpu: dict[str, list[float]] = {"ba": [], "bare": [], "assemble": []}
    for rep in range(REPEAT + 1):  # the first round warms up (imports, fonts) and is not counted
        for key, fn in (("ba", ba_draft), ("bare", bare), ("assemble", assemble)):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            if rep:
                samples[key].append(time.perf_counter() - start)
                cpu[key].append(time.process_time() - start_cpu)
        if rep:
            print(f"[{name}] round {rep}: BA {samples['ba'][-1]:.2f}s (CPU {cpu['ba'][-1]:.2f}s), bare table "
                  f"{samples['bare'][-1]:.2f}s (CPU {cpu['bare'][-1]:.2f}s), assembling "
                  f"{samples['assemble'][-1]:.2f}s", flush=True)
    ba, base, gather = (statistics.median(samples[k]) for k in ("ba", "bare", "assemble"))
    ba_cpu, base_cpu = statistics.median(cpu["ba"]), statistics.median(cpu["bare"])
    verdict = "OK" if ba / base <= BA_TARGET_RATIO else "OVER TARGET"
    report(f"Berita Acara of a {kk}-family musyawarah: {jiwa} persons in the BNBA; median of {REPEAT} "
           "interleaved runs each", [
               (f"BA draft, {_pages(out['ba'])} pages (gather + build)", ba, base,
                f"target ≤ {BA_TARGET_RATIO}×: {verdict}; CPU {ba_cpu:.2f}s vs {base_cpu:.2f}s = "
                f"{ba_cpu / base_cpu:.2f}×"),
               (f"bare LongTable, same rows, {_pages(out['bare'])} pages (baseline)", base, None),
               ("  of which: assembling the BA content (database)", gather, None),
           ], name)

    # 2. The documents of a closed 300-family musyawarah.
    steps = ["finalise Berita Acara", "finalise SPTJM", "download both, upload both scans",
             "finalise BAST kelurahan"]
    times: dict[str, list[float]] = {step: [] for step in steps + ["total"]}
    for mid in small:
        key = {"meeting_id": mid}
        took = {}
        start = time.perf_counter()
        with db.session_scope(engine) as s:
            ba_doc = documents.finalise("berita_acara", key, actor=lurah, session=s)
        took[steps[0]] = time.perf_counter() - start
        mark = time.perf_counter()
        with db.session_scope(engine) as s:
            sptjm_doc = documents.finalise("sptjm", key, actor=lurah, session=s)
        took[steps[1]] = time.perf_counter() - mark
        mark = time.perf_counter()
        for doc in (ba_doc, sptjm_doc):
            with db.session_scope(engine) as s:
                data, _, media_type = documents.download(doc["id"], actor=operator, session=s)
            assert media_type == "application/pdf" and data[:5] == b"%PDF-"
            with db.session_scope(engine) as s:
                documents.upload_scan(doc["id"], data, "scan.pdf", actor=operator, session=s)
        took[steps[2]] = time.perf_counter() - mark
        mark = time.perf_counter()
        with db.session_scope(engine) as s:
            bast_doc = documents.finalise("bast_kelurahan", key, actor=lurah, session=s)
        took[steps[3]] = time.perf_counter() - mark
        took["total"] = time.perf_counter() - start
        assert sorted(bast_doc["covers"]) == sorted([ba_doc["id"], sptjm_doc["id"]]), bast_doc["covers"]
        assert bast_doc["ringkasan"]["kk"] == SMALL, bast_doc["ringkasan"]
        for k, v in took.items():
            times[k].append(v)
        print(f"[{name}] musyawarah {mid}: " + ", ".join(f"{k} {v:.2f}s" for k, v in took.items()),
              flush=True)
    with db.session_scope(engine) as s:
        ba_pages = _pages(documents.download(ba_doc["id"], actor=operator, session=s)[0])
    total = statistics.median(times["total"])
    verdict = "OK" if total < ROUND_TARGET_SECONDS else "OVER TARGET"
    report(f"Documents of a closed {SMALL}-family musyawarah (BA {ba_pages} pages); median of "
           f"{SMALL_MEETINGS} meetings", [(step, statistics.median(times[step]), None) for step in steps]
           + [("total", total, None, f"target < {ROUND_TARGET_SECONDS:.0f} s: {verdict}")], name)
    print(f"[{name}] bench_documents ran {time.perf_counter() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
