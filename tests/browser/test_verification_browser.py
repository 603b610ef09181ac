"""A field officer's visit in the real browser: photos uploaded from the phone, and the flags beside them."""

from __future__ import annotations

import pytest

from core import db, proposals, verification
from core.access import Actor, Role
from tests.browser.conftest import ARTIFACTS, running_muskel, wait_idle
from tests.unit.photo_factory import house_scene, jpeg_bytes, tagged_jpeg

pytestmark = pytest.mark.browser
KEL = "31.75.01.1003"


def _assign_one_family(data_dir) -> None:
    """The Lurah's assignment, made through the service against the server's own database."""
    engine = db.get_engine(f"sqlite:///{data_dir / 'muskel.db'}")
    lurah = Actor("lurah.kayumanis", "Hendra Gunawan", Role.LURAH, KEL)
    with db.session_scope(engine) as session:
        family = proposals.register_candidates(KEL, actor=lurah, session=session)[5]
        verification.assign(KEL, "petugas.kayumanis", family_ids=[family["family_id"]], actor=lurah,
                            session=session)


def test_petugas_uploads_photos_and_sees_their_flags(browser, tmp_path):
    """Guards the officer's path end to end: the assigned family is offered first and stays chosen once its
    visit starts, photos upload from the file chooser, the GPS of a tagged photo is shown (south latitude), a
    photo without GPS is flagged gps_missing, and the missing 'tampak dalam' is named."""
    from playwright.sync_api import expect

    (tmp_path / "upload").mkdir()
    front = tmp_path / "upload" / "depan.jpg"
    front.write_bytes(tagged_jpeg(seed=3, lat=-6.2001, lon=106.8602))
    plain = tmp_path / "upload" / "tanpa_gps.jpg"
    plain.write_bytes(jpeg_bytes(house_scene(4)))
    with running_muskel(tmp_path / "server") as base_url:
        _assign_one_family(tmp_path / "server")
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="id-ID")
        tab = context.new_page()
        tab.set_default_timeout(30_000)
        try:
            tab.goto(base_url)
            wait_idle(tab)
            tab.get_by_label("Nama pengguna").fill("petugas.kayumanis")
            tab.get_by_label("Kata sandi").fill("muskel-demo")
            tab.get_by_role("button", name="Masuk").click()
            expect(tab.get_by_role("heading", name="Selamat datang, Budi Santoso")).to_be_visible()
            tab.get_by_role("link", name="Kunjungan lapangan").click()
            expect(tab.get_by_role("heading", name="Kunjungan lapangan")).to_be_visible()
            family = tab.get_by_role("combobox", name="Keluarga")
            assigned = family.input_value()
            expect(tab.get_by_text("Status kunjungan keluarga ini: belum dikunjungi")).to_be_visible()
            tab.get_by_role("button", name="Mulai kunjungan").click()
            expect(tab.get_by_text("Foto dari ponsel")).to_be_visible()
            # Still the assigned family, now under way (a label that changed once made the screen jump to another).
            expect(tab.get_by_text("Status kunjungan keluarga ini: kunjungan berjalan")).to_be_visible()
            expect(family).to_have_value(assigned)
            wait_idle(tab)
            with tab.expect_file_chooser() as chooser:
                tab.get_by_test_id("stFileUploaderDropzone").click()
            chooser.value.set_files([str(front), str(plain)])
            expect(tab.get_by_text("tanpa_gps.jpg")).to_be_visible()
            tab.get_by_role("button", name="Unggah").click()
            expect(tab.get_by_text("-6.20010, 106.86020")).to_be_visible()
            expect(tab.get_by_text("gps_missing")).to_be_visible()
            expect(tab.get_by_text("Foto wajib belum ada: Tampak dalam.")).to_be_visible()
            ARTIFACTS.mkdir(exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / "petugas-foto.png"), full_page=True)
        finally:
            context.close()
