"""Profil kantor (admin): the letterhead facts of an office — address, phone, email, head of office."""

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
    st.text_area("Alamat kantor", key=f"f.{FORM}.alamat", height=80)
    c1, c2 = st.columns(2)
    c1.text_input("Telepon", key=f"f.{FORM}.telepon")
    c2.text_input("Email", key=f"f.{FORM}.email")
    c3, c4 = st.columns(2)
    c3.text_input("Nama pimpinan (Lurah/Camat/Walikota/Bupati)", key=f"f.{FORM}.nama_pimpinan")
    c4.text_input("NIP pimpinan", key=f"f.{FORM}.nip_pimpinan")
    if st.button("Simpan profil kantor", type="primary", key="office_save"):
        with widgets.user_errors():
            values = {f: st.session_state[f"f.{FORM}.{f}"] for f in offices.FIELDS}
            with db.session_scope() as s:
                offices.update_profile(kode, values, expected_version=drafts.loaded_version(FORM), actor=actor,
                                       session=s)
            drafts.forget(FORM, actor)
            st.toast("Profil kantor tersimpan.")
            st.rerun()
