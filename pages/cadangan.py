"""Cadangan (admin; Lurah on a single-laptop installation): a consistent backup of the database and the files."""

import streamlit as st

from core import backup
from core.access import Role
from core.config import load_settings
from ui import widgets

actor = widgets.require_page("pages/cadangan.py", Role.ADMIN, Role.LURAH)
st.title("Cadangan data")
settings = load_settings()
if actor.role == Role.LURAH and not settings.is_sqlite:
    st.info("Instalasi ini memakai server basis data kota; cadangan dibuat oleh administrator.")
    st.stop()
st.caption("Cadangan berisi seluruh basis data dan berkas (foto, pindaian, dokumen) dengan sidik SHA-256, dibuat "
           "saat aplikasi tetap berjalan. Simpan di media terenkripsi: isinya data pribadi. Pemulihan dilakukan "
           "dengan `muskel restore BERKAS` ke instalasi yang masih kosong.")
if st.button("Buat cadangan sekarang", type="primary", key="backup_go", icon=":material/backup:"):
    with widgets.user_errors():
        with st.spinner("Membuat cadangan…"):
            target, manifest = backup.backup_for(actor, settings=settings)
        st.session_state["backup_made"] = (str(target), len(manifest["files"]), manifest["counts"]["auditentry"])
made = st.session_state.get("backup_made")
if made:
    st.success(f"Cadangan {made[0]} dibuat: {made[1]} berkas, {made[2]} entri log audit.")

    def data() -> bytes:
        with open(made[0], "rb") as fh:
            return fh.read()

    st.download_button("Unduh cadangan", data, file_name=made[0].rsplit("/", 1)[-1], mime="application/zip",
                       key="backup_dl", on_click="ignore", icon=":material/download:")
