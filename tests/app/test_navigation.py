"""Role-based navigation: which pages each role can reach, what they show, and the admin's account creation."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from core import db
from core.models import User
from tests.app.conftest import ALL_PAGES, screen_text, submit_login, texts, titles

PUBLIC = ["pages/cek_dokumen.py"]  # also open to a visitor who is not logged in
COMMON = ["pages/beranda.py", "pages/wilayah_saya.py", "pages/akun_saya.py", "pages/panduan.py"] + PUBLIC
REGISTER_READ = ["pages/cari_keluarga.py", "pages/temuan_data.py"]
REGISTER_IMPORT = ["pages/impor_dtsen.py"]
VERIFY_STAFF = ["pages/penugasan.py", "pages/kunjungan.py", "pages/peta.py"]
MEETING = ["pages/musyawarah.py", "pages/rapat_hadir.py", "pages/rapat_tambah.py", "pages/rapat_usulan.py",
           "pages/rapat_layar.py"]
KELURAHAN_DOCS = ["pages/dokumen.py", "pages/pengajuan.py"]
# Written out independently of ui.navigation.PAGES_BY_ROLE on purpose.
EXPECTED_PAGES = {
    "operator": COMMON + REGISTER_READ + REGISTER_IMPORT + MEETING + VERIFY_STAFF + KELURAHAN_DOCS,
    "lurah": COMMON + REGISTER_READ + REGISTER_IMPORT + MEETING + VERIFY_STAFF + KELURAHAN_DOCS
    + ["pages/cadangan.py"],
    "petugas": COMMON + ["pages/kunjungan.py"],
    "camat": COMMON + REGISTER_READ + ["pages/peta.py", "pages/tinjau_pengajuan.py", "pages/dokumen_kecamatan.py",
                                       "pages/laporan_triwulan.py"],
    "walikota": COMMON + REGISTER_READ + ["pages/peta.py", "pages/pengesahan.py", "pages/hasil_pengesahan.py",
                                          "pages/aturan_kota.py", "pages/laporan_triwulan.py"],
    "dinsos": COMMON + REGISTER_READ + ["pages/peta.py", "pages/hasil_pengesahan.py"],
    "auditor": COMMON + REGISTER_READ + ["pages/peta.py", "pages/log_audit.py", "pages/retensi.py"],
    "admin": COMMON + ["pages/kelola_akun.py", "pages/profil_kantor.py", "pages/teks_dokumen.py",
                       "pages/cadangan.py", "pages/retensi.py"],
}
PLACE = {"operator": "31.75.01.1003", "lurah": "31.75.01.1003", "petugas": "31.75.01.1003", "camat": "31.75.01",
         "walikota": "31.75", "dinsos": "31.75", "auditor": "31.75", "admin": "31"}
TITLE = {"pages/wilayah_saya.py": "Wilayah saya", "pages/akun_saya.py": "Akun saya", "pages/log_audit.py": "Log audit",
         "pages/kelola_akun.py": "Kelola akun", "pages/profil_kantor.py": "Profil kantor",
         "pages/impor_dtsen.py": "Impor data DTSEN", "pages/cari_keluarga.py": "Cari keluarga",
         "pages/temuan_data.py": "Temuan data DTSEN", "pages/musyawarah.py": "Musyawarah kelurahan",
         "pages/rapat_hadir.py": "Daftar hadir", "pages/rapat_tambah.py": "Tambah usulan",
         "pages/rapat_usulan.py": "Agenda usulan", "pages/rapat_layar.py": None,
         "pages/penugasan.py": "Penugasan verifikasi lapangan", "pages/kunjungan.py": "Kunjungan lapangan",
         "pages/peta.py": "Peta dan galeri verifikasi", "pages/aturan_kota.py": "Aturan kota",
         "pages/cek_dokumen.py": "Cek keaslian dokumen Muskel", "pages/dokumen.py": "Dokumen musyawarah",
         "pages/dokumen_kecamatan.py": "Dokumen kecamatan", "pages/pengesahan.py": "Pengesahan",
         "pages/teks_dokumen.py": "Teks & nomor dokumen", "pages/pengajuan.py": "Pengajuan ke Camat",
         "pages/tinjau_pengajuan.py": "Tinjau pengajuan kelurahan", "pages/hasil_pengesahan.py": "Hasil pengesahan",
         "pages/laporan_triwulan.py": "Laporan triwulan", "pages/panduan.py": "Panduan Pengguna Muskel",
         "pages/cadangan.py": "Cadangan data", "pages/retensi.py": "Retensi berkas asli"}
MATRAMAN = ["Pisangan Baru", "Utan Kayu Utara", "Kayu Manis", "Palmeriam", "Kebon Manggis", "Utan Kayu Selatan"]
PULO_GADUNG = ["Pulo Gadung", "Pisangan Timur", "Cipinang", "Jatinegara Kaum", "Rawamangun", "Kayu Putih", "Jati"]


def test_every_page_file_is_known_to_this_test():
    """Guards: a new file in pages/ must be given an owner here (and in ui.navigation) before it ships."""
    assert set(ALL_PAGES) == (set(COMMON) | set(REGISTER_READ) | set(REGISTER_IMPORT) | set(MEETING)
                              | set(VERIFY_STAFF) | set(KELURAHAN_DOCS)
                              | {"pages/aturan_kota.py", "pages/log_audit.py", "pages/kelola_akun.py",
                                 "pages/profil_kantor.py", "pages/dokumen_kecamatan.py", "pages/pengesahan.py",
                                 "pages/teks_dokumen.py", "pages/masuk.py", "pages/ganti_kata_sandi.py",
                                 "pages/tinjau_pengajuan.py", "pages/hasil_pengesahan.py",
                                 "pages/laporan_triwulan.py", "pages/cadangan.py", "pages/retensi.py"})


@pytest.mark.parametrize("role", sorted(EXPECTED_PAGES))
def test_each_role_reaches_exactly_its_pages(role, sqlite_only, make_account, logged_in):
    """Guards: the page registry per role — every own page opens, every other page is unreachable."""
    actor = make_account(sqlite_only, f"{role}.x", role, PLACE[role], nama=f"Nama {role.title()}")
    at = logged_in(actor)
    assert titles(at) == [f"Selamat datang, Nama {role.title()}"]

    reachable = []
    for page in ALL_PAGES:
        try:
            at.switch_page(page)
        except ValueError:
            continue
        reachable.append(page)
        at.run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])
        expected = TITLE.get(page, f"Selamat datang, Nama {role.title()}")
        assert titles(at) == ([] if expected is None else [expected]), page
    assert sorted(reachable) == sorted(EXPECTED_PAGES[role])


@pytest.mark.parametrize("page", ["pages/kelola_akun.py", "pages/log_audit.py", "pages/profil_kantor.py",
                                  "pages/masuk.py", "pages/ganti_kata_sandi.py"])
def test_lurah_cannot_switch_to_other_roles_pages(page, sqlite_only, make_account, logged_in):
    """Guards: st.switch_page (and so a URL) to a page of another role is refused for a lurah."""
    actor = make_account(sqlite_only, "lurah.x", "lurah", "31.75.01.1003")
    at = logged_in(actor)
    with pytest.raises(ValueError):
        at.switch_page(page)
    at.run()  # still on the lurah's own home
    assert titles(at) == ["Selamat datang, Lurah.X"]


def test_a_visitor_without_login_reaches_only_the_login_and_the_public_check(sqlite_only, new_app):
    """Guards: logged out, every page but the public document check is unreachable (or shows the login), while
    Cek keaslian dokumen — the address on every QR code — opens without an account."""
    at = new_app()
    at.run()
    assert titles(at) == ["Muskel"]
    opened = []
    for page in ALL_PAGES:
        try:
            at.switch_page(page)
        except ValueError:
            continue
        at.run()
        assert not at.exception, (page, at.exception)
        if titles(at) != ["Muskel"]:
            opened.append(page)
    assert opened == PUBLIC
    at.switch_page("pages/cek_dokumen.py").run()
    assert titles(at) == ["Cek keaslian dokumen Muskel"]
    assert "_auth" not in at.session_state


def test_lurah_never_sees_account_management(sqlite_only, make_account, logged_in):
    """Guards: nothing on any of the lurah's pages (main area or sidebar) offers "Kelola akun" or the audit log."""
    make_account(sqlite_only, "admin.x", "admin", "31")
    actor = make_account(sqlite_only, "lurah.x", "lurah", "31.75.01.1003", nama="Lurah Satu")
    at = logged_in(actor)
    for page in COMMON:
        at.switch_page(page).run()
        text = screen_text(at)
        assert "Lurah Satu" in text, page  # the text dump does see the page
        assert "Kelola akun" not in text, page
        assert "Log audit" not in text, page
        assert "Buat akun" not in text, page
        assert not [b for b in at.button if b.key and b.key.startswith("acc_")], page


def test_camat_sees_the_kelurahan_of_matraman_only(sqlite_only, make_account, logged_in):
    """Guards: Wilayah saya of a camat lists the kecamatan's own kelurahan and nothing of another kecamatan."""
    make_account(sqlite_only, "lurah.kayumanis", "lurah", "31.75.01.1003", nama="Hendra Gunawan")
    make_account(sqlite_only, "lurah.rawamangun", "lurah", "31.75.02.1005", nama="Orang Rawamangun")
    actor = make_account(sqlite_only, "camat.matraman", "camat", "31.75.01", nama="Ratna Sari Dewi")
    at = logged_in(actor)
    at.switch_page("pages/wilayah_saya.py").run()
    assert titles(at) == ["Wilayah saya"]
    assert [e.label for e in at.expander if e.label != "Tentang halaman ini"] == ["Kecamatan Matraman (31.75.01) · 1 akun"]  # the camat himself
    rows = [m.value for m in at.markdown]
    for name in MATRAMAN:
        assert any(name in r for r in rows), name
    assert any("Kayu Manis (31.75.01.1003)" in r and "1 akun" in r for r in rows), rows
    text = screen_text(at)
    assert "Hendra Gunawan" in text
    for name in PULO_GADUNG:
        assert name not in text, name
    assert "Orang Rawamangun" not in text
    assert "31.75.02" not in text

    at.text_input(key="wilayah_search").input("Palmeriam").run()
    rows = [m.value for m in at.markdown]
    assert any("Palmeriam" in r for r in rows)
    assert not any("Kayu Manis" in r for r in rows)


def test_admin_creates_an_account_with_a_temporary_password(sqlite_only, make_account, logged_in, new_app):
    """Guards: Kelola akun › Buat akun baru creates the account and shows its temporary password once, and that
    password works (forcing a change)."""
    admin = make_account(sqlite_only, "admin.x", "admin", "31", nama="Admin Satu")
    at = logged_in(admin)
    at.switch_page("pages/kelola_akun.py").run()
    assert titles(at) == ["Kelola akun"]
    assert [t.label for t in at.tabs] == ["Daftar akun", "Buat akun baru"]
    wilayah_box = at.selectbox(key="f.akun_baru.wilayah")
    assert "31.75.01.1004" in wilayah_box.options or any("31.75.01.1004" in o for o in wilayah_box.options)

    at.text_input(key="f.akun_baru.username").input("lurah.palmeriam")
    at.text_input(key="f.akun_baru.nama").input("Dewi Kartika")
    at.selectbox(key="f.akun_baru.role").set_value("lurah")
    at.selectbox(key="f.akun_baru.wilayah").set_value("31.75.01.1004")
    at.text_input(key="f.akun_baru.jabatan").input("Lurah Palmeriam")
    at.button(key="acc_create").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]

    [notice] = [s.value for s in at.success if "Kata sandi sementara" in s.value]
    match = re.search(r"\*\*lurah\.palmeriam\*\*: `([^`]+)`", notice)
    assert match, notice
    temporary = match.group(1)
    assert len(temporary) >= 10
    with db.session_scope() as s:
        user = s.exec(select(User).where(User.username == "lurah.palmeriam")).one()
        assert (user.nama, user.role, user.wilayah_kode, user.jabatan) == (
            "Dewi Kartika", "lurah", "31.75.01.1004", "Lurah Palmeriam")
        assert user.must_change_password is True
    # The form is emptied and the password is shown only once.
    assert at.text_input(key="f.akun_baru.username").value == ""
    at.run()
    assert not [s for s in at.success if "Kata sandi sementara" in s.value]
    assert temporary not in "\n".join(texts(at))

    other = new_app()
    other.run()
    submit_login(other, "lurah.palmeriam", temporary)
    assert other.session_state["_auth"]["must_change"] is True
    assert titles(other) == ["Ganti kata sandi"]


def test_admin_create_account_refuses_a_role_at_the_wrong_level(sqlite_only, make_account, logged_in):
    """Guards: a lurah placed at a kecamatan is refused with a clear message and no account is created."""
    admin = make_account(sqlite_only, "admin.x", "admin", "31")
    at = logged_in(admin)
    at.switch_page("pages/kelola_akun.py").run()
    at.text_input(key="f.akun_baru.username").input("lurah.salah")
    at.text_input(key="f.akun_baru.nama").input("Salah Tempat")
    at.selectbox(key="f.akun_baru.role").set_value("lurah")
    at.selectbox(key="f.akun_baru.wilayah").set_value("31.75.01")
    at.button(key="acc_create").click().run()
    assert not at.exception
    assert any("kelurahan" in e.value for e in at.error), [e.value for e in at.error]
    assert not [s for s in at.success if "Kata sandi sementara" in s.value]
    with db.session_scope() as s:
        assert s.exec(select(User).where(User.username == "lurah.salah")).first() is None
