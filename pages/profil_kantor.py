"""Profil kantor (admin): the letterhead facts of an office — name, address, contacts, logo, who signs."""

import streamlit as st

from core import db, offices
from core.access import Role
from core.timefmt import waktu
from ui import drafts, widgets

actor = widgets.require_page("pages/profil_kantor.py", Role.ADMIN)
st.title("Profil kantor")
st.caption("Data kop surat kantor kelurahan, kecamatan dan kota/kabupaten, dipakai pada dokumen resmi.")

kode = widgets.wilayah_picker("Kantor", key="office_pick", levels={"kelurahan", "kecamatan", "kota", "kabupaten"})
if kode:
    FORM = "kantor_" + kode.replace(".", "_")
    with db.session_scope() as s:
        profile = offices.get_profile(kode, session=s)
    drafts.restore(FORM, actor, {f"f.{FORM}.{f}": profile[f] for f in offices.FIELDS}, version=profile["version"])
    drafts.notice(FORM, actor)
    st.caption(f"Terakhir diubah: {waktu(profile['updated_at'])}" if profile["updated_at"] else "Belum pernah diisi.")
    st.text_input("Nama kantor pada kop (kosongkan untuk nama baku, mis. KELURAHAN KAYU MANIS)",
                  key=f"f.{FORM}.nama_kantor")
    st.text_area("Alamat kantor", key=f"f.{FORM}.alamat", height=80)
    c1, c2, c0 = st.columns(3)
    c1.text_input("Telepon", key=f"f.{FORM}.telepon")
    c2.text_input("Email", key=f"f.{FORM}.email")
    c0.text_input("Kode pos", key=f"f.{FORM}.kode_pos", max_chars=5)
    st.markdown("**Pimpinan yang menandatangani**")
    c3, c4, c5 = st.columns(3)
    c3.text_input("Nama pimpinan (Lurah/Camat/Walikota/Bupati)", key=f"f.{FORM}.nama_pimpinan")
    c4.text_input("NIP pimpinan", key=f"f.{FORM}.nip_pimpinan")
    c5.text_input("Jabatan (kosongkan untuk baku, mis. Lurah Kayu Manis)", key=f"f.{FORM}.jabatan_pimpinan")
    st.markdown("**Bila pimpinan berhalangan**")
    c6, c7, c8, c9 = st.columns([1, 2, 2, 2])
    c6.selectbox("Sebutan", list(offices.SEBUTAN), key=f"f.{FORM}.pengganti_sebutan",
                 format_func=lambda v: offices.SEBUTAN[v])
    c7.text_input("Nama pejabat pengganti", key=f"f.{FORM}.pengganti_nama")
    c8.text_input("NIP pejabat pengganti", key=f"f.{FORM}.pengganti_nip")
    c9.text_input("Jabatan pejabat pengganti (wajib untuk a.n.)", key=f"f.{FORM}.pengganti_jabatan")
    if st.button("Simpan profil kantor", type="primary", key="office_save"):
        with widgets.user_errors():
            values = {f: st.session_state[f"f.{FORM}.{f}"] for f in offices.FIELDS}
            with db.session_scope() as s:
                offices.update_profile(kode, values, expected_version=drafts.loaded_version(FORM), actor=actor,
                                       session=s)
            drafts.forget(FORM, actor)
            st.toast("Profil kantor tersimpan.")
            st.rerun()

    st.markdown("**Logo pada kop surat**")
    if profile["logo_file_id"]:
        with db.session_scope() as s:
            logo = offices.logo_bytes(kode, session=s)
        if logo:
            st.image(logo, width=90)
    logo_upload = st.file_uploader("Unggah logo (PNG atau JPG, paling besar 2 MB)", type=["png", "jpg", "jpeg"],
                                   key=f"logo.{kode}.{profile['version']}", max_upload_size=2,
                                   help="Paling besar 2 MB.")
    if logo_upload is not None and st.button("Pasang logo", key="logo_save"):
        with widgets.user_errors():
            with db.session_scope() as s:
                offices.set_logo(kode, logo_upload.getvalue(), logo_upload.name,
                                 expected_version=profile["version"], actor=actor, session=s)
            st.toast("Logo terpasang.")
            st.rerun()
    if profile["logo_file_id"] and st.button("Hapus logo", key="logo_remove"):
        with widgets.user_errors():
            with db.session_scope() as s:
                offices.set_logo(kode, None, "", expected_version=profile["version"], actor=actor, session=s)
            st.rerun()
