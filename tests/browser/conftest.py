"""A real ``streamlit run Home.py`` on a free port with its own fresh SQLite database and the demo accounts,
and Debian's Chromium driven by Playwright.

Without /usr/bin/chromium the browser tests are skipped — unless ``MUSKEL_REQUIRE_BROWSER=1`` (CI), where that
fails the run. Never run ``playwright install``: the Chromium from apt is used.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
START_TIMEOUT = 60


def _require_or_skip(reason: str) -> None:
    if os.environ.get("MUSKEL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"MUSKEL_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["MUSKEL_DATA_DIR"] = str(data_dir)
    env["MUSKEL_DATABASE_URL"] = f"sqlite:///{data_dir / 'muskel.db'}"
    env.pop("MUSKEL_IDLE_TIMEOUT_MINUTES", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not CHROMIUM.exists():
        _require_or_skip(f"{CHROMIUM} tidak ada (pasang paket Debian 'chromium')")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _require_or_skip("paket Python 'playwright' tidak terpasang")
    return str(CHROMIUM)


@contextmanager
def running_muskel(data_dir: Path) -> Iterator[str]:
    """A freshly started Muskel (init, seed-demo, streamlit run) on a free port; always stopped afterwards."""
    env = _server_env(data_dir)
    for command in (["init"], ["seed-demo"]):
        done = subprocess.run([sys.executable, "-m", "core.cli", *command], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"muskel {command[0]} failed:\n{done.stdout}\n{done.stderr}"

    port = _free_port()
    log_path = data_dir / "streamlit.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
                    if response.status == 200 and response.read().decode().strip() == "ok":
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit not healthy after {START_TIMEOUT}s:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.25)
        yield base_url
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def muskel_server(tmp_path_factory, chromium_path) -> Iterator[str]:
    """Base URL of a running Muskel with the demo accounts, shared by the browser tests."""
    with running_muskel(tmp_path_factory.mktemp("muskel-browser")) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser(chromium_path, playwright_driver):
    chromium = playwright_driver.chromium.launch(
        executable_path=chromium_path,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--no-first-run"])
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def page(browser, muskel_server, request):
    """A fresh browser tab (own cookies, so its own Streamlit session); a screenshot is kept on failure too."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    try:
        yield tab
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failure.png"), full_page=True)
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


def wait_idle(tab) -> None:
    """Until Streamlit has finished the current script run."""
    tab.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", state="attached")


DEMO_PASSWORD = "muskel-demo"


def settle(tab) -> None:
    """Until the rerun the last action caused has started and finished."""
    tab.wait_for_timeout(400)
    wait_idle(tab)


def log_in(tab, base_url: str, username: str, nama: str, *, timeout: float | None = None) -> None:
    """Log in with the demo password and wait for the home's greeting of ``nama``."""
    from playwright.sync_api import expect

    tab.goto(base_url)
    wait_idle(tab)
    tab.get_by_label("Nama pengguna").fill(username)
    tab.get_by_label("Kata sandi").fill(DEMO_PASSWORD)
    tab.get_by_role("button", name="Masuk").click()
    expect(tab.get_by_role("heading", name=f"Selamat datang, {nama}")).to_be_visible(timeout=timeout)
    settle(tab)
