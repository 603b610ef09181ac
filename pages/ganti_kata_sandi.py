"""Forced password change: an account with a temporary password must choose its own before anything else."""

import streamlit as st

from core import accounts, db
from core.passwords import MIN_LENGTH
from ui import session, widgets

session.leave_legacy_pages_mode()
actor = session.current_actor()
if actor is None:
    st.stop()
st.title("Ganti kata sandi")
st.info("Anda masuk dengan kata sandi sementara. Buat kata sandi Anda sendiri untuk melanjutkan.")

with st.form("forced_change"):
    old = st.text_input("Kata sandi sementara", type="password", key="fc_old")
    new = st.text_input(f"Kata sandi baru (minimal {MIN_LENGTH} karakter)", type="password", key="fc_new")
    confirm = st.text_input("Ulangi kata sandi baru", type="password", key="fc_confirm")
    submitted = st.form_submit_button("Simpan kata sandi", type="primary")

if submitted:
    with widgets.user_errors():
        with db.session_scope() as s:
            accounts.change_own_password(old, new, confirm, actor=actor, session=s)
        session.password_changed()
        session.flash("Kata sandi baru tersimpan. Selamat bekerja.", "success")
        st.rerun()
