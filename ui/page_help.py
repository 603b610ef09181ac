"""A short Indonesian explanation per screen — what it is for and what to do next — shown folded at the top."""

from __future__ import annotations

import streamlit as st

HELP = {
    "pages/beranda.py": "Ringkasan wilayah Anda dan apa yang menunggu tindakan Anda. Staf kelurahan melihat langkah "
                        "periode ini berurutan; tekan **Kerjakan** pada langkah yang sedang berjalan.",
    "pages/wilayah_saya.py": "Pohon wilayah Anda dan akun di dalamnya. Hanya untuk dilihat.",
    "pages/akun_saya.py": "Profil Anda dan penggantian kata sandi.",
    "pages/cek_dokumen.py": "Periksa keaslian dokumen Muskel dari kode verifikasinya atau berkas PDF-nya.",
    "pages/impor_dtsen.py": "Langkah 1. Unggah ekstrak DTSEN dari Suku Dinas Sosial. Muskel memeriksa setiap baris "
                            "sebelum menyimpan; perbaiki berkas bila ada masalah penghalang, lalu impor ulang.",
    "pages/cari_keluarga.py": "Cari keluarga dalam DTSEN (NIK, No KK atau nama) — misalnya saat musyawarah.",
    "pages/temuan_data.py": "Temuan pemeriksaan data DTSEN (NIK tidak valid, data ganda, KTP luar DKI). Selesaikan "
                            "atau beri catatan sebelum musyawarah.",
    "pages/musyawarah.py": "Langkah 2. Buka musyawarah periode ini (atau Lurah menyatakan tidak diadakan), isi "
                           "waktu, tempat, pimpinan dan notulen, unggah foto, lalu Lurah menutupnya.",
    "pages/rapat_hadir.py": "Catat peserta yang hadir; kuorum dihitung otomatis.",
    "pages/rapat_tambah.py": "Tambahkan keluarga ke agenda: dari DTSEN, keluarga baru, atau lanjutan periode lalu.",
    "pages/rapat_usulan.py": "Putuskan setiap usulan bersama peserta: disepakati, tidak disepakati, atau ditunda.",
    "pages/rapat_layar.py": "Tampilan proyektor untuk peserta musyawarah.",
    "pages/penugasan.py": "Langkah 3. Tugaskan keluarga yang wajib diverifikasi kepada petugas lapangan.",
    "pages/kunjungan.py": "Isi hasil kunjungan dan unggah foto rumah (tampak depan dan dalam) dari ponsel.",
    "pages/peta.py": "Peta dan foto hasil verifikasi beserta temuannya.",
    "pages/dokumen.py": "Langkah 4–5. Buat draf, Lurah memfinalkan Berita Acara dan SPTJM, unggah pindaian "
                        "bertanda tangan, lalu finalkan BAST dan unggah pindaiannya.",
    "pages/pengajuan.py": "Langkah 6. Lurah mengajukan usulan kepada Camat bila semua syarat terpenuhi; di sini juga "
                          "terlihat pengembalian beserta alasannya dan revisi.",
    "pages/tinjau_pengajuan.py": "Pilih pengajuan, periksa usulan beserta foto dan temuannya, kembalikan yang "
                                 "bermasalah dengan alasan, lalu teruskan sisanya kepada Walikota/Bupati.",
    "pages/dokumen_kecamatan.py": "BAST dari kelurahan, dan BAST Camat kepada Walikota/Bupati sesudah pengajuan "
                                  "diteruskan.",
    "pages/pengesahan.py": "Sahkan pengajuan yang diteruskan Camat (usulan bermasalah dapat dikembalikan atau "
                           "ditolak), lalu terbitkan dokumen pengesahan periode ini.",
    "pages/hasil_pengesahan.py": "Unduh usulan yang sudah disahkan untuk SIKS-NG (XLSX per jenis usulan, atau CSV).",
    "pages/laporan_triwulan.py": "Laporan tiga bulanan: buat draf, periksa, finalkan.",
    "pages/aturan_kota.py": "Aturan kota/kabupaten: usulan yang wajib diverifikasi, batas pengajuan bulanan, dan "
                            "susunan kolom unduhan SIKS-NG.",
    "pages/log_audit.py": "Jejak setiap perubahan, unduhan dan akses data pribadi; periksa keutuhan rantainya.",
    "pages/kelola_akun.py": "Buat akun, atur ulang kata sandi, buka kunci, nonaktifkan.",
    "pages/profil_kantor.py": "Kop surat dan penanda tangan setiap kantor untuk dokumen resmi.",
    "pages/teks_dokumen.py": "Teks paragraf dokumen resmi dan pola nomor setiap kantor.",
    "pages/cadangan.py": "Buat cadangan lengkap (basis data dan berkas) dan unduh untuk disimpan di tempat aman.",
    "pages/retensi.py": "Berkas asli foto dan pindaian yang masa retensinya (sesudah pengesahan) sudah habis. "
                        "Administrator menghapusnya sesudah konfirmasi; auditor hanya melihat.",
    "pages/panduan.py": "Panduan pengguna per peran, langkah demi langkah.",
}


def show(path: str) -> None:
    text = HELP.get(path)
    if text:
        with st.expander("Tentang halaman ini", icon=":material/help:"):
            st.markdown(text)
