"""Retensi berkas asli (AppTest): the admin sees what is due and purges it only after an explicit confirmation;
the auditor reads the same list without a button; the kelurahan's document screen then says the signed scan was
removed and when. Files are checked on disk with hashlib, not through the app."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.timefmt import tanggal
from tests.app.conftest import screen_text, titles
from tests.unit.test_retention import build_decided, on_disk, originals, path_of, rows, sqlite_people  # noqa: F401

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
def decided(sqlite_only, sqlite_people):
    """A Kayu Manis batch ratified six years ago: its six originals are due today."""
    at = datetime.now(timezone.utc) - timedelta(days=6 * 366)
    build_decided(sqlite_only, sqlite_people, at=at)
    return at


def test_admin_purges_after_confirming(sqlite_only, sqlite_people, decided, make_account, logged_in):
    """Guards the screen: period, count and the batch row (no NIK) are shown; the purge button stays disabled
    until the confirmation is ticked; pressing it removes the originals from disk and says so."""
    shas = set(originals(sqlite_only))
    admin = make_account(sqlite_only, "admin.x", "admin", "31")
    at = logged_in(admin)
    at.switch_page("pages/retensi.py").run()
    assert not at.exception, at.exception
    assert titles(at) == ["Retensi berkas asli"]
    assert {m.label: m.value for m in at.metric}["Berkas asli jatuh tempo"] == "6"
    assert {m.label: m.value for m in at.metric}["Masa retensi"] == "5 tahun"
    [frame] = [d.value for d in at.dataframe]
    assert list(frame["Kelurahan / kantor"]) == ["Kayu Manis"]
    assert list(frame["Diputuskan pada"]) == [tanggal(decided)]
    assert (frame[["Foto kunjungan", "Foto musyawarah", "Pindaian"]].iloc[0].tolist()) == [2, 1, 3]
    nik = [r[0] for r in rows(sqlite_only, "SELECT nik FROM proposalmember")]
    text = screen_text(at)
    assert nik and not any(n in text for n in nik)

    assert at.button(key="retention_purge").disabled  # AppTest, like a browser, cannot press it
    assert all(on_disk(sha) for sha in shas)

    at.checkbox(key="retention_confirm").check().run()
    assert not at.button(key="retention_purge").disabled
    at.button(key="retention_purge").click().run()
    assert not at.exception, at.exception
    assert any("6 berkas asli ditandai dihapus" in s.value for s in at.success), [s.value for s in at.success]
    assert not any(path_of(sha).exists() for sha in shas)
    assert {m.label: m.value for m in at.metric}["Berkas asli jatuh tempo"] == "0"


def test_auditor_reads_the_list_without_a_button(sqlite_only, sqlite_people, decided, make_account, logged_in):
    """Guards the auditor's view: the due list of the kota, read-only (no confirmation, no button)."""
    auditor = make_account(sqlite_only, "auditor.x", "auditor", "31.75")
    at = logged_in(auditor)
    at.switch_page("pages/retensi.py").run()
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric}["Berkas asli jatuh tempo"] == "6"
    assert not [b for b in at.button if b.key == "retention_purge"]
    assert any("hanya untuk dibaca" in i.value for i in at.info)
    assert all(on_disk(sha) for sha in originals(sqlite_only))


def test_document_screen_says_the_scan_was_removed(sqlite_only, sqlite_people, decided, logged_in):
    """Guards the reader of a purged scan on screen: instead of the download, the date and the period."""
    from core import db, retention
    from tests.unit.test_retention import ADMIN

    with db.session_scope(sqlite_only) as s:
        retention.purge(actor=ADMIN, session=s)
    at = logged_in(sqlite_people.lurah)
    at.switch_page("pages/dokumen.py").run()
    assert not at.exception, at.exception
    today = tanggal(datetime.now(timezone.utc))
    notices = [i.value for i in at.info if "Berkas asli telah dihapus" in i.value]
    assert notices and all(n == f"Berkas asli telah dihapus pada {today} sesuai masa retensi (5 tahun setelah "
                                "pengesahan)." for n in notices)
    assert not [b for b in at.get("download_button") if "pindaian" in str(b.proto.label)]
