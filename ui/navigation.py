"""The page registry: which role sees which pages, as data. Pages not listed for a role cannot be reached."""

from __future__ import annotations

import streamlit as st

from core.access import Role

# path, title, icon
BERANDA = ("pages/beranda.py", "Beranda", ":material/home:")
WILAYAH_SAYA = ("pages/wilayah_saya.py", "Wilayah saya", ":material/account_tree:")
AKUN_SAYA = ("pages/akun_saya.py", "Akun saya", ":material/person:")
LOG_AUDIT = ("pages/log_audit.py", "Log audit", ":material/policy:")
KELOLA_AKUN = ("pages/kelola_akun.py", "Kelola akun", ":material/manage_accounts:")
PROFIL_KANTOR = ("pages/profil_kantor.py", "Profil kantor", ":material/apartment:")
IMPOR_DTSEN = ("pages/impor_dtsen.py", "Impor DTSEN", ":material/upload_file:")
CARI_KELUARGA = ("pages/cari_keluarga.py", "Cari keluarga", ":material/person_search:")
TEMUAN_DATA = ("pages/temuan_data.py", "Temuan data", ":material/report:")
MUSYAWARAH = ("pages/musyawarah.py", "Musyawarah", ":material/groups:")
RAPAT_HADIR = ("pages/rapat_hadir.py", "Daftar hadir", ":material/how_to_reg:")
RAPAT_TAMBAH = ("pages/rapat_tambah.py", "Tambah usulan", ":material/playlist_add:")
RAPAT_USULAN = ("pages/rapat_usulan.py", "Agenda usulan", ":material/gavel:")
RAPAT_LAYAR = ("pages/rapat_layar.py", "Layar proyektor", ":material/tv:")
PENUGASAN = ("pages/penugasan.py", "Penugasan verifikasi", ":material/assignment_ind:")
KUNJUNGAN = ("pages/kunjungan.py", "Kunjungan lapangan", ":material/photo_camera:")
PETA = ("pages/peta.py", "Peta & galeri", ":material/map:")
ATURAN_KOTA = ("pages/aturan_kota.py", "Aturan kota", ":material/rule:")
DOKUMEN = ("pages/dokumen.py", "Dokumen", ":material/description:")
DOKUMEN_KECAMATAN = ("pages/dokumen_kecamatan.py", "Dokumen kecamatan", ":material/description:")
PENGESAHAN = ("pages/pengesahan.py", "Pengesahan", ":material/approval:")
TEKS_DOKUMEN = ("pages/teks_dokumen.py", "Teks & nomor dokumen", ":material/edit_document:")
PENGAJUAN = ("pages/pengajuan.py", "Pengajuan", ":material/send:")
TINJAU = ("pages/tinjau_pengajuan.py", "Tinjau pengajuan", ":material/fact_check:")
HASIL = ("pages/hasil_pengesahan.py", "Hasil pengesahan", ":material/download:")
LAPORAN_TRIWULAN = ("pages/laporan_triwulan.py", "Laporan triwulan", ":material/summarize:")
CADANGAN = ("pages/cadangan.py", "Cadangan data", ":material/backup:")
RETENSI = ("pages/retensi.py", "Retensi berkas", ":material/auto_delete:")
PANDUAN = ("pages/panduan.py", "Panduan pengguna", ":material/menu_book:")
CEK_DOKUMEN = ("pages/cek_dokumen.py", "Cek keaslian dokumen", ":material/verified:")
PUBLIC = [CEK_DOKUMEN]  # reachable without logging in (the QR code on every final document leads here)

_UMUM = [BERANDA, WILAYAH_SAYA, PANDUAN, CEK_DOKUMEN]
_COMMON = {"Umum": _UMUM, "Akun": [AKUN_SAYA]}
_KELURAHAN = {"Umum": _UMUM, "Data DTSEN": [IMPOR_DTSEN, CARI_KELUARGA, TEMUAN_DATA],
              "Musyawarah": [MUSYAWARAH, RAPAT_HADIR, RAPAT_TAMBAH, RAPAT_USULAN, RAPAT_LAYAR],
              "Verifikasi": [PENUGASAN, KUNJUNGAN, PETA], "Dokumen": [DOKUMEN, PENGAJUAN], "Akun": [AKUN_SAYA]}
_READERS = {"Umum": _UMUM, "Data DTSEN": [CARI_KELUARGA, TEMUAN_DATA], "Verifikasi": [PETA],
            "Akun": [AKUN_SAYA]}
_PETUGAS = {"Umum": _UMUM, "Verifikasi": [KUNJUNGAN], "Akun": [AKUN_SAYA]}

PAGES_BY_ROLE: dict[Role, dict[str, list[tuple[str, str, str]]]] = {
    Role.OPERATOR: _KELURAHAN,
    Role.LURAH: {**_KELURAHAN, "Akun": [AKUN_SAYA, CADANGAN]},  # backups: single-laptop installations
    Role.PETUGAS: _PETUGAS,  # field officers see only their assigned families
    Role.CAMAT: {**_READERS, "Pengajuan": [TINJAU, DOKUMEN_KECAMATAN, LAPORAN_TRIWULAN]},
    Role.WALIKOTA: {**_READERS, "Pengajuan": [PENGESAHAN, HASIL, LAPORAN_TRIWULAN], "Aturan": [ATURAN_KOTA]},
    Role.DINSOS: {**_READERS, "Hasil": [HASIL]},
    Role.AUDITOR: {**_READERS, "Audit": [LOG_AUDIT, RETENSI]},  # the retention list, read-only
    Role.ADMIN: {**_COMMON, "Administrasi": [KELOLA_AKUN, PROFIL_KANTOR, TEKS_DOKUMEN, CADANGAN, RETENSI]},
}


def pages_for(role: Role) -> dict[str, list[st.Page]]:
    sections = PAGES_BY_ROLE[Role(role)]
    return {
        section: [st.Page(path, title=title, icon=icon, default=(path == BERANDA[0])) for path, title, icon in items]
        for section, items in sections.items()
    }


def allowed_paths(role: Role) -> set[str]:
    return {path for items in PAGES_BY_ROLE[Role(role)].values() for path, _, _ in items}


def gate_pages(script: str, title: str, icon: str) -> list[st.Page]:
    """The one page a visitor may see (login, or the forced password change), also under every address of the
    app, so that reloading /agenda while logged out shows the login — and after it, that very page."""
    from pathlib import Path

    public = {path for path, _, _ in PUBLIC}
    stems = sorted({Path(path).stem for sections in PAGES_BY_ROLE.values() for items in sections.values()
                    for path, _, _ in items if path not in public})
    return [st.Page(script, title=title, icon=icon, default=True),
            *(st.Page(script, title=title, icon=icon, url_path=stem) for stem in stems),
            *(st.Page(path, title=title_, icon=icon_) for path, title_, icon_ in PUBLIC)]
