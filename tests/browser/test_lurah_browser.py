"""A lurah's login, home, navigation and logout in a real browser against ``streamlit run``."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, wait_idle

pytestmark = pytest.mark.browser


def test_lurah_logs_in_sees_only_own_pages_and_logs_out(page, muskel_server):
    """Guards: the real browser path of login → the role's home (no AppTest quirk hides a wrong landing page),
    the identity panel, the absence of admin/audit links for a lurah, and logout back to the login page."""
    from playwright.sync_api import expect

    page.goto(muskel_server)
    wait_idle(page)
    expect(page.get_by_role("heading", name="Muskel")).to_be_visible()
    expect(page.get_by_text("Instalasi demo.")).to_be_visible()

    page.get_by_label("Nama pengguna").fill("lurah.kayumanis")
    page.get_by_label("Kata sandi").fill("muskel-demo")
    page.get_by_role("button", name="Masuk").click()

    expect(page.get_by_role("heading", name="Selamat datang, Hendra Gunawan")).to_be_visible()
    wait_idle(page)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("Hendra Gunawan")
    expect(sidebar).to_contain_text("Lurah")
    expect(sidebar).to_contain_text("Kayu Manis")
    expect(sidebar.get_by_role("link", name="Beranda")).to_be_visible()
    expect(sidebar.get_by_role("link", name="Wilayah saya")).to_be_visible()
    expect(sidebar.get_by_role("link", name="Akun saya")).to_be_visible()
    expect(page.get_by_role("link", name="Kelola akun")).to_have_count(0)
    expect(page.get_by_role("link", name="Log audit")).to_have_count(0)
    expect(page.get_by_role("link", name="Profil kantor")).to_have_count(0)
    expect(page.get_by_text("Kelola akun")).to_have_count(0)

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lurah-beranda.png"), full_page=True)

    sidebar.get_by_role("button", name="Keluar").click()
    expect(page.get_by_text("Anda telah keluar")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Muskel")).to_be_visible()
    expect(page.get_by_label("Nama pengguna")).to_be_visible()
    expect(page.get_by_role("button", name="Masuk")).to_be_visible()
    expect(page.get_by_text("Hendra Gunawan")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "lurah-keluar.png"), full_page=True)
