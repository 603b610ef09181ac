"""Login page: username and password; tells plainly when demo accounts are active."""

import streamlit as st

from core import db, demo
from ui import session

session.leave_legacy_pages_mode()
st.title("Muskel")
st.caption("Musyawarah kelurahan dan usulan DTSEN · Pemerintah Provinsi DKI Jakarta")

with db.session_scope() as s:
    has_demo = demo.demo_accounts_exist(s)
if has_demo:
    st.warning(
        "**Instalasi demo.** Akun demo aktif (misalnya `lurah.kayumanis`, `operator.kayumanis`, "
        f"`camat.matraman`, `admin`) dengan kata sandi `{demo.DEMO_PASSWORD}`. Jangan simpan data keluarga "
        "sungguhan di instalasi ini.", icon="⚠️")

with st.form("login", border=True):
    username = st.text_input("Nama pengguna", key="login_username", autocomplete="username")
    password = st.text_input("Kata sandi", type="password", key="login_password", autocomplete="current-password")
    submitted = st.form_submit_button("Masuk", type="primary")

if submitted:
    message = session.log_in(username, password)
    if message:
        st.error(message)
    else:
        st.rerun()

st.caption("Lupa kata sandi atau akun terkunci? Hubungi administrator Muskel di kantor Anda.")
