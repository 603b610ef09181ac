"""Temuan data: screening findings in the register (e.g. KTP luar DKI, NIK di kelurahan lain), closed with a note."""

import pandas as pd
import streamlit as st

from core import db, flags
from core.access import Role
from core.screening import RULES
from ui import widgets

actor = widgets.require_page("pages/temuan_data.py")
st.title("Temuan data DTSEN")
st.caption("Peringatan dari penyaringan untuk dibahas sebelum musyawarah. Peringatan tidak menghalangi, tetapi "
           "setiap temuan ditutup dengan catatan siapa, kapan dan mengapa.")

c1, c2 = st.columns(2)
status = c1.radio("Status", ["open", "resolved", "waived"], horizontal=True, key="flag_status",
                  format_func={"open": "Terbuka", "resolved": "Ditutup", "waived": "Dikesampingkan"}.get)
code = c2.selectbox("Jenis temuan", [None, *RULES], key="flag_code",
                    format_func=lambda c: "Semua" if c is None else f"{RULES[c].title} ({c})")
with widgets.user_errors():
    with db.session_scope() as s:
        found = flags.list_flags(actor=actor, session=s, status=status, code=code)
    st.caption(f"{len(found)} temuan.")
    table = pd.DataFrame([{"Temuan": f["judul"], "Kode": f["code"], "NIK": f["nik"], "Penjelasan": f["pesan"],
                           "Penyelesaian": f["penyelesaian"], "Catatan": f["catatan"], "Oleh": f["oleh"]}
                          for f in found])
    picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                          key="flag_table")
    rows = picked.selection.rows if picked and len(found) else []
    if rows and status == "open" and actor.role in (Role.OPERATOR, Role.LURAH):
        flag = found[rows[0]]
        with st.container(border=True):
            st.markdown(f"**{flag['judul']}** · {flag['pesan']}")
            note = st.text_area("Catatan (mis. hasil pengecekan domisili)", key=f"flag_note_{flag['id']}")
            if st.button("Tutup temuan dengan catatan", key="flag_close", type="primary"):
                with db.session_scope() as s:
                    flags.close_flag(flag["id"], note, actor=actor, session=s)
                st.toast("Temuan ditutup dan tercatat di log audit.")
                st.rerun()
