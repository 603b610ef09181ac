"""The user guide's screenshots, taken from the real app: each role's key screens on the demo data.

The images land in docs/panduan/img/ (the guide shows them in the app and in its PDF); the test also checks that
every picture the guide names exists, so a renamed screen cannot leave the guide with a hole.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core import guide
from tests.browser.conftest import wait_idle

pytestmark = pytest.mark.browser
IMAGES = guide.GUIDE.parent / "img"
PASSWORD = "muskel-demo"


def _login(tab, base: str, username: str) -> None:
    from playwright.sync_api import expect

    tab.goto(base)
    wait_idle(tab)
    tab.get_by_label("Nama pengguna").fill(username)
    tab.get_by_label("Kata sandi").fill(PASSWORD)
    tab.get_by_role("button", name="Masuk").click()
    expect(tab.get_by_role("heading", name="Selamat datang", exact=False)).to_be_visible()
    wait_idle(tab)


def _open(tab, title: str) -> None:
    tab.get_by_test_id("stSidebar").get_by_role("link", name=title, exact=True).click()
    wait_idle(tab)
    tab.wait_for_timeout(800)  # charts and tables finish drawing after the script run


def _shot(tab, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(IMAGES / name))


def test_guide_screenshots_from_the_running_app(browser, muskel_server):
    """Guards the guide: its pictures are the real screens of each role, and none it names is missing."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID")
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    try:
        tab.goto(muskel_server)
        wait_idle(tab)
        _shot(tab, "masuk.png")
        for username, screens in (
                ("lurah.kayumanis", [("Beranda", "lurah_beranda.png"), ("Dokumen", "lurah_dokumen.png"),
                                     ("Pengajuan", "lurah_pengajuan.png")]),
                ("camat.matraman", [("Tinjau pengajuan", "camat_tinjau.png")]),
                ("walikota.jaktim", [("Pengesahan", "walikota_pengesahan.png")])):
            _login(tab, muskel_server, username)
            for title, name in screens:
                if title != "Beranda":
                    _open(tab, title)
                _shot(tab, name)
            tab.get_by_test_id("stSidebar").get_by_role("button", name="Keluar").click()
            wait_idle(tab)
        tab.goto(muskel_server + "/cek_dokumen")
        wait_idle(tab)
        expect(tab.get_by_role("heading", name="Cek keaslian dokumen Muskel")).to_be_visible()
        _shot(tab, "cek_dokumen.png")
    finally:
        context.close()
    missing = [b["path"] for b in guide.blocks() if b["kind"] == "img" and not Path(b["path"]).exists()]
    assert not missing, f"the guide names pictures that were not taken: {missing}"
