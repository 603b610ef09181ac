"""Load: one ``streamlit run Home.py`` replica on loopback, N browser sessions in one headless Chromium at once.

Issue #9 item 5. The question is how many staff one replica holds before they notice, so the sessions do what
staff do in the days before the cut-off, through the real pages, on the demo installation:

- operators of Kayu Manis put families from the register on the open December agenda (open Tambah usulan,
  filter their RW, tick a family, add it; look at the agenda),
- field officers (petugas) start a visit to an assigned family and upload a 12-megapixel phone photo with GPS,
- one Camat browses the review queue, opens the Palmeriam November batch and goes back to her home page.

Each session logs in, then runs a fixed script of K actions with a fixed think time before each. An action's
latency runs from the click, key or file choice until a DOM condition that only the server's answer can bring
(the new page's heading and its table, the success message, the uploaded photo's GPS caption in the gallery)
and Streamlit reports the script run finished — never a fixed sleep. Sessions start staggered by think/N so
they do not click in lock-step. An action that shows an error, or whose answer does not come within
ACTION_TIMEOUT, counts as an error; the session reloads, logs in again and goes on.

Baseline, in the same run: every role's script alone (one context at a time, own accounts) before the N
contexts; ratio = p50 at N / p50 at 1. The server process tree's RSS (VmRSS) and CPU time (utime+stime, and
on PostgreSQL the database server's, when its postmaster is found by its listening port) are sampled after
warm-up and the single runs (before the N logins), once all N sessions are logged in, and at the end.
Afterwards plain SQL checks that every reported addition and upload is in the database.

The installation is the bench's own: a temporary MUSKEL_DATA_DIR, SQLite in it or a database of its own
(``muskel_bench_load``) on the given PostgreSQL server (dropped afterwards), ``muskel init`` and ``muskel
seed-demo``, then accounts and assignments through the core services. Other jobs may share the CPU: the load
average is printed at start and end, and Chromium's CPU (the client) is printed beside the server's.
Run: python -m bench.bench_load [POSTGRES_URL] [--contexts N] [--actions K] [--think SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from bench.common import drop_database, own_database, p95, report

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
KEL = "31.75.01.1003"  # Kayu Manis: the open December 2026 meeting, the register
DECEMBER = "2026-12"
BENCH_DATABASE = "muskel_bench_load"
PASSWORD = "beban-muskel-2026"
CAMAT = ("camat.matraman", "muskel-demo", "Ratna Sari Dewi")
ACTION_TIMEOUT_MS = 30_000  # an answer later than this counts as an error: staff would think it hung
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
START = time.time()
START_TIMEOUT = 90
OPERATOR_RWS = list(range(2, 9))  # RW 001 is left to the field officers' assignments
ROW_PX, HEADER_PX = 35, 35
VISIBLE_ROWS = 7  # the register grid is 300 px high: rows below it would need scrolling inside the canvas
PHOTO_SIZE = (4000, 3000)
CENTRE = (-6.1985, 106.8655)
CLK_TCK = os.sysconf("SC_CLK_TCK")
LOGIN_ACTIONS = ("buka halaman masuk", "masuk (kata sandi)")


# --- the machine and /proc ------------------------------------------------------------------------------------


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
            found.extend(int(t) for t in text)
    except OSError:
        pass
    return found


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(_children(p))
    return pids


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()  # fields from 3 (state) on


def _cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """utime+stime of the process tree; with ``reaped`` also the root's waited-for children (cutime+cstime),
    which keeps the CPU of PostgreSQL backends that have exited."""
    total = 0
    for p in _tree(pid):
        try:
            f = _stat(p)
        except OSError:
            continue
        total += int(f[11]) + int(f[12])  # utime, stime (fields 14, 15)
        if reaped and p == pid:
            total += int(f[13]) + int(f[14])  # cutime, cstime
    return total / CLK_TCK


def _rss_mb(pid: int) -> float:
    total = 0
    for p in _tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _listening_pid(port: int) -> int | None:
    """The process listening on a local TCP port (the PostgreSQL postmaster), or None when not visible."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    if not inodes:
        return None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(pid)
        except OSError:
            continue
    return None


@dataclass
class Sample:
    wall: float
    server_rss: float
    server_cpu: float
    db_cpu: float | None
    client_cpu: float


class Probe:
    """Samples the server, the database server (when found) and this process's other children (Chromium)."""

    def __init__(self, server_pid: int, db_pid: int | None):
        self.server_pid, self.db_pid = server_pid, db_pid

    def cpu(self) -> tuple[float, float | None]:
        return (_cpu_seconds(self.server_pid),
                _cpu_seconds(self.db_pid, reaped=True) if self.db_pid else None)

    def sample(self) -> Sample:
        server = set(_tree(self.server_pid))
        client = sum(_cpu_seconds(p) for p in _children(os.getpid()) if p not in server)
        return Sample(time.perf_counter(), _rss_mb(self.server_pid), _cpu_seconds(self.server_pid),
                      _cpu_seconds(self.db_pid, reaped=True) if self.db_pid else None, client)


# --- the installation -----------------------------------------------------------------------------------------


def _env(root: Path, url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(MUSKEL_DATA_DIR=str(root), MUSKEL_DATABASE_URL=url, PYTHONUNBUFFERED="1",
               STREAMLIT_SERVER_COOKIE_SECRET=secrets.token_hex(32),
               # All sessions come from 127.0.0.1, where staff come from many addresses: the per-client login
               # limit would otherwise count the whole kota as one machine.
               MUSKEL_LOGIN_MAX_PER_CLIENT="10000")
    for key in ("MUSKEL_IDLE_TIMEOUT_MINUTES", "MUSKEL_BEHIND_PROXY"):
        env.pop(key, None)
    return env


def _cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"muskel {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


@dataclass
class Person:
    role: str  # operator | petugas | camat
    username: str
    password: str
    nama: str
    rw: int = 0  # operators: the RW they filter on
    rows: list[int] = field(default_factory=list)  # operators: grid rows of families not yet on the agenda
    label: str = ""


def _prepare(url: str, n_operators: int, n_petugas: int, cycles: int) -> list[Person]:
    """Accounts for the single runs (index 0) and the N sessions, each operator's families (rows of their RW
    not yet proposed in December) and each officer's assignments — through the core services."""
    from sqlmodel import select

    from core import accounts, db, proposals, verification
    from core.access import SYSTEM_ACTOR
    from core.models import Assignment, Family, Proposal

    engine = db.get_engine(url)
    people: list[Person] = []
    try:
        with db.session_scope(engine) as s:
            for role, count in (("operator", n_operators + 1), ("petugas", n_petugas + 1)):
                for i in range(count):
                    username, nama = f"{role}.beban{i}", f"{role.capitalize()} Beban {i}"
                    accounts.create_account(accounts.NewAccount(username=username, nama=nama, role=role,
                                                                wilayah_kode=KEL),
                                            actor=SYSTEM_ACTOR, session=s, password=PASSWORD, must_change=False)
                    people.append(Person(role, username, PASSWORD, nama))
        with db.session_scope(engine) as s:
            lurah = accounts.actor_for(accounts.get_user(s, "lurah.kayumanis"), channel="cli")
            proposed = set(s.exec(select(Proposal.no_kk).where(Proposal.kelurahan_kode == KEL,
                                                               Proposal.periode == DECEMBER)).all())
            full = dict(s.exec(select(Family.id, Family.no_kk).where(Family.kelurahan_kode == KEL)).all())
            ops = [p for p in people if p.role == "operator"]
            for i, person in enumerate(ops):
                person.rw = OPERATOR_RWS[i % len(OPERATOR_RWS)]
                base = (i // len(OPERATOR_RWS)) * (cycles + 1)
                found = proposals.register_candidates(KEL, rw=str(person.rw), actor=lurah, session=s)
                free = [r for r, f in enumerate(found) if full[f["family_id"]] not in proposed]
                person.rows = free[base:base + cycles + 1]
                if len(person.rows) < cycles or person.rows[-1] > VISIBLE_ROWS - 1:
                    raise SystemExit(f"{person.username}: not enough families within the first {VISIBLE_ROWS} rows "
                                     f"of RW {person.rw:03d} for {cycles} additions; use fewer contexts or actions")
            assigned = set(s.exec(select(Assignment.family_id).where(Assignment.kelurahan_kode == KEL)).all())
            rw1 = [f for f in proposals.register_candidates(KEL, rw="1", actor=lurah, session=s)
                   if f["family_id"] not in assigned]
            officers = [p for p in people if p.role == "petugas"]
            per = cycles + 1
            for i, person in enumerate(officers):
                mine = [f["family_id"] for f in rw1[i * per:(i + 1) * per]]
                verification.assign(KEL, person.username, family_ids=mine, actor=lurah, session=s)
    finally:
        engine.dispose()
    people.append(Person("camat", *CAMAT))
    return people


def _photos(count: int) -> list[tuple[bytes, float]]:
    """``count`` different 12 MP phone photos with GPS (south of the equator) and their latitude."""
    import numpy as np
    from PIL import Image, ImageDraw

    from core.demo_verification import _jpeg

    rng = np.random.default_rng(9)
    w, h = PHOTO_SIZE
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x / w * 200 + 30, y / h * 170 + 40, (x + y) / (w + h) * 150 + 50], -1)
    base += rng.normal(0, 5, base.shape)
    image = Image.fromarray(np.clip(base, 0, 255).astype("uint8"))
    out = []
    for n in range(count):
        img = image.copy()
        draw = ImageDraw.Draw(img)
        for _ in range(30):
            x0, y0 = int(rng.integers(0, w - 600)), int(rng.integers(0, h - 600))
            draw.rectangle([x0, y0, x0 + int(rng.integers(80, 900)), y0 + int(rng.integers(80, 900))],
                           fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
        lat = round(CENTRE[0] - 0.0001 * (n + 1), 5)
        out.append((_jpeg(img, lat, CENTRE[1] + 0.0003, datetime(2026, 12, 3, 9, 15)), lat))
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(env: dict[str, str], root: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    log = open(root / "streamlit.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited: {(root / 'streamlit.log').read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return proc, base_url
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            _stop(proc)
            raise RuntimeError("streamlit not healthy in time")
        time.sleep(0.25)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


# --- the sessions ---------------------------------------------------------------------------------------------


class ActionFailed(Exception):
    pass


@dataclass
class Record:
    phase: str  # "1" or "N"
    role: str
    action: str
    seconds: float
    error: str = ""
    cpu: float | None = None  # server CPU seconds during the action (single sessions only: nobody else runs)
    db_cpu: float | None = None


class Session:
    """One browser context = one member of staff = one Streamlit session."""

    def __init__(self, browser, base_url: str, person: Person, phase: str, records: list[Record],
                 photos: list[tuple[bytes, float]] | None = None, upload_dir: Path | None = None,
                 probe: Probe | None = None):
        self.browser, self.base_url, self.person, self.phase = browser, base_url, person, phase
        self.probe = probe
        self.records, self.photos, self.upload_dir = records, photos or [], upload_dir
        self.context = self.tab = None
        self.done_ok: dict[str, int] = {}
        self.uploaded_lat: list[float] = []
        self.skipped = 0

    async def open(self) -> None:
        self.context = await self.browser.new_context(viewport={"width": 1366, "height": 900}, locale="id-ID")
        self.tab = await self.context.new_page()
        self.tab.set_default_timeout(ACTION_TIMEOUT_MS)

    async def close(self) -> None:
        if self.context is not None:
            await self.context.close()

    # helpers

    async def idle(self) -> None:
        await self.tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                                         state="attached", timeout=ACTION_TIMEOUT_MS)

    async def until(self, locator, *, attached: bool = False) -> None:
        """Until ``locator`` is visible (``attached``: in the page, for the grids' accessible tables) or an error
        is shown, then until the script run has finished."""
        failure = self.tab.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
        await locator.or_(failure).first.wait_for(state="attached" if attached else "visible",
                                                  timeout=ACTION_TIMEOUT_MS)
        if await failure.count():
            raise ActionFailed((await failure.first.inner_text())[:200])
        await self.idle()

    async def timed(self, name: str, fn) -> bool:
        before = self.probe.cpu() if self.probe else None
        start = time.perf_counter()
        try:
            await fn()
        except Exception as exc:  # noqa: BLE001 — any failure of an action is the measured outcome
            self.records.append(Record(self.phase, self.person.role, name, time.perf_counter() - start,
                                       f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"))
            return False
        seconds = time.perf_counter() - start
        cpu = db_cpu = None
        if before is not None:
            after = self.probe.cpu()
            cpu = after[0] - before[0]
            db_cpu = after[1] - before[1] if after[1] is not None else None
        self.records.append(Record(self.phase, self.person.role, name, seconds, cpu=cpu, db_cpu=db_cpu))
        self.done_ok[name] = self.done_ok.get(name, 0) + 1
        return True

    async def nav(self, link: str, heading, row=None) -> None:
        """Follow a sidebar link until the new page's heading (and, given, a row of its table) is there."""
        await self.tab.get_by_test_id("stSidebar").get_by_role("link", name=link, exact=True).click()
        await self.until(heading)
        if row is not None:
            await self.until(row, attached=True)

    def grid(self, index: int = 0):
        return self.tab.get_by_test_id("stDataFrame").filter(visible=True).nth(index)

    def grid_row(self, row: int, text: str, index: int = 0):
        return self.grid(index).locator(f"tr[aria-rowindex='{row + 2}']").filter(has_text=text)

    async def click_row(self, row: int, index: int = 0) -> None:
        grid = self.grid(index)
        await grid.scroll_into_view_if_needed()
        box = await grid.bounding_box()
        await self.tab.mouse.click(box["x"] + 18, box["y"] + HEADER_PX + ROW_PX * row + ROW_PX / 2)

    # logging in

    async def log_in(self) -> bool:
        tab = self.tab

        async def load():
            await tab.goto(self.base_url)
            await self.until(tab.get_by_role("button", name="Masuk"))

        async def submit():
            await tab.get_by_label("Nama pengguna").fill(self.person.username)
            await tab.get_by_label("Kata sandi").fill(self.person.password)
            await tab.get_by_role("button", name="Masuk").click()
            await self.until(tab.get_by_role("heading", name=f"Selamat datang, {self.person.nama}"))

        return await self.timed("buka halaman masuk", load) and await self.timed("masuk (kata sandi)", submit)

    async def recover(self) -> None:
        """After an error: a fresh page load and login, as staff would do (not timed)."""
        try:
            await self.tab.goto(self.base_url)
            await self.tab.get_by_label("Nama pengguna").fill(self.person.username, timeout=ACTION_TIMEOUT_MS)
            await self.tab.get_by_label("Kata sandi").fill(self.person.password)
            await self.tab.get_by_role("button", name="Masuk").click()
            await self.until(self.tab.get_by_role("heading", name=f"Selamat datang, {self.person.nama}"))
        except Exception:  # noqa: BLE001
            pass

    # the scripts: lists of (name, coroutine function); action j of the session is script[j % len(script)]

    def script(self) -> list:
        return {"operator": self.operator_script, "petugas": self.petugas_script,
                "camat": self.camat_script}[self.person.role]()

    def operator_script(self) -> list:
        tab, me = self.tab, self.person
        state = {"cycle": -1}

        async def open_page():
            state["cycle"] += 1  # every round starts here (after an error the rest of a round is skipped)
            await self.nav("Tambah usulan", tab.get_by_role("heading", name="Tambah usulan", exact=True),
                           self.grid_row(0, "/"))

        async def filter_rw():
            box = tab.locator(".st-key-pre_rw input")  # "RW" also labels the new-family form's field
            await box.fill(str(me.rw))
            await box.press("Enter")
            await self.grid(0).scroll_into_view_if_needed()
            await self.until(self.grid_row(0, f"/{me.rw:03d}"), attached=True)

        async def pick():
            rows = me.rows or [0]
            await self.click_row(rows[min(state["cycle"], len(rows) - 1)])
            from playwright.async_api import expect

            await expect(tab.get_by_role("button", name="Tambahkan 1 keluarga ke agenda")).to_be_enabled(
                timeout=ACTION_TIMEOUT_MS)
            await self.idle()

        async def add():
            await tab.get_by_role("button", name="Tambahkan 1 keluarga ke agenda").click()
            await self.until(tab.get_by_text("1 keluarga masuk agenda."))

        async def agenda():
            await self.nav("Agenda usulan", tab.get_by_role("heading", name="Agenda usulan", exact=True))
            await self.until(tab.get_by_text(re.compile(r"^\d+ usulan · \d+ KK · \d+ jiwa$")))

        return [("buka Tambah usulan", open_page), ("saring RW", filter_rw), ("pilih keluarga", pick),
                ("tambah ke agenda", add), ("buka Agenda usulan", agenda)]

    def petugas_script(self) -> list:
        tab = self.tab
        state = {"photo": None}

        async def open_page():
            await self.nav("Kunjungan lapangan", tab.get_by_role("heading", name="Kunjungan lapangan", exact=True))
            await self.until(tab.get_by_role("button", name="Mulai kunjungan"))

        async def start():
            await tab.get_by_role("button", name="Mulai kunjungan").click()
            await self.until(tab.get_by_text("Foto dari ponsel"))

        async def choose():
            data, lat = self.photos.pop()
            path = self.upload_dir / f"IMG_{self.person.username}_{len(self.uploaded_lat)}.jpg"
            path.write_bytes(data)
            state["photo"] = (path, lat)
            async with tab.expect_file_chooser() as chooser:
                await tab.get_by_test_id("stFileUploaderDropzone").click()
            await (await chooser.value).set_files(str(path))
            await self.until(tab.get_by_role("button", name="Unggah"))

        async def upload():
            path, lat = state["photo"]
            await tab.get_by_role("button", name="Unggah").click()
            await self.until(tab.get_by_text(f"{lat:.5f}, "))
            self.uploaded_lat.append(lat)

        async def home():
            await self.nav("Beranda", tab.get_by_role("heading", name=f"Selamat datang, {self.person.nama}"))

        return [("buka Kunjungan lapangan", open_page), ("mulai kunjungan", start), ("pilih foto 12 MP", choose),
                ("unggah foto", upload), ("buka Beranda", home)]

    def camat_script(self) -> list:
        tab = self.tab

        async def queue():
            await self.nav("Tinjau pengajuan", tab.get_by_role("heading", name="Tinjau pengajuan kelurahan"),
                           self.grid_row(0, "Palmeriam"))

        async def open_batch():
            await self.click_row(0)
            await self.until(tab.get_by_role("heading", name="Kel. Palmeriam · periode 2026-11 · Diajukan ke Camat"))

        async def home():
            await self.nav("Beranda", tab.get_by_role("heading", name=f"Selamat datang, {self.person.nama}"))

        return [("buka Tinjau pengajuan", queue), ("buka pengajuan", open_batch), ("buka Beranda", home)]

    async def shot(self, name: str) -> None:
        """A screenshot of the first failure of each role and action, kept in test-artifacts/ (git-ignored)."""
        path = ARTIFACTS / f"load-{self.phase}-{self.person.role}-{name.replace(' ', '_')}.png"
        if path.exists() and path.stat().st_mtime > START:
            return
        try:
            ARTIFACTS.mkdir(exist_ok=True)
            await self.tab.screenshot(path=str(path), full_page=True)
        except Exception:  # noqa: BLE001
            pass

    async def run(self, actions: int, think: float, offset: float) -> None:
        """``actions`` actions of the role's script in a loop. After an error: a screenshot, a fresh login, and
        the rest of that round of the script is skipped (it builds on the failed step) and counted as skipped."""
        await asyncio.sleep(offset)
        script = self.script()
        j = 0
        while j < actions:
            await asyncio.sleep(think)
            name, fn = script[j % len(script)]
            j += 1
            if not await self.timed(name, fn):
                await self.shot(name)
                await self.recover()
                while j < actions and j % len(script):
                    self.skipped += 1
                    j += 1


async def _drive(base_url: str, people: list[Person], n_ops: int, n_pet: int, args, probe: Probe,
                 upload_dir: Path) -> dict:
    from playwright.async_api import async_playwright

    records: list[Record] = []
    samples: dict[str, Sample] = {}
    photo_stock = _photos((n_pet + 1) * (args.actions // 5 + 1))
    by_role = {r: [p for p in people if p.role == r] for r in ("operator", "petugas", "camat")}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"])
        try:
            # Warm-up (not measured): the first runs of each page import its modules.
            for person, pages in ((Person("lurah", "lurah.kayumanis", "muskel-demo", "Hendra Gunawan"),
                                   (("Tambah usulan", "Tambah usulan"), ("Agenda usulan", "Agenda usulan"),
                                    ("Kunjungan lapangan", "Kunjungan lapangan"))),
                                  (Person("camat", *CAMAT), (("Tinjau pengajuan", "Tinjau pengajuan kelurahan"),))):
                warm = Session(browser, base_url, person, "warm", [])
                await warm.open()
                await warm.log_in()
                for link, heading in pages:
                    await warm.nav(link, warm.tab.get_by_role("heading", name=heading, exact=True))
                await warm.close()
            samples["idle"] = probe.sample()
            # 1. every role alone: the baseline.
            t0 = time.perf_counter()
            for role in ("operator", "petugas", "camat"):
                person = by_role[role][0]
                alone = Session(browser, base_url, person, "1", records, photo_stock, upload_dir, probe)
                await alone.open()
                if await alone.log_in():
                    await alone.run(args.actions, args.think, 0.0)
                await alone.close()
            print(f"single sessions ran {time.perf_counter() - t0:.0f}s", flush=True)
            # 2. N at once.
            chosen = by_role["operator"][1:n_ops + 1] + by_role["petugas"][1:n_pet + 1] + by_role["camat"]
            sessions = [Session(browser, base_url, p, "N", records, photo_stock, upload_dir) for p in chosen]
            for s in sessions:
                await s.open()
            await asyncio.sleep(1.0)
            samples["before"] = probe.sample()
            logged = await asyncio.gather(*(s.log_in() for s in sessions))
            samples["logged_in"] = probe.sample()
            n = len(sessions)
            await asyncio.gather(*(s.run(args.actions, args.think, i * args.think / n)
                                   for i, (s, ok) in enumerate(zip(sessions, logged)) if ok))
            samples["end"] = probe.sample()
            skipped = sum(s.skipped for s in sessions)
            added = sum(s.done_ok.get("tambah ke agenda", 0) for s in sessions)
            uploaded = sum(s.done_ok.get("unggah foto", 0) for s in sessions)
            for s in sessions:
                await s.close()
        finally:
            await browser.close()
    return {"records": records, "samples": samples, "sessions": len(chosen), "logged": sum(logged),
            "added_all": sum(1 for r in records if r.action == "tambah ke agenda" and not r.error),
            "uploaded_all": sum(1 for r in records if r.action == "unggah foto" and not r.error),
            "started_all": sum(1 for r in records if r.action == "mulai kunjungan" and not r.error),
            "added_n": added, "uploaded_n": uploaded, "skipped": skipped}


def _counts(url: str) -> tuple[int, int, int]:
    """Plain SQL: December proposals of Kayu Manis, photos and visits of the bench's officers."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            proposals = conn.execute(sa.text(
                "SELECT count(*) FROM proposal WHERE kelurahan_kode = :k AND periode = :p"),
                {"k": KEL, "p": DECEMBER}).scalar_one()
            photos = conn.execute(sa.text(
                "SELECT count(*) FROM visitphoto vp JOIN visit v ON v.id = vp.visit_id "
                "JOIN assignment a ON a.id = v.assignment_id WHERE a.officer LIKE 'petugas.beban%'")).scalar_one()
            visits = conn.execute(sa.text(
                "SELECT count(*) FROM visit v JOIN assignment a ON a.id = v.assignment_id "
                "WHERE a.officer LIKE 'petugas.beban%'")).scalar_one()
    finally:
        engine.dispose()
    return proposals, photos, visits


# --- the report ---------------------------------------------------------------------------------------------


def _report(result: dict, args, database: str, load: tuple[str, str], before_counts, after_counts) -> None:
    records: list[Record] = result["records"]
    s = result["samples"]
    n = result["sessions"]
    names = list(dict.fromkeys(r.action for r in records))
    rows = []
    for name in names:
        at_n = [r for r in records if r.action == name and r.phase == "N"]
        at_1 = [r for r in records if r.action == name and r.phase == "1"]
        ok_n = [r.seconds for r in at_n if not r.error]
        ok_1 = [r.seconds for r in at_1 if not r.error]
        if not ok_n:
            rows.append((name, 0.0, None, f"n={len(at_n)} errors {len(at_n)} (no successful sample)"))
            continue
        cpu_1 = [r.cpu for r in at_1 if not r.error and r.cpu is not None]
        db_1 = [r.db_cpu for r in at_1 if not r.error and r.db_cpu is not None]
        cpu_text = f", server CPU {statistics.median(cpu_1) * 1000:.0f}ms" if cpu_1 else ""
        cpu_text += f" + db {statistics.median(db_1) * 1000:.0f}ms" if db_1 else ""
        rows.append((name, statistics.median(ok_n), statistics.median(ok_1) if ok_1 else None,
                     f"p95 {p95(ok_n) * 1000:6.0f}ms n={len(at_n):3d} errors {len(at_n) - len(ok_n)}"
                     f" | alone: n={len(at_1)} p95 {p95(ok_1) * 1000 if ok_1 else 0:.0f}ms{cpu_text}"))
    every_n = [r.seconds for r in records if r.phase == "N" and not r.error and r.action not in LOGIN_ACTIONS]
    every_1 = [r.seconds for r in records if r.phase == "1" and not r.error and r.action not in LOGIN_ACTIONS]
    if every_n and every_1:
        rows.append(("every action after login", statistics.median(every_n), statistics.median(every_1),
                     f"p95 {p95(every_n) * 1000:6.0f}ms n={len(every_n)} (successful)"))
    report(f"Load, {n} sessions, one replica ({args.actions} actions each, think {args.think:g} s): p50 at N vs "
           "p50 of the same action alone (baseline)", rows, database)
    errors = [r for r in records if r.error]
    all_n = [r for r in records if r.phase == "N" and r.action not in LOGIN_ACTIONS]
    ok_all = [r.seconds for r in all_n if not r.error]
    minutes = (s["end"].wall - s["logged_in"].wall) / 60
    cpu = s["end"].server_cpu - s["logged_in"].server_cpu
    actions = len(all_n)
    print(f"\n{'totals':<48}")
    print(f"  errors: {len(errors)} (target 0) of {len(records)} timed actions "
          f"(N phase {sum(1 for r in records if r.phase == 'N' and r.error)}, alone "
          f"{sum(1 for r in records if r.phase == '1' and r.error)}); actions skipped after an error (rest of "
          f"that round of the script): {result['skipped']}")
    for r in errors[:12]:
        print(f"    [{r.phase}] {r.role} {r.action}: {r.error}")
    if ok_all:
        print(f"  all actions at N (after login): p50 {statistics.median(ok_all) * 1000:.0f} ms, "
              f"p95 {p95(ok_all) * 1000:.0f} ms, max {max(ok_all) * 1000:.0f} ms, n={len(all_n)}")
    print(f"  sessions: {n} ({result['logged']} logged in); roles: "
          + ", ".join(f"{role} {sum(1 for r in records if r.phase == 'N' and r.role == role and r.action == 'masuk (kata sandi)')}"
                      for role in ("operator", "petugas", "camat")))
    print(f"  server RSS: idle after warm-up {s['idle'].server_rss:.0f} MB; before the N logins "
          f"{s['before'].server_rss:.0f} MB; all logged in {s['logged_in'].server_rss:.0f} MB "
          f"(+{(s['logged_in'].server_rss - s['before'].server_rss) / n:.1f} MB/session); end "
          f"{s['end'].server_rss:.0f} MB (+{(s['end'].server_rss - s['before'].server_rss) / n:.1f} MB/session)")
    login_cpu = s["logged_in"].server_cpu - s["before"].server_cpu
    print(f"  server CPU: logins {login_cpu:.1f} s ({login_cpu / n:.2f} s/session); actions {cpu:.1f} s over "
          f"{minutes:.2f} min = {cpu / n / minutes:.2f} CPU-s per session per minute, server busy "
          f"{cpu / minutes / 60:.2f} cores on average "
          f"({cpu / max(actions, 1) * 1000:.0f} ms CPU per action; {actions / n / minutes:.1f} actions per session "
          f"per minute)")
    if s["end"].db_cpu is not None:
        db_cpu = s["end"].db_cpu - s["logged_in"].db_cpu
        print(f"  database server CPU (postmaster + backends): {db_cpu:.1f} s = "
              f"{db_cpu / n / minutes:.2f} CPU-s per session per minute")
    client = s["end"].client_cpu - s["logged_in"].client_cpu
    print(f"  client (Chromium + Playwright driver) CPU on the same cores: {client:.1f} s = "
          f"{client / minutes / 60:.2f} cores on average")
    print(f"  plain SQL: December proposals {before_counts[0]} → {after_counts[0]} "
          f"(+{after_counts[0] - before_counts[0]}; reported added {result['added_all']}); bench officers' photos "
          f"{before_counts[1]} → {after_counts[1]} (reported uploaded {result['uploaded_all']}); their visits "
          f"{before_counts[2]} → {after_counts[2]} (reported started {result['started_all']})")
    print(f"  load average (1/5/15 min): start {load[0]}, end {load[1]}; machine: {os.cpu_count()} cores, "
          f"{_cpu_model()}; database: {database}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_load", description=__doc__.split("\n")[0])
    parser.add_argument("url", nargs="?", help="PostgreSQL URL (a database of the bench's own is made there)")
    parser.add_argument("--contexts", type=int, default=6, help="browser sessions at once (default 6)")
    parser.add_argument("--actions", type=int, default=10, help="actions per session after login (default 10)")
    parser.add_argument("--think", type=float, default=2.0, help="seconds before each action (default 2)")
    args = parser.parse_args(argv)
    if args.contexts < 3:
        parser.error("--contexts: at least 3 (an operator, a field officer and the Camat)")
    n_pet = (args.contexts - 1) // 2
    n_ops = args.contexts - 1 - n_pet
    cycles = args.actions // 5 + 1
    load_start = _loadavg()
    t0 = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="muskel-bench-load-"))
    url = own_database(args.url, BENCH_DATABASE) if args.url else f"sqlite:///{root / 'muskel.db'}"
    database = sa.make_url(url).get_backend_name()
    env = _env(root, url)
    saved = {k: os.environ.get(k) for k in ("MUSKEL_DATA_DIR", "MUSKEL_DATABASE_URL")}
    os.environ["MUSKEL_DATA_DIR"], os.environ["MUSKEL_DATABASE_URL"] = str(root), url
    proc = None
    try:
        _cli(env, "init")
        _cli(env, "seed-demo")
        people = _prepare(url, n_ops, n_pet, cycles)
        before_counts = _counts(url)
        print(f"[{database}] installation ready in {time.perf_counter() - t0:.0f}s: {n_ops} operators, "
              f"{n_pet} field officers, 1 camat (+ one of each role alone first)", flush=True)
        proc, base_url = _start_server(env, root)
        db_pid = _listening_pid(sa.make_url(url).port or 5432) if args.url else None
        upload_dir = root / "upload"
        upload_dir.mkdir()
        result = asyncio.run(_drive(base_url, people, n_ops, n_pet, args, Probe(proc.pid, db_pid), upload_dir))
        after_counts = _counts(url)
        if proc.poll() is not None:
            print("streamlit server exited during the run!", flush=True)
        _report(result, args, database, (load_start, _loadavg()), before_counts, after_counts)
        print(f"[{database}] bench_load ran {time.perf_counter() - t0:.0f}s", flush=True)
    finally:
        if proc is not None:
            _stop(proc)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if args.url:
            drop_database(args.url, BENCH_DATABASE)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
