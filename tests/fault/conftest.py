"""Installations for the fault tests: a small but complete Muskel on SQLite and on PostgreSQL, and the means to kill
a process at a named fault point (``core.faultpoint``).

Each installation has its own data directory and database (on PostgreSQL a database ``muskel_fault_<random>``
created on the server of ``MUSKEL_TEST_POSTGRES_URL`` and dropped afterwards — never the URL's own database). It
holds the accounts of the kelurahan Kayu Manis and its reviewers, a small DTSEN register, a visit in progress for
the field officer, a forwarded batch with four items waiting for the Walikota, and a second extract to import.
Everything is made through the real services; what a test checks afterwards is read with plain SQL, hashlib,
the file system and ``muskel verify-audit``.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.pg_scratch import scratch_database

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
KEL, KEC, KOTA = "31.75.01.1003", "31.75.01", "31.75"
PASSWORD = "muskel-demo"
ACCOUNTS = (  # username, name, role, wilayah
    ("operator.kayumanis", "Sari Wulandari", "operator", KEL),
    ("lurah.kayumanis", "Hendra Gunawan", "lurah", KEL),
    ("petugas.kayumanis", "Budi Santoso", "petugas", KEL),
    ("camat.matraman", "Dewi Lestari", "camat", KEC),
    ("walikota.jaktim", "Bambang Wijaya", "walikota", KOTA),
)
FAULT_WAIT_SECONDS = 120  # a process that never reaches its fault point fails the test instead of hanging it


@dataclass
class Installation:
    kind: str  # sqlite | postgresql
    data_dir: Path
    url: str
    engine: sa.Engine
    visit_id: int = 0
    batch_id: int = 0
    items: list[int] = field(default_factory=list)
    extract: Path | None = None

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    def env(self, fault: str | None = None, marker: Path | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MUSKEL_FAULT_")}
        env.update(MUSKEL_DATA_DIR=str(self.data_dir), MUSKEL_DATABASE_URL=self.url, PYTHONUNBUFFERED="1")
        env.pop("MUSKEL_FILE_STORE", None)
        if fault:
            env.update(MUSKEL_FAULT_AT=fault, MUSKEL_FAULT_MARKER=str(marker))
        return env

    # --- independent oracles -------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Rows of every table, by plain SQL."""
        tables = sorted(sa.inspect(self.engine).get_table_names())
        with self.engine.connect() as conn:
            return {t: conn.execute(sa.text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in tables}

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def files_on_disk(self) -> set[str]:
        return {p.name for p in self.files_dir.glob("??/??/*") if p.is_file() and len(p.name) == 64}

    def referenced_files(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(conn.execute(sa.text("SELECT sha256 FROM storedfile")).scalars())

    def chain_length(self) -> int:
        return self.scalar("SELECT COUNT(*) FROM auditentry")

    def checkpoint_seq(self) -> int | None:
        """The audit checkpoint outside the database, read straight from its JSON file."""
        found = sorted((self.data_dir / "audit").glob("checkpoint-*.json"))
        assert len(found) <= 1, found  # one database per installation, so at most one checkpoint
        return json.loads(found[0].read_text())["seq"] if found else None

    def action(self, *args: str) -> list[str]:
        """The command line of one user action run the way the app runs it (tests/fault/act.py)."""
        return [sys.executable, "-m", "tests.fault.act", *args]

    def cli_command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "core.cli", *args]

    def run_here(self, command: list[str]) -> tuple[int, str]:
        """Run a command of ``action``/``cli_command`` in this process (exit code, stdout): the retry after a kill
        needs no process of its own, and starting Python with Muskel's imports costs seconds on a busy machine."""
        from core import cli
        from tests.fault import act

        module, args = command[2], command[3:]
        main = {"core.cli": cli.main, "tests.fault.act": act.main}[module]
        out = io.StringIO()
        with pointed_at(self), redirect_stdout(out):
            code = main(list(args))
        return code, out.getvalue()

    def verify_audit(self) -> dict:
        """`muskel verify-audit --json` (its entry point, in this process): exit 0 and ok."""
        code, stdout = self.run_here(self.cli_command("verify-audit", "--json"))
        assert code == 0, f"verify-audit failed:\n{stdout}"
        report = json.loads(stdout)
        assert report["ok"] is True, report
        return report


def run_to_fault(command: list[str], env: dict[str, str], marker: Path) -> subprocess.Popen:
    """Start ``command`` and return once it waits at its fault point (the marker file exists)."""
    marker.unlink(missing_ok=True)
    log_path = marker.with_suffix(".log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    wait_for_marker(proc, marker, log_path)
    return proc


def wait_for_marker(proc: subprocess.Popen, marker: Path, log_path: Path | None = None) -> None:
    """Until the process waits at its fault point; fails if it ends first or never gets there."""
    deadline = time.monotonic() + FAULT_WAIT_SECONDS
    while not marker.exists():
        if proc.poll() is not None:
            log = log_path.read_text(errors="replace") if log_path else ""
            pytest.fail(f"{proc.args} ended ({proc.returncode}) before its fault point:\n{log}")
        if time.monotonic() > deadline:
            kill(proc)
            pytest.fail(f"{proc.args} did not reach its fault point")
        time.sleep(0.05)


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started: no clean-up code of the app runs."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def sweep_orphans(inst: Installation) -> list[str]:
    """The file store's clean-up as the app runs it on start (ui.session), with the age guard set to zero through
    its parameter, so the test need not wait an hour for the files the killed process left behind."""
    from core import db, filestore

    with db.session_scope(inst.engine) as session:
        return filestore.collect_garbage(session, filestore.LocalFileStore(inst.files_dir), min_age_seconds=0)


@contextmanager
def pointed_at(inst: Installation) -> Iterator[None]:
    """Services in this process read the data directory (file store, audit checkpoint) from the environment."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MUSKEL_DATA_DIR", str(inst.data_dir))
        mp.setenv("MUSKEL_DATABASE_URL", inst.url)
        mp.delenv("MUSKEL_FILE_STORE", raising=False)
        yield


def extract_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The register at setup (12 families) and a later extract with the same families plus 30 new ones."""
    from core import demo_register

    first = demo_register.generate(KEL, 12, seed=7501)
    later = pd.concat([first, demo_register.generate(KEL, 30, seed=9902, id_prefix="DX")], ignore_index=True)
    return first, later


def populate(inst: Installation) -> None:
    """Accounts, register, a visit in progress, a forwarded batch and the next extract — through the services."""
    from argon2 import PasswordHasher

    from core import accounts, db, demo_register, passwords, proposals, register, setup, verification, workflow
    from core.access import SYSTEM_ACTOR, Actor, Role
    from core.config import load_settings
    from tests.unit import test_workflow as wf

    with pointed_at(inst), pytest.MonkeyPatch.context() as mp:
        # A light argon2 setting keeps the setup fast; logins verify with the parameters stored in each hash.
        mp.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        setup.initialise(load_settings(), inst.engine)
        people = {}
        with db.session_scope(inst.engine) as s:
            for username, nama, role, kode in ACCOUNTS:
                accounts.create_account(accounts.NewAccount(username=username, nama=nama, role=role, wilayah_kode=kode),
                                        actor=SYSTEM_ACTOR, session=s, password=PASSWORD, must_change=False)
                people[role] = Actor(username, nama, Role(role), kode)
        first, later = extract_frames()
        with db.session_scope(inst.engine) as s:
            done = register.import_extract(demo_register.to_csv(first), "dtsen_awal.csv", KEL,
                                           actor=people["operator"], session=s)
            assert done.imported, done.blocking
        inst.extract = inst.data_dir / "dtsen_berikutnya.csv"
        inst.extract.write_bytes(demo_register.to_csv(later))
        with db.session_scope(inst.engine) as s:
            family = proposals.register_candidates(KEL, actor=people["lurah"], session=s)[0]
            assignment = verification.assign(KEL, "petugas.kayumanis", family_ids=[family["family_id"]],
                                             actor=people["lurah"], session=s)[0]
        with db.session_scope(inst.engine) as s:
            inst.visit_id = verification.start_visit(assignment["id"], actor=people["petugas"], session=s)["id"]
        crew = wf.People(operator=people["operator"], lurah=people["lurah"], camat=people["camat"],
                         walikota=people["walikota"], camat_other=people["camat"], lurah_other=people["lurah"])
        ready = wf.build_ready(inst.engine, crew)
        inst.batch_id, inst.items = ready.batch_id, ready.items
        for action, who in (("ajukan", "lurah"), ("teruskan", "camat")):
            with db.session_scope(inst.engine) as s:
                workflow.act(inst.batch_id, action, actor=people[who], session=s)


def _installation(kind: str, root: Path, url: str) -> Installation:
    from core import db

    engine = db.get_engine(url)
    inst = Installation(kind=kind, data_dir=root, url=url, engine=engine)
    populate(inst)
    return inst


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def installation(request, tmp_path_factory) -> Iterator[Installation]:
    """A populated installation on each backend, shared by one module's tests (each test measures its own
    before-state)."""
    root = tmp_path_factory.mktemp(f"fault-{request.param}")
    if request.param == "sqlite":
        inst = _installation("sqlite", root, f"sqlite:///{root / 'muskel.db'}")
        yield inst
        inst.engine.dispose()
        return
    with scratch_database("muskel_fault") as url:
        inst = _installation("postgresql", root, url)
        yield inst
        inst.engine.dispose()


@pytest.fixture(scope="module")
def sqlite_installation(tmp_path_factory) -> Iterator[Installation]:
    root = tmp_path_factory.mktemp("fault-sqlite-app")
    inst = _installation("sqlite", root, f"sqlite:///{root / 'muskel.db'}")
    yield inst
    inst.engine.dispose()


# --- the real app ---------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(inst: Installation, port: int, *, fault: str | None = None, marker: Path | None = None,
              log_name: str = "streamlit.log") -> subprocess.Popen:
    """`streamlit run Home.py` on ``port`` for this installation; returns once it answers its health check."""
    log_path = inst.data_dir / log_name
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.headless", "true", "--server.port",
             str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=PROJECT_ROOT, env=inst.env(fault, marker), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    deadline = time.monotonic() + FAULT_WAIT_SECONDS
    while True:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return proc
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            kill(proc)
            pytest.fail(f"streamlit not healthy:\n{log_path.read_text(errors='replace')}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def browser(playwright_driver):
    """Debian's Chromium through Playwright (never `playwright install`); skipped without it, as in tests/browser."""
    from playwright.sync_api import expect

    from tests.browser.conftest import CHROMIUM, _require_or_skip

    if not CHROMIUM.exists():
        _require_or_skip(f"{CHROMIUM} tidak ada (pasang paket Debian 'chromium')")
    expect.set_options(timeout=30_000)  # a busy shared machine renders slowly; waits end as soon as the page is there
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"])
    try:
        yield chromium
    finally:
        chromium.close()


