"""The real app killed during a photo upload: a `streamlit run Home.py` server driven by Chromium, killed with
SIGKILL while it waits at the ``photo.stored`` fault point, then started again on the same data."""

from __future__ import annotations

import hashlib

import pytest

from tests.browser.conftest import log_in
from tests.fault.conftest import ARTIFACTS, free_port, kill, start_app, sweep_orphans, wait_for_marker
from tests.unit.photo_factory import house_scene, jpeg_bytes

pytestmark = pytest.mark.browser


def without_drafts(counts: dict[str, int]) -> dict[str, int]:
    return {table: n for table, n in counts.items() if table != "draft"}


def open_visit(tab) -> None:
    from playwright.sync_api import expect

    from tests.browser.conftest import wait_idle

    tab.get_by_role("link", name="Kunjungan lapangan").click()
    expect(tab.get_by_role("heading", name="Kunjungan lapangan")).to_be_visible()
    expect(tab.get_by_text("Foto dari ponsel")).to_be_visible()
    wait_idle(tab)


def upload(tab, path) -> None:
    from playwright.sync_api import expect

    with tab.expect_file_chooser() as chooser:
        tab.get_by_test_id("stFileUploaderDropzone").click()
    chooser.value.set_files([str(path)])
    expect(tab.get_by_text(path.name)).to_be_visible()
    tab.get_by_role("button", name="Unggah").click()


def test_server_killed_during_a_photo_upload(sqlite_installation, browser, tmp_path):
    """Guards the field officer's upload when the server dies half-way: after the kill nothing of the photo is in
    the database, its three files are orphans the start-up clean-up removes, and after the restart the officer
    logs in again, sees no half-uploaded photo ("Belum ada foto.") and uploads the same photo successfully."""
    from playwright.sync_api import expect

    inst = sqlite_installation
    photo = tmp_path / "depan_rumah.jpg"
    photo.write_bytes(jpeg_bytes(house_scene(31)))
    sha = hashlib.sha256(photo.read_bytes()).hexdigest()
    marker = tmp_path / "photo.marker"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    files_before = inst.files_on_disk()

    server = start_app(inst, port, fault="photo.stored", marker=marker)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="id-ID")
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    try:
        try:
            log_in(tab, base_url, "petugas.kayumanis", "Budi Santoso")
            open_visit(tab)
            expect(tab.get_by_text("Belum ada foto.")).to_be_visible()
            before = inst.counts()  # after the login (itself audited), just before the upload
            upload(tab, photo)
            wait_for_marker(server, marker, inst.data_dir / "streamlit.log")
            written = inst.files_on_disk() - files_before
        finally:
            kill(server)

        assert sha in written and len(written) == 3  # original, display copy, thumbnail
        # The click's rerun first saved the visit form as the officer's draft (its own committed unit of work, so
        # typed input survives exactly this); everything else is as before the upload.
        assert without_drafts(inst.counts()) == without_drafts(before)
        assert not written & inst.referenced_files()
        inst.verify_audit()
        assert inst.checkpoint_seq() <= inst.chain_length()
        assert set(sweep_orphans(inst)) == written

        server = start_app(inst, port, log_name="streamlit-restart.log")
        try:
            log_in(tab, base_url, "petugas.kayumanis", "Budi Santoso")
            open_visit(tab)
            expect(tab.get_by_text("Belum ada foto.")).to_be_visible()
            expect(tab.get_by_text("Foto wajib belum ada: Tampak depan, Tampak dalam.")).to_be_visible()
            upload(tab, photo)
            expect(tab.get_by_text("Foto wajib belum ada: Tampak dalam.")).to_be_visible()
            expect(tab.get_by_text("Belum ada foto.")).to_have_count(0)
            expect(tab.get_by_text("Traceback")).to_have_count(0)
            ARTIFACTS.mkdir(exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / "fault-photo-retry.png"), full_page=True)
        finally:
            kill(server)
    finally:
        context.close()

    after = inst.counts()  # the second login added its own audit entry
    assert after["visitphoto"] == before["visitphoto"] + 1 and after["storedfile"] == before["storedfile"] + 3
    assert written <= inst.referenced_files()
    inst.verify_audit()
    assert inst.checkpoint_seq() == inst.chain_length()
