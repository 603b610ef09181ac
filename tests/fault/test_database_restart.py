"""The PostgreSQL server restarted (and stopped for a while) under a running app and under a transaction in flight.

The test runs a PostgreSQL cluster of its own (scripts/pg-throwaway), so restarting it disturbs nobody else. It
is skipped when PostgreSQL's server binaries are missing — unless MUSKEL_REQUIRE_POSTGRES=1, where that fails.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.conftest import log_in
from tests.fault.conftest import (
    ARTIFACTS, KEL, PROJECT_ROOT, Installation, _installation, free_port, kill, run_to_fault, start_app,
)

CONNECTION_LOST = "Sambungan ke basis data terputus"
RAW_ERROR_WORDS = ("Traceback", "OperationalError", "psycopg", "sqlalchemy", "This app has encountered an error")


def pg_ctl(cluster: Path, *args: str) -> None:
    """pg_ctl on the test's own cluster, as the cluster's owner (the `postgres` user when the tests run as root).
    `restart` reuses the server's options by itself; `start` is given them from postmaster.opts (port, socket)."""
    if args[0] == "start":
        options = shlex.split((cluster / "data" / "postmaster.opts").read_text())[1:]
        options = [o for i, o in enumerate(options) if o != "-D" and (i == 0 or options[i - 1] != "-D")]
        args = (*args, "-o", shlex.join(options))
    command = [f"{(cluster / 'bin').read_text().strip()}/pg_ctl", "-D", str(cluster / "data"), "-l",
               str(cluster / "server.log"), "-w", "-t", "60", *args]
    if os.getuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Path]:
    started = subprocess.run([str(PROJECT_ROOT / "scripts" / "pg-throwaway"), "start"], capture_output=True,
                             text=True, timeout=180)
    if started.returncode != 0:
        if os.environ.get("MUSKEL_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"pg-throwaway start failed: {started.stderr}")
        pytest.skip(f"PostgreSQL server binaries not usable: {started.stderr.strip()}")
    path = Path(started.stdout.strip().splitlines()[-1])
    try:
        yield path
    finally:
        from core import db

        db.get_engine.cache_clear()
        subprocess.run([str(PROJECT_ROOT / "scripts" / "pg-throwaway"), "stop", str(path)], timeout=120)


@pytest.fixture(scope="module")
def restartable(cluster, tmp_path_factory) -> Iterator[Installation]:
    """A populated installation whose database lives on the test's own cluster."""
    inst = _installation("postgresql", tmp_path_factory.mktemp("fault-restart"), (cluster / "url").read_text().strip())
    yield inst
    inst.engine.dispose()


def assert_no_raw_error(tab) -> None:
    text = tab.locator("body").inner_text()
    assert not [w for w in RAW_ERROR_WORDS if w in text], text[-2000:]


@pytest.mark.browser
def test_app_survives_a_database_restart(restartable, cluster, browser):
    """Guards a user's session across a database restart: after a restart the next click just works (stale
    connections are replaced); while the server is down the click shows a clear Indonesian message and no
    traceback; once it is back, the same click works."""
    from playwright.sync_api import expect

    from tests.browser.conftest import wait_idle

    inst = restartable
    port = free_port()
    server = start_app(inst, port)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="id-ID")
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    try:
        log_in(tab, f"http://127.0.0.1:{port}", "lurah.kayumanis", "Hendra Gunawan")

        pg_ctl(cluster, "restart", "-m", "fast")
        tab.get_by_role("link", name="Cari keluarga").click()
        expect(tab.get_by_role("heading", name="Cari keluarga")).to_be_visible()
        wait_idle(tab)
        assert_no_raw_error(tab)
        expect(tab.get_by_text(CONNECTION_LOST)).to_have_count(0)

        pg_ctl(cluster, "stop", "-m", "fast")
        try:
            tab.get_by_role("link", name="Temuan data").click()
            expect(tab.get_by_text(CONNECTION_LOST)).to_be_visible()
            wait_idle(tab)
            assert_no_raw_error(tab)
        finally:
            pg_ctl(cluster, "start")
        for retry in ("Cari keluarga", "Temuan data"):  # the user tries again (a click on the current page is none)
            tab.get_by_role("link", name=retry).click()
            expect(tab.get_by_role("heading", name=retry)).to_be_visible()
            wait_idle(tab)
            expect(tab.get_by_text(CONNECTION_LOST)).to_have_count(0)
            assert_no_raw_error(tab)
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "fault-database-restart-failure.png"), full_page=True)
        raise
    finally:
        context.close()
        kill(server)
    inst.verify_audit()


def test_transaction_in_flight_when_the_database_restarts(restartable, cluster, tmp_path):
    """Guards an import whose connection dies mid-transaction: the database restarts while the import waits after
    flushing rows; when it goes on, the command fails with exit 4 and the Indonesian message, nothing was
    committed, the kept copy of the extract was removed by the action's own clean-up (no sweep needed), the chain
    verifies — and the import then succeeds."""
    inst = restartable
    command = inst.cli_command("import-dtsen", str(inst.extract), "--kelurahan", KEL, "--as", "operator.kayumanis",
                               "--json")
    before, files_before = inst.counts(), inst.files_on_disk()
    marker = tmp_path / "dtsen.marker"
    proc = run_to_fault(command, inst.env("dtsen.rows_flushed", marker), marker)
    try:
        assert len(inst.files_on_disk() - files_before) == 1  # the extract's copy, written before the rows
        pg_ctl(cluster, "restart", "-m", "fast")
        marker.unlink()  # let the import go on, on its dead connection
        proc.wait(timeout=120)
    finally:
        kill(proc)
    output = marker.with_suffix(".log").read_text(errors="replace")
    assert proc.returncode == 4, output
    failure = json.loads(output[output.rindex('{"ok": false'):].splitlines()[0])
    assert failure["code"] == "database_connection_lost" and CONNECTION_LOST in failure["message"]
    assert "Traceback" not in output

    assert inst.counts() == before
    assert inst.files_on_disk() == files_before
    inst.verify_audit()
    assert inst.checkpoint_seq() <= inst.chain_length()

    code, stdout = inst.run_here(command)
    assert code == 0, stdout
    assert json.loads(stdout)["new"] == 30
    inst.verify_audit()
