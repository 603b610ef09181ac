"""Server-side script time of the meeting screens with a big musyawarah (500 proposals, 60 attendees).

Target (issue 4): the meeting screen's AppTest run, median of repeated runs, ≤ 300 ms. Baseline: the same screen
for an empty musyawarah of the same kelurahan, measured in the same run on the same database.

Measured with Streamlit's AppTest on Home.py (login gate, idle timeout, navigation — as a server runs it), the
login seeded into session state as tests/app/conftest.py does. Run: python -m bench.bench_meeting
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

FAMILIES = 650
PROPOSALS = 500
ATTENDEES = 60
RUNS = 9
TARGET_SECONDS = 0.300
KAYUMANIS = "31.75.01.1003"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _environment() -> Path:
    """A fresh data dir and SQLite database, set in the environment before anything reads the settings."""
    root = Path(tempfile.mkdtemp(prefix="muskel-bench-meeting-"))
    os.environ["MUSKEL_DATA_DIR"] = str(root)
    os.environ["MUSKEL_DATABASE_URL"] = f"sqlite:///{root / 'muskel.db'}"
    os.environ.pop("MUSKEL_IDLE_TIMEOUT_MINUTES", None)
    return root


def _hold_no_pages_directory() -> None:
    """As tests/app/conftest.py: keep Streamlit's legacy-pages flag off so every run goes through Home.py."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init


def _build(root: Path):
    """Operator account, register of FAMILIES families, an empty and a full musyawarah; returns their ids."""
    from sqlmodel import select

    from core import accounts, db, meetings, proposals, register, setup
    from core.access import SYSTEM_ACTOR
    from core.config import load_settings
    from core.demo_register import generate, to_csv
    from core.models import Family, Person

    settings = load_settings()
    assert str(root) in settings.database_url, settings.database_url
    engine = db.get_engine(settings.database_url)
    setup.initialise(settings, engine)
    with db.session_scope() as s:
        accounts.create_account(accounts.NewAccount(username="operator.bench", nama="Operator Bench", role="operator",
                                                    wilayah_kode=KAYUMANIS),
                                actor=SYSTEM_ACTOR, session=s, password="rahasia-sekali", must_change=False)
        actor = accounts.actor_for(accounts.get_user(s, "operator.bench"), channel="cli")
    start = time.perf_counter()
    with db.session_scope() as s:
        result = register.import_extract(to_csv(generate(KAYUMANIS, FAMILIES, seed=5)), "bench.csv", KAYUMANIS,
                                         actor=actor, session=s)
    assert result.imported, result.counts
    print(f"register: {result.counts['persons']} persons in {FAMILIES} families "
          f"({time.perf_counter() - start:.1f}s)", flush=True)

    start = time.perf_counter()
    with db.session_scope() as s:
        empty = meetings.create_meeting(KAYUMANIS, "2027-01", actor=actor, session=s)["id"]
        full = meetings.create_meeting(KAYUMANIS, "2027-02", actor=actor, session=s)["id"]
        unsur = ["Lurah", "LMK", "Ketua RW", "Ketua RT", "TP PKK", "PSM", "Tokoh masyarakat"]
        for n in range(ATTENDEES):
            meetings.add_attendee(full, {"nama": f"Peserta {n + 1:02d}", "unsur": unsur[n % len(unsur)] if n else
                                         "Lurah", "jabatan": f"Jabatan {n + 1}", "alamat": f"RT 0{n % 9 + 1}/RW 0{n % 7 + 1}",
                                         "telepon": "0812345678", "jenis_kelamin": "LP"[n % 2]},
                                  actor=actor, session=s)
    with db.session_scope() as s:
        families = s.exec(select(Family.id).where(Family.kelurahan_kode == KAYUMANIS).order_by(Family.id)).all()
    plan = [("baru", "", ["PKH"]), ("baru", "", ["PKH", "PBI-JK"]), ("nonaktif", "meninggal", []),
            ("prioritas_program", "", ["PIP"]), ("nonaktif", "pindah_dalam_negeri", [])]
    for chunk in range(0, PROPOSALS, 100):
        with db.session_scope() as s:
            for n in range(chunk, min(chunk + 100, PROPOSALS)):
                jenis, reason, programs = plan[n % len(plan)]
                niks = None
                if jenis == "nonaktif":
                    niks = s.exec(select(Person.nik).where(Person.family_id == families[n])
                                  .order_by(Person.id).limit(1)).all()
                item = proposals.add_from_register(full, families[n], jenis=jenis, alasan_nonaktif=reason,
                                                   programs=programs, member_niks=niks, alasan="Usulan RW",
                                                   actor=actor, session=s)
                if n % 3 == 0:
                    proposals.set_decision(item["id"], ["disepakati", "ditunda", "tidak_disepakati"][n % 9 // 3], "",
                                           seen="", actor=actor, session=s)
    with db.session_scope() as s:
        count = len(proposals.list_proposals(full, actor=actor, session=s))
        people = len(meetings.attendees(full, actor=actor, session=s))
    assert (count, people) == (PROPOSALS, ATTENDEES), (count, people)
    print(f"musyawarah: {count} proposals, {people} attendees ({time.perf_counter() - start:.1f}s)", flush=True)
    return actor, empty, full


def _app(actor, meeting_id: int, page: str, *, select_row: int | None = None):
    """An AppTest of Home.py logged in as ``actor``, on ``page``, working on ``meeting_id`` (already run once)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=60)
    at.session_state["_auth"] = {"username": actor.username, "nama": actor.nama, "role": str(actor.role),
                                 "wilayah_kode": actor.wilayah_kode, "must_change": False, "last_seen": time.time()}
    at.session_state["meeting_id"] = meeting_id
    if select_row is not None:
        at.session_state["agenda_table"] = {"selection": {"rows": [select_row], "columns": [], "cells": []}}
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert not [e.value for e in at.error], [e.value for e in at.error]
    return at


def _median_run(at, check) -> float:
    at.run()  # warm-up
    check(at)
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        at.run()
        samples.append(time.perf_counter() - start)
    check(at)
    return statistics.median(samples)


def _shows(text: str):
    def check(at) -> None:
        from tests.app.conftest import screen_text

        assert not at.exception, at.exception
        assert text in screen_text(at), f"{text!r} not on screen"
    return check


def main() -> None:
    root = _environment()
    _hold_no_pages_directory()
    from bench.common import report

    actor, empty, full = _build(root)
    rows = []
    cases = [
        ("Agenda usulan (rapat_usulan), no item selected", "pages/rapat_usulan.py", None,
         f"{PROPOSALS} usulan", "Belum ada usulan"),
        ("Agenda usulan, one item selected (decision form)", "pages/rapat_usulan.py", 250,
         "Keputusan musyawarah", "Belum ada usulan"),
        ("Daftar hadir (rapat_hadir)", "pages/rapat_hadir.py", None, f"{ATTENDEES} peserta", "0 peserta"),
    ]
    for what, page, row, full_text, empty_text in cases:
        base = _median_run(_app(actor, empty, page), _shows(empty_text))
        value = _median_run(_app(actor, full, page, select_row=row), _shows(full_text))
        verdict = "OK" if value <= TARGET_SECONDS else "OVER TARGET"
        rows.append((what, value, base, f"target ≤ {TARGET_SECONDS * 1000:.0f} ms: {verdict}"))
        print(f"{what}: {value * 1000:.1f}ms (empty musyawarah {base * 1000:.1f}ms)", flush=True)
    report(f"Musyawarah screens, AppTest run of Home.py + page, median of {RUNS} runs "
           f"({PROPOSALS} proposals, {ATTENDEES} attendees; baseline: empty musyawarah)", rows,
           f"sqlite, {root}")


if __name__ == "__main__":
    main()
