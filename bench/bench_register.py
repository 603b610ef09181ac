"""DTSEN register: importing a 100,000-person extract (CSV and XLSX) and searching a 1,000,000-person register.

Why: a kelurahan imports the extract Dinas Sosial shares (tens of thousands of persons) and, during a
musyawarah, staff must find a family in seconds. Each import runs the whole path — read, column-wise screening,
file store, families, members, register history, flags, audit — through ``core.register.import_extract`` in
one ``session_scope``, and is compared with baselines measured in the same run on the same database:

* CSV import vs a plain ``executemany`` of the same families and persons (the database's own write cost,
  including SQLite's FTS trigger / PostgreSQL's trigram index upkeep). Targets: ≥ 50,000 persons/s on SQLite
  and at most 3× the baseline. Also measured: the writes alone (the same rows, their history rows and the name
  index filled in bulk as the import fills it, nothing read or checked) — the ceiling of any import here.
* XLSX import vs the file reader alone (``pandas.read_excel(engine="calamine")``, the reader the issue names).
  Target: at most 2×. python-calamine's own parse (what the import now calls directly) is printed too.
* A re-import of each CSV extract with every family's desil moved (a newer extract where everything changed:
  30,300 history rows with before/after snapshots), against the first import of the same extract.
* Searches by NIK and by 4–6 letters from the middle of a name (≥ 50 queries each, p95 ≤ 50 ms) through
  ``core.register_search.search``, scoped like the app: as the operator of one kelurahan, and as a
  province-wide reader (Dinas Sosial).

The 1,000,000-person register is bulk-loaded (one generated extract replicated across kelurahan with altered
NIK/KK serials, executemany on SQLite, COPY on PostgreSQL) rather than imported; SQLite's FTS5 trigram table is
filled by the app's own triggers and PostgreSQL's pg_trgm index is maintained by the server, as in the app.

Run: python -m bench.bench_register [POSTGRES_URL]
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import statistics
import sys
import tempfile
import time
import zipfile
from xml.sax.saxutils import escape

import pandas as pd
import python_calamine
import sqlalchemy as sa
from sqlmodel import select

from bench.common import p95, report, sample_seconds, scratch_engine
from core import accounts, bulk_insert, db, demo_register, filestore, register
from core.access import SYSTEM_ACTOR
from core.models import Family, Person, RegisterChange, RegisterImport, Wilayah, new_uuid
from core.register_search import RegisterQuery, search
from core.timefmt import utcnow

FAMILIES = 30_300  # ≈ 100,000 persons
REGISTER_PERSONS = 1_000_000
REPEATS = 3
QUERIES = 60
PASSWORD = "bench-kata-sandi-123"


# --- data --------------------------------------------------------------------------------------------------


def _renumber(frame: pd.DataFrame, kelurahan_kode: str, offset: int) -> pd.DataFrame:
    """The extract moved to ``kelurahan_kode``'s kecamatan, with NIK/KK serials unique within it.

    ``demo_register.generate`` keeps 4-digit serials, which wrap at 10,000 and collide at this size (a NIK in two
    KKs would block the import); serials are renumbered per (region, date) prefix, plus ``offset`` so copies of
    the same extract in one kecamatan stay distinct.
    """
    out = frame.copy()
    region6 = kelurahan_kode.replace(".", "")[:6]
    nik_prefix = region6 + out["NIK"].str.slice(6, 12)
    out["NIK"] = nik_prefix + (nik_prefix.groupby(nik_prefix).cumcount() + 1 + offset).map("{:04d}".format)
    heads = out.drop_duplicates("ID DTSEN")
    kk_prefix = region6 + heads["No KK"].str.slice(6, 12)
    kk = kk_prefix + (kk_prefix.groupby(kk_prefix).cumcount() + 1 + offset).map("{:04d}".format)
    out["No KK"] = out["ID DTSEN"].map(dict(zip(heads["ID DTSEN"], kk)))
    out["ID DTSEN"] = "DT" + kelurahan_kode.replace(".", "") + out["ID DTSEN"].str.slice(-5)
    assert not out["NIK"].duplicated().any(), out[out["NIK"].duplicated(keep=False)].head()
    assert out["No KK"].str.len().eq(16).all(), out["No KK"].head()
    return out


def _xlsx(frame: pd.DataFrame) -> bytes:
    """A workbook of text cells with shared strings, as Excel saves it (openpyxl takes ~50 s for 100k rows)."""
    strings: dict[str, int] = {}
    columns = [chr(ord("A") + i) for i in range(len(frame.columns))]
    parts = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
    for r, values in enumerate([list(frame.columns)] + frame.astype(str).values.tolist(), start=1):
        cells = "".join(f'<c r="{c}{r}" t="s"><v>{strings.setdefault(v, len(strings))}</v></c>'
                        for c, v in zip(columns, values) if v != "")
        parts.append(f'<row r="{r}">{cells}</row>')
    parts.append("</sheetData></worksheet>")
    shared = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(strings)}" '
              f'uniqueCount="{len(strings)}">' + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "</sst>")
    main = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.'
        'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
        'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.'
        'xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '</Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="' + main +
        '/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.'
        'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="' + main + '"><sheets><sheet name="DTSEN" '
        'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships '
        'xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
        + main + '/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="' + main +
        '/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": "".join(parts),
        "xl/sharedStrings.xml": shared,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buffer.getvalue()


def _kelurahan_by_kecamatan(engine) -> list[list[str]]:
    with db.session_scope(engine) as s:
        codes = s.exec(select(Wilayah.kode).where(Wilayah.tingkat == "kelurahan").order_by(Wilayah.kode)).all()
    groups: dict[str, list[str]] = {}
    for code in codes:
        groups.setdefault(code.rsplit(".", 1)[0], []).append(code)
    return [g for g in groups.values() if not g[0].startswith("31.01")]  # Kepulauan Seribu: tiny kelurahan


# --- plain writes (baseline and bulk load) -----------------------------------------------------------------


def _register_import(engine, kelurahan_kode: str) -> int:
    """A RegisterImport row (with its stored file) for bulk-loaded families to point to."""
    with db.session_scope(engine) as s:
        stored = filestore.save(f"bench {kelurahan_kode} {time.time()}".encode(), media_type="text/csv",
                                purpose="dtsen_extract", actor=SYSTEM_ACTOR, session=s, original_name="bench.csv",
                                wilayah_kode=kelurahan_kode)
        record = RegisterImport(kelurahan_kode=kelurahan_kode, file_id=stored.id, filename="bench.csv",
                                imported_by="bench")
        s.add(record)
        s.flush()
        return record.id


def _plain_rows(frame: pd.DataFrame, engine, kelurahan_kode: str, import_id: int):
    """The families and persons of an extract as DB-API parameter tuples (as the importer would store them)."""
    dialect = engine.dialect
    stamp = Family.__table__.c.updated_at.type.bind_processor(dialect)
    as_date = Person.__table__.c.tanggal_lahir.type.bind_processor(dialect) or (lambda v: v)
    now = stamp(utcnow()) if stamp else utcnow()
    heads = frame.drop_duplicates("No KK")
    families = [(new_uuid(), kelurahan_kode, kk, idd, int(desil), alamat, rt, rw, "aktif",
                 hashlib.sha256(kk.encode()).hexdigest(), import_id, import_id, now)
                for kk, idd, desil, alamat, rt, rw in zip(heads["No KK"], heads["ID DTSEN"], heads["Desil"],
                                                          heads["Alamat"], heads["RT"], heads["RW"])]
    born = pd.to_datetime(frame["Tanggal Lahir"], format="%d/%m/%Y").dt.date
    persons = [(kk, nik, nama, jk, as_date(b), hub, job, "aktif")
               for kk, nik, nama, jk, b, hub, job in zip(frame["No KK"], frame["NIK"], frame["Nama"],
                                                         frame["Jenis Kelamin"], born, frame["Hubungan Keluarga"],
                                                         frame["Pekerjaan"])]
    return families, persons


FAMILY_COLUMNS = ("uuid, kelurahan_kode, no_kk, id_dtsen, desil, alamat, rt, rw, status, content_hash, "
                  "first_import_id, last_import_id, updated_at")
PERSON_COLUMNS = "family_id, nik, nama, jenis_kelamin, tanggal_lahir, hubungan, pekerjaan, status"


def _insert_rows(conn, kelurahan_kode: str, families: list[tuple], persons: list[tuple], *,
                 copy: bool) -> dict[str, int]:
    """executemany of the families, their ids read back, executemany (or COPY on PostgreSQL) of the persons."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = conn.connection.driver_connection.cursor()
    cursor.executemany(f"INSERT INTO family ({FAMILY_COLUMNS}) VALUES ({', '.join([mark] * 13)})", families)
    cursor.execute(f"SELECT no_kk, id FROM family WHERE kelurahan_kode = {mark}", (kelurahan_kode,))
    ids = dict(cursor.fetchall())
    rows = [(ids[kk], *rest) for kk, *rest in persons]
    if copy and conn.dialect.name == "postgresql":
        with cursor.copy(f"COPY person ({PERSON_COLUMNS}) FROM STDIN") as out:
            for row in rows:
                out.write_row(row)
    else:
        cursor.executemany(f"INSERT INTO person ({PERSON_COLUMNS}) VALUES ({', '.join([mark] * 8)})", rows)
    return ids


def _plain_insert(engine, kelurahan_kode: str, families: list[tuple], persons: list[tuple], *,
                  copy: bool = False) -> None:
    with engine.begin() as conn:
        _insert_rows(conn, kelurahan_kode, families, persons, copy=copy)


def _write_floor(engine, kelurahan_kode: str, families: list[tuple], persons: list[tuple]) -> None:
    """The writes no import can avoid, with nothing read, checked or converted: the families and their ids, the
    persons with the name index filled in bulk as the import fills it (``register.name_index_filled_in_bulk``),
    one history row per family (``bulk_insert``, as the import writes them), the commit. Its persons/s is the most
    any import of these rows could reach on this machine."""
    with engine.begin() as conn:
        with register.name_index_filled_in_bulk(conn):
            ids = _insert_rows(conn, kelurahan_kode, families, persons, copy=True)
        bulk_insert.insert_columns(conn, RegisterChange.__table__, {
            "import_id": [families[0][10]] * len(ids), "family_id": list(ids.values()), "change": ["baru"] * len(ids)})


def _person_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM person")).scalar_one()


def _check_name_index(engine) -> str:
    """The name index holds the bulk-loaded persons, as it would after imports (spot check of 50 persons)."""
    with engine.connect() as conn:
        sample = conn.execute(sa.text("SELECT id, nama FROM person ORDER BY random() LIMIT 50")).all()
        if engine.dialect.name == "sqlite":
            for pid, nama in sample:
                found = conn.execute(sa.text("SELECT count(*) FROM person_fts WHERE person_fts MATCH :q "
                                             "AND rowid = :id"), {"q": f'"{nama}"', "id": pid}).scalar_one()
                assert found == 1, (pid, nama)
            return "FTS5 trigram index filled by the triggers"
    with engine.connect() as conn:  # PostgreSQL maintains the GIN index itself; autovacuum would analyse
        conn.execute(sa.text("ANALYZE"))
        conn.commit()
        size = conn.execute(sa.text("SELECT pg_size_pretty(pg_relation_size('ix_person_nama_trgm'))")).scalar_one()
        return f"pg_trgm GIN index {size}, analysed"


# --- accounts ----------------------------------------------------------------------------------------------


def _actor(engine, username: str, role: str, wilayah_kode: str):
    with db.session_scope(engine) as s:
        accounts.create_account(accounts.NewAccount(username=username, nama="Bench", role=role,
                                                    wilayah_kode=wilayah_kode),
                                actor=SYSTEM_ACTOR, session=s, password=PASSWORD, must_change=False)
        return accounts.actor_for(accounts.get_user(s, username), channel="cli")


# --- the benchmark -----------------------------------------------------------------------------------------


def main(url: str | None = None) -> None:
    os.environ.setdefault("MUSKEL_DATA_DIR", tempfile.mkdtemp(prefix="muskel-bench-files-"))
    engine = scratch_engine(url)
    name = engine.dialect.name
    groups = _kelurahan_by_kecamatan(engine)
    import_kel = [g[0] for g in groups[:2 * REPEATS]]  # one kecamatan each: no NIK shared between imports
    spare = [k for g in groups for k in g[1:]]
    baseline_kel, floor_kel, register_kel = spare[:REPEATS], spare[REPEATS:2 * REPEATS], spare[2 * REPEATS:]
    rng = random.Random(2026)
    t0 = time.perf_counter()

    # 1. The 1,000,000-person register: one extract, copied with altered serials.
    base = demo_register.generate(register_kel[0], FAMILIES, seed=99)
    loaded, copies = 0, 0
    while loaded < REGISTER_PERSONS:
        kel = register_kel[copies]
        frame = _renumber(base, kel, offset=100 * (copies + 1))
        if loaded + len(frame) > REGISTER_PERSONS:  # the last copy: whole families up to the size named
            fits = frame.groupby("No KK", sort=False).size().cumsum() <= REGISTER_PERSONS - loaded
            frame = frame[frame["No KK"].isin(fits[fits].index)]
        families, persons = _plain_rows(frame, engine, kel, _register_import(engine, kel))
        _plain_insert(engine, kel, families, persons, copy=True)
        loaded += len(persons)
        copies += 1
        if len(persons) < len(base):
            break
    index_note = _check_name_index(engine)
    total = _person_count(engine)
    print(f"[{name}] register: {total:,} persons in {copies} kelurahan, loaded in {time.perf_counter() - t0:.0f}s; "
          f"{index_note}", flush=True)

    # 2. Searches, scoped as in the app.
    operator_kel = register_kel[0]
    operator = _actor(engine, "op.bench.search", "operator", operator_kel)
    dinsos = _actor(engine, "dinsos.bench", "dinsos", "31")
    with engine.connect() as conn:
        local = conn.execute(sa.select(Person.nik, Person.nama).join(Family, Family.id == Person.family_id)
                             .where(Family.kelurahan_kode == operator_kel)).all()
        anywhere = conn.execute(sa.select(Person.nik, Person.nama).order_by(sa.func.random()).limit(500)).all()

    def fragments(people) -> list[str]:
        out = []
        while len(out) < QUERIES:
            nama = rng.choice(people)[1]
            size = rng.randint(4, 6)
            if len(nama) < size + 2:
                continue
            start = rng.randint(1, len(nama) - size - 1)  # from the middle: neither the first nor the last letter
            piece = nama[start:start + size]
            if " " not in piece:
                out.append(piece.lower() if rng.random() < 0.5 else piece)
        return out

    def searcher(actor, expect_hits: bool):
        def run(text: str) -> None:
            with db.session_scope(engine) as s:
                hits = search(RegisterQuery(text=text), actor=actor, session=s)
            assert hits or not expect_hits, text
        return run

    search_rows = []
    for label, actor, people in (("kelurahan operator", operator, local), ("province-wide (dinsos)", dinsos,
                                                                             anywhere)):
        for what, queries in (("NIK", [rng.choice(people)[0] for _ in range(QUERIES)]),
                              ("part of a name", fragments(people))):
            samples = sample_seconds(searcher(actor, True), queries)
            search_rows.append((f"search by {what}, {label}: p95 of {len(samples)}", p95(samples), None,
                                f"median {statistics.median(samples) * 1000:.1f}ms, "
                                f"max {max(samples) * 1000:.1f}ms"))
            print(f"[{name}] {search_rows[-1][0]}: {p95(samples) * 1000:.1f}ms", flush=True)

    # 3. Imports of 100,000-person extracts into fresh kelurahan, with their baselines.
    actors = {}

    def import_seconds(data: bytes, filename: str, kel: str, expected: pd.DataFrame, changed: bool = False) -> float:
        if kel not in actors:
            actors[kel] = _actor(engine, f"op.bench.{kel.replace('.', '')}", "operator", kel)
        actor = actors[kel]
        start = time.perf_counter()
        with db.session_scope(engine) as s:
            result = register.import_extract(data, filename, kel, actor=actor, session=s)
        elapsed = time.perf_counter() - start
        assert result.imported and result.counts["blocking"] == 0, result.counts
        assert result.counts["changed" if changed else "new"] == expected["No KK"].nunique(), result.counts
        assert result.counts["persons"] == len(expected)
        return elapsed

    csv_times, csv_base, floor, xlsx_times, xlsx_base, calamine, persons = [], [], [], [], [], [], []
    reimport_times = []
    for r in range(REPEATS):
        kel = import_kel[r]
        frame = _renumber(demo_register.generate(kel, FAMILIES, seed=r), kel, offset=0)
        persons.append(len(frame))
        csv_times.append(import_seconds(demo_register.to_csv(frame), "dtsen.csv", kel, frame))
        families, people = _plain_rows(frame, engine, baseline_kel[r], _register_import(engine, baseline_kel[r]))
        start = time.perf_counter()
        _plain_insert(engine, baseline_kel[r], families, people)
        csv_base.append(time.perf_counter() - start)
        families, people = _plain_rows(frame, engine, floor_kel[r], _register_import(engine, floor_kel[r]))
        start = time.perf_counter()
        _write_floor(engine, floor_kel[r], families, people)
        floor.append(time.perf_counter() - start)
        print(f"[{name}] CSV import {r + 1}: {csv_times[-1]:.2f}s, executemany {csv_base[-1]:.2f}s, "
              f"writes alone {floor[-1]:.2f}s", flush=True)
        # A newer extract of the same kelurahan in which every family's desil moved.
        moved = frame.assign(Desil=(frame["Desil"].astype(int) % 10 + 1).astype(str))
        reimport_times.append(import_seconds(demo_register.to_csv(moved), "dtsen-baru.csv", kel, frame,
                                             changed=True))
        print(f"[{name}] re-import with every family changed {r + 1}: {reimport_times[-1]:.2f}s", flush=True)

        kel = import_kel[REPEATS + r]
        frame = _renumber(demo_register.generate(kel, FAMILIES, seed=100 + r), kel, offset=0)
        data = _xlsx(frame)
        start = time.perf_counter()
        pd.read_excel(io.BytesIO(data), engine="calamine", header=None, dtype=object)
        xlsx_base.append(time.perf_counter() - start)
        start = time.perf_counter()
        python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python(
            skip_empty_area=False)
        calamine.append(time.perf_counter() - start)
        xlsx_times.append(import_seconds(data, "dtsen.xlsx", kel, frame))
        print(f"[{name}] XLSX import {r + 1}: {xlsx_times[-1]:.2f}s, reader {xlsx_base[-1]:.2f}s, "
              f"python-calamine alone {calamine[-1]:.2f}s", flush=True)

    n = statistics.median(persons)
    csv_t, xlsx_t = statistics.median(csv_times), statistics.median(xlsx_times)
    csv_b, floor_t = statistics.median(csv_base), statistics.median(floor)
    report("DTSEN register", [
        (f"import CSV, {n:,.0f} persons (median of {REPEATS})", csv_t, csv_b,
         f"{n / csv_t:,.0f} persons/s (executemany {n / csv_b:,.0f}/s)"),
        (f"writes alone, nothing read or checked (median of {REPEATS})", floor_t, csv_b,
         f"{n / floor_t:,.0f} persons/s: the ceiling of any import here"),
        (f"re-import, every one of {FAMILIES:,} families changed (median of {REPEATS})",
         statistics.median(reimport_times), csv_t, "baseline: the first import of the same extract"),
        (f"import XLSX, {n:,.0f} persons (median of {REPEATS})", xlsx_t, statistics.median(xlsx_base),
         f"{n / xlsx_t:,.0f} persons/s (baseline: read_excel with calamine; python-calamine alone "
         f"{statistics.median(calamine):.2f}s)"),
        *search_rows,
    ], f"{name}, register {total:,} persons")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
