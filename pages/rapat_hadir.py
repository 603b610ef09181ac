"""Daftar hadir: quick, keyboard-friendly entry of attendees; counts by unsur and the quorum."""

import pandas as pd
import streamlit as st

from core import db, meetings
from core.access import Role
from ui import meeting as ui_meeting, widgets

actor = widgets.require_page("pages/rapat_hadir.py", Role.OPERATOR, Role.LURAH)
st.title("Daftar hadir")
m = ui_meeting.pick(actor)
if m is None:
    st.stop()
with db.session_scope() as s:
    setting = meetings.settings_for(actor.wilayah_kode, session=s)
    people = meetings.attendees(m["id"], actor=actor, session=s)
    q = meetings.quorum(m["id"], actor=actor, session=s)

(st.success if q.met else st.warning)(q.explain())
st.caption(" · ".join(f"{unsur}: {n}" for unsur, n in q.by_unsur.items()) or "Belum ada peserta.")

if m["status"] == "draft":
    with st.form("attendee_new", clear_on_submit=True, border=True):
        st.markdown("**Tambah peserta** — isi lalu tekan Enter")
        c1, c2, c3 = st.columns([3, 2, 2])
        nama = c1.text_input("Nama", key="att_nama")
        unsur = c2.selectbox("Unsur", setting["unsur"], key="att_unsur")
        jabatan = c3.text_input("Jabatan", key="att_jabatan")
        c4, c5, c6 = st.columns([3, 2, 1])
        alamat = c4.text_input("RT/RW atau alamat", key="att_alamat")
        telepon = c5.text_input("No HP", key="att_telepon")
        jk = c6.selectbox("L/P", ["", "L", "P"], key="att_jk")
        if st.form_submit_button("Tambah", type="primary"):
            with widgets.user_errors():
                with db.session_scope() as s:
                    meetings.add_attendee(m["id"], {"nama": nama, "unsur": unsur, "jabatan": jabatan,
                                                    "alamat": alamat, "telepon": telepon, "jenis_kelamin": jk},
                                          actor=actor, session=s)
                st.rerun()

st.subheader(f"{len(people)} peserta")
if people:
    table = pd.DataFrame([{"No": i + 1, "Nama": p["nama"], "Unsur": p["unsur"], "Jabatan": p["jabatan"],
                           "RT/RW/alamat": p["alamat"], "No HP": p["telepon"], "L/P": p["jenis_kelamin"]}
                          for i, p in enumerate(people)])
    picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                          key="att_table")
    rows = picked.selection.rows if picked else []
    if rows:
        p = people[rows[0]]
        with st.container(border=True):
            st.markdown(f"**{p['nama']}** · {p['unsur']}")
            c1, c2, c3 = st.columns(3)
            new_name = c1.text_input("Perbaiki nama", value=p["nama"], key=f"att_fix_nama_{p['id']}")
            new_addr = c2.text_input("Perbaiki RT/RW/alamat", value=p["alamat"], key=f"att_fix_alamat_{p['id']}")
            if c3.button("Simpan perbaikan", key="att_fix"):
                with widgets.user_errors():
                    with db.session_scope() as s:
                        meetings.update_attendee(p["id"], {"nama": new_name, "alamat": new_addr},
                                                 expected_version=p["version"], actor=actor, session=s)
                    st.rerun()
            if m["status"] == "draft" and c3.button("Hapus (salah masuk)", key="att_remove"):
                with widgets.user_errors():
                    with db.session_scope() as s:
                        meetings.remove_attendee(p["id"], actor=actor, session=s)
                    st.rerun()
