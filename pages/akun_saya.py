"""Akun saya: the user's own profile (autosaved while typing) and password change."""

import streamlit as st

from core import accounts, db
from core.passwords import MIN_LENGTH
from ui import drafts, widgets

actor = widgets.require_page("pages/akun_saya.py")
FORM = "akun"

with db.session_scope() as s:
    me = accounts.own_profile(actor=actor, session=s)

st.title("Akun saya")
st.caption(f"Nama pengguna **{me['username']}** · {widgets.actor_role_label(actor)} · "
           f"{widgets.wilayah_text(me['wilayah'])}")

st.subheader("Profil")
drafts.restore(FORM, actor, {f"f.{FORM}.nama": me["nama"], f"f.{FORM}.nip": me["nip"],
                             f"f.{FORM}.jabatan": me["jabatan"], f"f.{FORM}.telepon": me["telepon"]},
               version=me["version"])
drafts.notice(FORM, actor)
st.text_input("Nama lengkap", key=f"f.{FORM}.nama")
col1, col2 = st.columns(2)
col1.text_input("NIP (18 angka, kosongkan bila bukan ASN)", key=f"f.{FORM}.nip")
col2.text_input("Nomor telepon", key=f"f.{FORM}.telepon")
st.text_input("Jabatan", key=f"f.{FORM}.jabatan")
if st.button("Simpan profil", type="primary", key="save_profile"):
    with widgets.user_errors():
        changes = {field: st.session_state[f"f.{FORM}.{field}"] for field in accounts.PROFILE_FIELDS}
        with db.session_scope() as s:
            accounts.update_own_profile(changes, expected_version=drafts.loaded_version(FORM), actor=actor,
                                        session=s)
        drafts.forget(FORM, actor)
        st.toast("Profil tersimpan.")
        st.rerun()

st.subheader("Ganti kata sandi")
with st.form("change_password", clear_on_submit=True):
    old = st.text_input("Kata sandi sekarang", type="password", key="cp_old")
    new = st.text_input(f"Kata sandi baru (minimal {MIN_LENGTH} karakter)", type="password", key="cp_new")
    confirm = st.text_input("Ulangi kata sandi baru", type="password", key="cp_confirm")
    if st.form_submit_button("Ganti kata sandi"):
        with widgets.user_errors():
            with db.session_scope() as s:
                accounts.change_own_password(old, new, confirm, actor=actor, session=s)
            st.success("Kata sandi telah diganti.")
