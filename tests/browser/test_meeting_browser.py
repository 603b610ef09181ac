"""A small musyawarah run in a real browser against ``streamlit run``: open the meeting, fill its record, three
attendees, five families from the register, decisions — a page reload in the middle — and closing.

The server is this test's own (``running_muskel``: fresh database, demo data), so no other browser test shares
its meeting period. Streamlit dataframes are drawn on a canvas (glide-data-grid); a row is selected by clicking
its checkbox cell at the grid's left edge, at coordinates computed from the grid's box (a header row and rows of
35 px), and the selection is verified through the grid's accessible table (``tr[aria-selected]``) and the page's
reaction to it.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS, running_muskel, wait_idle

pytestmark = pytest.mark.browser

USER, PASSWORD = "lurah.kayumanis", "muskel-demo"
PERIOD = "2027-01"
ATTENDEES = [("Hendra Gunawan", "Lurah"), ("Bapak Ketua RW 03", "Ketua RW"), ("H. Abdul Rahman", "LMK")]
DECISIONS = ["Disepakati", "Disepakati", "Tidak disepakati", "Ditunda", "Disepakati"]
ROW_PX, HEADER_PX = 35, 35


def _shot(tab, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"meeting-{name}.png"), full_page=True)


def _settle(tab) -> None:
    """Until the rerun the last action caused has started and finished."""
    tab.wait_for_timeout(400)
    wait_idle(tab)


def _log_in(tab) -> None:
    from playwright.sync_api import expect

    tab.get_by_label("Nama pengguna").fill(USER)
    tab.get_by_label("Kata sandi").fill(PASSWORD)
    tab.get_by_role("button", name="Masuk").click()
    expect(tab.get_by_label("Nama pengguna")).to_have_count(0)
    _settle(tab)


def _go(tab, link: str, heading: str) -> None:
    from playwright.sync_api import expect

    tab.get_by_test_id("stSidebar").get_by_role("link", name=link, exact=True).click()
    expect(tab.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    _settle(tab)


def _autosave(tab, label: str, text: str) -> None:
    box = tab.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Tab")
    _settle(tab)


def _grid(tab, index: int = 0):
    return tab.get_by_test_id("stDataFrame").nth(index)


def _click_row(tab, row: int, grid_index: int = 0) -> None:
    """Click the selection checkbox of data row ``row`` (0-based) of a dataframe with on_select."""
    grid = _grid(tab, grid_index)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    tab.mouse.click(box["x"] + 18, box["y"] + HEADER_PX + ROW_PX * row + ROW_PX / 2)
    _settle(tab)


def _cells(tab, row: int, grid_index: int = 0) -> list[str]:
    """The cell texts of data row ``row`` from the grid's accessible table (only rows in view are in it)."""
    grid = _grid(tab, grid_index)
    grid.scroll_into_view_if_needed()
    cells: list[str] = []
    for _ in range(50):  # the accessible table is filled a moment after the canvas is drawn
        cells = grid.locator(f"tr[aria-rowindex='{row + 2}'] td").all_inner_texts()
        if any(c.strip() for c in cells):
            break
        tab.wait_for_timeout(100)
    return cells


def _row_text(tab, row: int, grid_index: int = 0) -> str:
    return " | ".join(_cells(tab, row, grid_index))


def _expect_row(tab, row: int, *parts: str, grid_index: int = 0) -> None:
    """Data row ``row`` shows every one of ``parts`` (within a few seconds: the grid redraws after a rerun)."""
    text = ""
    for _ in range(50):
        text = _row_text(tab, row, grid_index)
        if all(part in text for part in parts):
            return
        tab.wait_for_timeout(100)
    raise AssertionError(f"row {row}: {parts} not in {text!r}")


def _selected_rows(tab, grid_index: int = 0) -> int:
    return _grid(tab, grid_index).locator("tr[role='row'][aria-selected='true']").count()


def _check_record(tab) -> None:
    """The musyawarah page shows the date, start time and notulis that were typed."""
    from playwright.sync_api import expect

    expect(tab.get_by_label("Tanggal", exact=True)).to_contain_text(re.compile(r"14\s*/\s*01\s*/\s*2027"))
    expect(tab.get_by_label("Mulai (JJ.MM)", exact=True)).to_have_value("09.00")
    expect(tab.get_by_label("Notulis", exact=True)).to_have_value("Sari Wulandari")


def _check_attendance(tab) -> None:
    from playwright.sync_api import expect

    expect(tab.get_by_text("Kuorum terpenuhi")).to_be_visible()
    expect(tab.get_by_role("heading", name="3 peserta")).to_be_visible()
    for row, (nama, unsur) in enumerate(ATTENDEES):
        _expect_row(tab, row, nama, unsur)


def _decide(tab, row: int, decision: str) -> None:
    from playwright.sync_api import expect

    _click_row(tab, row)
    assert _selected_rows(tab) == 1
    expect(tab.get_by_text(f"No. {row + 1} ·")).to_be_visible()  # the item's detail under the table
    tab.get_by_test_id("stRadio").filter(has_text="Keputusan musyawarah").get_by_text(decision, exact=True).click()
    _settle(tab)
    expect(tab.get_by_test_id("stRadio").filter(has_text="Keputusan musyawarah").get_by_role("radio", name=decision,
                                                                                             exact=True)).to_be_checked()
    _expect_row(tab, row, decision)


def _check_decisions(tab, upto: int) -> None:
    for row in range(upto):
        _expect_row(tab, row, DECISIONS[row])
    for row in range(upto, 5):
        _expect_row(tab, row, "—")


def run_meeting(tab, base_url: str, period: str = PERIOD) -> None:
    from playwright.sync_api import expect

    tab.goto(base_url)
    wait_idle(tab)
    _log_in(tab)

    # 1. Open the period's musyawarah and fill its record (each field stored when leaving it).
    _go(tab, "Musyawarah", "Musyawarah kelurahan")
    tab.get_by_text("Buka musyawarah baru").click()
    _autosave(tab, "Periode (YYYY-MM)", period)
    tab.get_by_role("button", name="Buka musyawarah").click()
    _settle(tab)
    expect(tab.get_by_role("combobox", name="Musyawarah")).to_have_value(
        f"Periode {period} · tanggal belum diisi · berlangsung")
    date_field = tab.get_by_label("Tanggal", exact=True)
    date_field.locator("[role=spinbutton]").first.click()
    tab.keyboard.type("14012027")
    tab.keyboard.press("Tab")
    _settle(tab)
    _autosave(tab, "Mulai (JJ.MM)", "09.00")
    _autosave(tab, "Notulis", "Sari Wulandari")
    expect(tab.get_by_text("Tersimpan.").first).to_be_visible()
    _check_record(tab)
    _shot(tab, "1-record")

    # 2. Three attendees: Lurah, Ketua RW, LMK → quorum met.
    _go(tab, "Daftar hadir", "Daftar hadir")
    expect(tab.get_by_text("Kuorum BELUM terpenuhi")).to_be_visible()
    for n, (nama, unsur) in enumerate(ATTENDEES, start=1):
        tab.get_by_label("Nama", exact=True).fill(nama)
        tab.get_by_role("combobox", name="Unsur").click()
        tab.get_by_role("option", name=unsur, exact=True).click()
        tab.get_by_role("button", name="Tambah", exact=True).click()
        _settle(tab)
        expect(tab.get_by_role("heading", name=f"{n} peserta")).to_be_visible()
        expect(tab.get_by_label("Nama", exact=True)).to_have_value("")  # the form was cleared after storing
    _check_attendance(tab)
    _shot(tab, "2-attendance")

    # 3. Five families from the register.
    _go(tab, "Tambah usulan", "Tambah usulan")
    for row in range(5):
        _click_row(tab, row)
    assert _selected_rows(tab) == 5
    chosen = [_cells(tab, row)[0] for row in range(5)]
    add = tab.get_by_role("button", name="Tambahkan 5 keluarga ke agenda")
    expect(add).to_be_enabled()
    add.click()
    _settle(tab)
    expect(tab.get_by_text("5 keluarga masuk agenda.")).to_be_visible()
    _shot(tab, "3-added")

    # 4. Decide three of them.
    _go(tab, "Agenda usulan", "Agenda usulan")
    expect(tab.get_by_text(re.compile(r"^5 usulan · 5 KK · \d+ jiwa$"))).to_be_visible()
    for row in range(5):
        _expect_row(tab, row, chosen[row])
    for row in range(3):
        _decide(tab, row, DECISIONS[row])
    _check_decisions(tab, 3)
    _shot(tab, "4-decided-before-reload")

    # 5. Reload: a new Streamlit session, so the login page — under the meeting page's own address, without
    # Streamlit's "Page not found" — and after logging in, that same page again; nothing may be lost.
    tab.reload()
    expect(tab.get_by_label("Nama pengguna")).to_be_visible()
    _settle(tab)
    expect(tab.get_by_role("dialog").filter(has_text="Page not found")).to_have_count(0)
    _log_in(tab)
    expect(tab.get_by_role("heading", name="Agenda usulan", exact=True)).to_be_visible()
    _go(tab, "Agenda usulan", "Agenda usulan")
    _check_decisions(tab, 3)
    _shot(tab, "5-after-reload-agenda")
    _go(tab, "Daftar hadir", "Daftar hadir")
    _check_attendance(tab)
    _go(tab, "Musyawarah", "Musyawarah kelurahan")
    _check_record(tab)
    _shot(tab, "5-after-reload-record")

    # 6. The remaining decisions, then closing.
    _go(tab, "Agenda usulan", "Agenda usulan")
    for row in range(3, 5):
        _decide(tab, row, DECISIONS[row])
    _check_decisions(tab, 5)
    _go(tab, "Musyawarah", "Musyawarah kelurahan")
    expect(tab.get_by_text("Kuorum terpenuhi")).to_be_visible()
    tab.get_by_role("button", name="Tutup musyawarah").click()
    _settle(tab)
    expect(tab.get_by_text(f"Ditutup oleh {USER}")).to_be_visible()
    expect(tab.get_by_role("button", name="Tutup musyawarah")).to_have_count(0)
    expect(tab.get_by_label("Notulis", exact=True)).to_be_disabled()
    _shot(tab, "6-closed")

    _go(tab, "Agenda usulan", "Agenda usulan")
    # Moving to another meeting screen falls back to the newest *open* musyawarah (the demo's 2026-12) instead of
    # keeping the one chosen — reported as a bug (tests/app/test_meeting_pages.py, xfail); choose it again here.
    tab.get_by_role("combobox", name="Musyawarah").click()
    tab.get_by_role("option", name=f"Periode {period} · 14 Januari 2027 · ditutup").click()
    _settle(tab)
    _check_decisions(tab, 5)
    _click_row(tab, 0)
    radio = tab.get_by_test_id("stRadio").filter(has_text="Keputusan musyawarah")
    expect(radio.get_by_role("radio").first).to_be_disabled()  # decisions are frozen after closing


def test_a_small_meeting_survives_a_reload_and_closes(browser, tmp_path):
    """Guards the issue's browser path end to end: autosave of the record (date, time, notulis) without a save
    button, attendance with the quorum turning met, adding families from the register by row selection, decisions
    stored the moment they are taken, a page reload in the middle that loses none of it, and closing that freezes
    the decisions."""
    with running_muskel(tmp_path / "data") as base_url:
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        try:
            run_meeting(tab, base_url)
        except BaseException:
            _shot(tab, "failure")
            raise
        finally:
            context.close()
