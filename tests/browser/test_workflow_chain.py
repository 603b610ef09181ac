"""The whole road of a batch in a real browser against ``streamlit run``: the Lurah submits, the Camat returns one
item with a reason and forwards the rest, the Walikota ratifies, finalises the pengesahan and downloads the
SIKS-NG workbook — three logins, each in its own browser context (own cookies, own Streamlit session).

The server is this test's own (``running_muskel``: fresh database with the demo). Next to the demo's batches a
Kayu Manis batch for a later period (``PERIOD``) is made ready to submit through the core services, against the
server's own database and data directory: a closed musyawarah with three agreed new families, their field
verification waived by the Lurah, Berita Acara, SPTJM and BAST final with signed scans. Dataframe rows are
selected by clicking the checkbox cell at the grid's left edge (a header row and rows of 35 px), as in
test_meeting_browser.py; the selection and the grid's contents are read from the grid's accessible table.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from core import db, documents, meetings, proposals, workflow
from core.access import Actor, Role
from core.demo_register import nik_for
from tests.browser.conftest import ARTIFACTS, log_in, running_muskel, settle, wait_idle

pytestmark = pytest.mark.browser

KEL = "31.75.01.1003"
PERIOD = "2027-02"
LURAH = Actor("lurah.kayumanis", "Hendra Gunawan", Role.LURAH, KEL)
OPERATOR = Actor("operator.kayumanis", "Sari Wulandari", Role.OPERATOR, KEL)
MEMBERS = (2, 3, 2)
REASON = "Domisili belum sesuai KK, mohon dicek ulang"
SCAN = b"%PDF-1.4\n% pindaian bertanda tangan (uji peramban)\n%%EOF\n"
ROW_PX, HEADER_PX = 35, 35


# --- the batch, made ready through the services --------------------------------------------------------------------

def _prepare(data_dir: Path, monkeypatch) -> dict[str, list[str]]:
    """A Kayu Manis batch of ``PERIOD`` ready to submit; returns {No KK: [NIK, …]} of its three items."""
    monkeypatch.setenv("MUSKEL_DATA_DIR", str(data_dir))  # scans and PDFs go to the server's file store
    monkeypatch.setenv("MUSKEL_DATABASE_URL", f"sqlite:///{data_dir / 'muskel.db'}")
    engine = db.get_engine(f"sqlite:///{data_dir / 'muskel.db'}")
    with db.session_scope(engine) as s:
        mid = meetings.create_meeting(KEL, PERIOD, actor=OPERATOR, session=s)["id"]
    with db.session_scope(engine) as s:
        for fieldname, value in (("tanggal", date(2027, 2, 3)), ("jam_mulai", "09.00"), ("ketua", "Hendra Gunawan"),
                                 ("notulis", "Sari Wulandari")):
            old = getattr(meetings.get_meeting(mid, actor=OPERATOR, session=s), fieldname)
            meetings.update_meeting_field(mid, fieldname, old, value, actor=OPERATOR, session=s)
        for nama, unsur in (("Hendra Gunawan", "Lurah"), ("Agus Salim", "Ketua RW"), ("H. Abdul Rahman", "LMK")):
            meetings.add_attendee(mid, {"nama": nama, "unsur": unsur}, actor=OPERATOR, session=s)
    families: dict[str, list[str]] = {}
    relations = ["KEPALA KELUARGA", "ISTRI", "ANAK"]
    for serial, n in enumerate(MEMBERS, start=1):
        kk = f"3175011705{80 + serial:02d}{9800 + serial:04d}"  # serials far from the demo register's
        members = [{"nik": nik_for("317501", date(1980 + j, 5, 17), j == 1, 9800 + 10 * serial + j),
                    "nama": f"Warga Uji {serial}-{j}", "hubungan": relations[j],
                    "jenis_kelamin": "P" if j == 1 else "L", "tanggal_lahir": date(1980 + j, 5, 17)}
                   for j in range(n)]
        with db.session_scope(engine) as s:
            item = proposals.add_new_family(mid, no_kk=kk, alamat=f"Jl. Kayu Manis Uji No. {serial}", rt="1",
                                            rw="2", members=members, programs=["PKH"], actor=OPERATOR, session=s)
        with db.session_scope(engine) as s:
            proposals.set_decision(item["id"], "disepakati", "", seen="", actor=OPERATOR, session=s)
        families[kk] = [m["nik"] for m in members]
    with db.session_scope(engine) as s:
        meetings.close_meeting(mid, confirm_without_quorum=False, actor=LURAH, session=s)
    with db.session_scope(engine) as s:
        batch = workflow.ensure_batch(s.get(meetings.Musyawarah, mid), s)
        for item in workflow.missing_verifications(batch, s):
            workflow.waive_verification(item.id, "Keluarga dikenal baik oleh Ketua RT/RW setempat", actor=LURAH,
                                        session=s)
    for doc_type in ("berita_acara", "sptjm", "bast_kelurahan"):
        with db.session_scope(engine) as s:
            doc = documents.finalise(doc_type, {"meeting_id": mid}, actor=LURAH, session=s)
        with db.session_scope(engine) as s:
            documents.upload_scan(doc["id"], SCAN + doc_type.encode(), f"{doc_type}.pdf", actor=OPERATOR, session=s)
    with db.session_scope(engine) as s:
        batch = workflow.batch_of_meeting(mid, s)
        assert workflow.submission_blockers(batch, s) == []
    engine.dispose()
    return families


# --- browser helpers -----------------------------------------------------------------------------------------------

def _shot(tab, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"chain-{name}.png"), full_page=True)


def _go(tab, link: str, heading: str) -> None:
    from playwright.sync_api import expect

    tab.get_by_test_id("stSidebar").get_by_role("link", name=link, exact=True).click()
    expect(tab.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    settle(tab)


def _type(tab, label: str, text: str) -> None:
    """Fill a text input and commit it with Enter (one rerun)."""
    box = tab.get_by_label(label, exact=True)
    box.fill(text)
    box.press("Enter")
    settle(tab)


def _choose(tab, label: str, option: str) -> None:
    """Pick an option of a selectbox. Right after a click in a grid the first click on a selectbox only focuses
    it, so the list is opened with the keyboard when the click did not open it."""
    from playwright.sync_api import expect

    box = tab.get_by_role("combobox", name=label, exact=True)
    box.click()
    if box.get_attribute("aria-expanded") != "true":
        box.press("ArrowDown")
    tab.get_by_role("option", name=option, exact=True).click()
    settle(tab)
    expect(box).to_have_value(option)


def _grid(tab, index: int):
    """The ``index``-th dataframe on screen (dataframes in hidden tabs do not count)."""
    return tab.get_by_test_id("stDataFrame").filter(visible=True).nth(index)


def _click_row(tab, grid_index: int, row: int) -> None:
    grid = _grid(tab, grid_index)
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    tab.mouse.click(box["x"] + 18, box["y"] + HEADER_PX + ROW_PX * row + ROW_PX / 2)
    settle(tab)


def _row_text(tab, grid_index: int, row: int) -> str:
    grid = _grid(tab, grid_index)
    grid.scroll_into_view_if_needed()
    return " | ".join(grid.locator(f"tr[aria-rowindex='{row + 2}'] td").all_inner_texts())


def _expect_row(tab, grid_index: int, row: int, *parts: str) -> str:
    """Data row ``row`` shows every one of ``parts`` (within a few seconds: the grid redraws after a rerun)."""
    text = ""
    for _ in range(50):
        text = _row_text(tab, grid_index, row)
        if all(part in text for part in parts):
            return text
        tab.wait_for_timeout(100)
    raise AssertionError(f"grid {grid_index} row {row}: {parts} not in {text!r}")


def _selected(tab, grid_index: int) -> int:
    return _grid(tab, grid_index).locator("tr[role='row'][aria-selected='true']").count()


def _wait_for(tab, locator) -> None:
    """Until ``locator`` is visible: the page after an action that reruns twice (act, toast, st.rerun) on a busy
    machine. The toast itself is not waited for — it is sometimes gone, or never drawn, by the time the second
    run has finished; the state it announces is checked instead (on screen, and in the database at the end)."""
    from playwright.sync_api import expect

    expect(locator).to_be_visible(timeout=30_000)
    wait_idle(tab)


# --- the three desks -----------------------------------------------------------------------------------------------

def _lurah_submits(tab, base_url: str) -> None:
    from playwright.sync_api import expect

    log_in(tab, base_url, "lurah.kayumanis", "Hendra Gunawan")
    _go(tab, "Pengajuan", "Pengajuan ke Camat")
    expect(tab.get_by_role("combobox", name="Periode")).to_have_value(f"Periode {PERIOD}")
    expect(tab.get_by_text("Semua syarat terpenuhi.")).to_be_visible()
    submit = tab.get_by_role("button", name="Ajukan ke Camat")
    expect(submit).to_be_disabled()
    tab.get_by_text("Saya, Lurah, mengajukan usulan ini dan bertanggung jawab atas kebenarannya").click()
    settle(tab)
    expect(submit).to_be_enabled()
    _shot(tab, "1-lurah-ready")
    submit.click()
    settle(tab)
    expect(tab.get_by_text(re.compile(r"^Status: Diajukan ke Camat · revisi 1"))).to_be_visible()
    expect(tab.get_by_role("button", name="Tarik kembali (sebelum Camat bertindak)")).to_be_visible()
    _shot(tab, "2-lurah-submitted")


def _camat_returns_one_and_forwards(tab, base_url: str) -> str:
    """Returns the No KK of the item the Camat sent back."""
    from playwright.sync_api import expect

    log_in(tab, base_url, "camat.matraman", "Ratna Sari Dewi")
    _go(tab, "Tinjau pengajuan", "Tinjau pengajuan kelurahan")
    # The queue (state "diajukan"): this batch, then the demo's Palmeriam batch of 2026-11.
    _expect_row(tab, 0, 0, "Kayu Manis", PERIOD, "Diajukan ke Camat")
    _expect_row(tab, 0, 1, "Palmeriam", "2026-11")
    _click_row(tab, 0, 0)
    assert _selected(tab, 0) == 1
    expect(tab.get_by_role("heading", name=f"Kel. Kayu Manis · periode {PERIOD} · Diajukan ke Camat")).to_be_visible()
    _expect_row(tab, 1, 2, "diteruskan")  # the items grid: three rows, all forwarded unless chosen otherwise
    returned_kk = _expect_row(tab, 1, 1, "diteruskan").split(" | ")[0].strip()
    # Reviewers see the KK masked (first four and last four digits).
    assert re.fullmatch(r"\d{4}•{8}\d{4}", returned_kk), returned_kk
    _click_row(tab, 1, 1)
    assert _selected(tab, 1) == 1
    expect(tab.get_by_text("1 usulan dipilih")).to_be_visible()
    _choose(tab, "Tindakan", "Kembalikan")
    _type(tab, "Alasan (wajib, dibaca kelurahan)", REASON)
    _shot(tab, "3-camat-item-chosen")
    tab.get_by_role("button", name="Terapkan").click()
    settle(tab)
    _expect_row(tab, 1, 1, returned_kk, f"Dikembalikan: {REASON}")
    expect(tab.get_by_text("Teruskan 2 usulan; 1 dikembalikan ke kelurahan.")).to_be_visible()
    _shot(tab, "4-camat-item-returned")
    tab.get_by_role("button", name="Teruskan ke Walikota/Bupati").click()
    # Only the demo batch still waits, and nothing is opened until the Camat chooses it.
    _wait_for(tab, tab.get_by_text("Pilih satu pengajuan pada tabel untuk meninjaunya."))
    _shot(tab, "5-camat-forwarded")
    expect(tab.get_by_role("heading", name=re.compile(r"^Kel\. Kayu Manis"))).to_have_count(0)
    _expect_row(tab, 0, 0, "Palmeriam", "2026-11")
    return returned_kk


def _walikota_ratifies_and_downloads(tab, base_url: str, tmp_path: Path) -> Path:
    from playwright.sync_api import expect

    log_in(tab, base_url, "walikota.jaktim", "Staf Walikota Jakarta Timur")
    _go(tab, "Pengesahan", "Pengesahan")
    _type(tab, "Periode (YYYY-MM)", PERIOD)
    expect(tab.get_by_text("1 pengajuan periode ini · 1 menunggu pengesahan · 0 disahkan")).to_be_visible()
    _expect_row(tab, 0, 0, "Kayu Manis", "Diteruskan ke Walikota/Bupati")
    _click_row(tab, 0, 0)
    expect(tab.get_by_role("heading", name="Kel. Kayu Manis · Diteruskan ke Walikota/Bupati")).to_be_visible()
    _shot(tab, "6-walikota-batch")
    tab.get_by_role("button", name="Sahkan", exact=True).click()
    # The queue changed, so the selection is dropped: the row now reads "Disahkan".
    _wait_for(tab, tab.get_by_text("1 pengajuan periode ini · 0 menunggu pengesahan · 1 disahkan"))
    _expect_row(tab, 0, 0, "Kayu Manis", "Disahkan")

    tab.get_by_role("tab", name="Dokumen pengesahan").click()
    settle(tab)
    finalise = tab.get_by_role("button", name="Finalkan pengesahan")
    expect(finalise).to_be_disabled()
    tab.get_by_text("Saya sudah memeriksa draf; isi dokumen benar").click()
    settle(tab)
    expect(finalise).to_be_enabled()
    finalise.click()
    _wait_for(tab, tab.get_by_text("Tidak ada pengajuan kelurahan yang menunggu pengesahan untuk periode ini."))
    tab.get_by_role("tab", name="Dokumen pengesahan").click()
    expect(tab.get_by_text(re.compile(r"^Pengesahan Nomor \S+/PENGESAHAN/.+ · 2 KK · 4 jiwa · kode "))).to_be_visible()
    _shot(tab, "7-walikota-pengesahan")

    _go(tab, "Hasil pengesahan", "Hasil pengesahan")
    _type(tab, "Periode (YYYY-MM)", PERIOD)
    expect(tab.get_by_test_id("stMetric").filter(has_text="KK disahkan")).to_contain_text("2")
    _shot(tab, "8-walikota-hasil")
    with tab.expect_download() as download:
        tab.get_by_role("button", name="Unduh XLSX (format SIKS-NG)").click()
    target = tmp_path / "hasil.xlsx"
    download.value.save_as(target)
    assert download.value.suggested_filename == f"hasil_pengesahan_{PERIOD}.xlsx"
    return target


def _stored_states(data_dir: Path) -> dict:
    """The batch's state and each item's (status, level, reason), read from the server's database."""
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{data_dir / 'muskel.db'}")
    try:
        with engine.connect() as conn:
            [state] = conn.execute(sa.text(
                "SELECT b.state FROM batch b JOIN musyawarah m ON m.id = b.musyawarah_id "
                "WHERE m.kelurahan_kode = :k AND m.periode = :p"), {"k": KEL, "p": PERIOD}).scalars().all()
            items = conn.execute(sa.text(
                "SELECT p.no_kk, p.status, p.status_level, p.status_reason FROM proposal p "
                "JOIN musyawarah m ON m.id = p.musyawarah_id WHERE m.kelurahan_kode = :k AND m.periode = :p"),
                {"k": KEL, "p": PERIOD}).all()
    finally:
        engine.dispose()
    return {"batch": state, **{kk: (status, level or None, reason or None) for kk, status, level, reason in items}}


def _sheet_values(path: Path) -> list[list[str]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    rows: list[list[str]] = []
    for name in book.sheet_names:
        rows.extend([str(v) for v in row] for row in book.get_sheet_by_name(name).to_python())
    return rows


def test_batch_from_lurah_through_camat_to_walikota_download(browser, tmp_path, monkeypatch):
    """Guards the workflow's browser path end to end: submitting behind the Lurah's confirmation, the Camat's
    item return with its reason and forwarding of the rest, ratification, the pengesahan with its number, and a
    SIKS-NG workbook that holds exactly the ratified members — not the family the Camat returned."""
    with running_muskel(tmp_path / "server") as base_url:
        families = _prepare(tmp_path / "server", monkeypatch)
        desks = [("lurah", _lurah_submits), ("camat", _camat_returns_one_and_forwards), ("walikota", None)]
        results = {}
        for who, desk in desks:
            context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="id-ID",
                                          accept_downloads=True)
            tab = context.new_page()
            tab.set_default_timeout(30_000)
            try:
                results[who] = (desk(tab, base_url) if desk else
                                _walikota_ratifies_and_downloads(tab, base_url, tmp_path))
            except BaseException:
                _shot(tab, f"failure-{who}")
                raise
            finally:
                context.close()

    masked = results["camat"]
    [returned_kk] = [kk for kk in families if kk[:4] == masked[:4] and kk[-4:] == masked[-4:]]
    states = _stored_states(tmp_path / "server")
    assert states["batch"] == "disahkan"
    assert states[returned_kk] == ("dikembalikan", "camat", REASON)
    assert all(states[kk][0] == "disahkan" for kk in families if kk != returned_kk), states
    rows = _sheet_values(results["walikota"])
    assert rows and rows[0][:2] == ["NIK", "NO_KK"]
    niks_in_file = {r[0] for r in rows if re.fullmatch(r"\d{16}", r[0])}
    ratified = {nik for kk, niks in families.items() if kk != returned_kk for nik in niks}
    assert niks_in_file == ratified
    assert not set(families[returned_kk]) & niks_in_file
    assert {r[1] for r in rows if r[0] in ratified} == set(families) - {returned_kk}
