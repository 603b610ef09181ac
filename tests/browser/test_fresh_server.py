"""The very first request to a freshly started server, when it asks for a page address directly."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, running_muskel, wait_idle

pytestmark = pytest.mark.browser


def test_first_request_for_an_admin_page_gets_the_login_page(browser, tmp_path):
    """Guards: Streamlit's legacy `pages/` mode on a new server process, which would run pages/kelola_akun.py
    without Home.py's login gate and list every page file in the sidebar to a visitor who is not logged in."""
    from playwright.sync_api import expect

    with running_muskel(tmp_path) as base_url:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        try:
            tab.goto(f"{base_url}/kelola_akun")
            expect(tab.get_by_role("button", name="Masuk")).to_be_visible()
            wait_idle(tab)
            expect(tab.get_by_label("Nama pengguna")).to_be_visible()
            for name in ("kelola akun", "Kelola akun", "log audit", "profil kantor", "beranda"):
                expect(tab.get_by_role("link", name=name)).to_have_count(0)
            expect(tab.get_by_text("Buat akun baru")).to_have_count(0)
            ARTIFACTS.mkdir(exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / "fresh-server-kelola-akun.png"), full_page=True)
        finally:
            context.close()
