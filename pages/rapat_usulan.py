"""Agenda usulan: the meeting's items with their findings; each decision is stored the moment it is taken."""

import pandas as pd
import streamlit as st

from core import db, meetings, proposals
from core.access import Role
from core.proposals import JENIS, KEPUTUSAN, NONAKTIF_REASONS
from core.screening import mask_nik
from ui import autosave, meeting as ui_meeting, widgets

actor = widgets.require_page("pages/rapat_usulan.py", Role.OPERATOR, Role.LURAH)
st.title("Agenda usulan")
autosave.show_messages()
m = ui_meeting.pick(actor)
if m is None:
    st.stop()
with db.session_scope() as s:
    items = proposals.list_proposals(m["id"], actor=actor, session=s)
    programs = meetings.settings_for(actor.wilayah_kode, session=s)["programs"]
with st.container(border=True):
    ui_meeting.tally_panel(m["id"], actor, items=items)
if not items:
    st.info("Belum ada usulan. Tambahkan dari halaman **Tambah usulan**.")
    st.stop()

search = st.text_input("Cari dalam agenda (nama, RT/RW, jenis)", key="agenda_search").strip().lower()
shown = [i for i in items if not search or search in f"{i['nama_kepala']} {i['rt']}/{i['rw']} {i['jenis']} "
         f"{i['alasan']}".lower()]
table = pd.DataFrame([{
    "No": i["urutan"], "Kepala keluarga": i["nama_kepala"], "No KK": mask_nik(i["no_kk"]), "RT/RW": f"{i['rt']}/{i['rw']}",
    "Desil": i["desil"] if i["desil"] is not None else "–",
    "Jenis": JENIS[i["jenis"]] + (f" ({NONAKTIF_REASONS.get(i['alasan_nonaktif'], '')})" if i["alasan_nonaktif"] else ""),
    "Jiwa": len(i["anggota"]), "Program": ", ".join(i["programs"]), "Temuan": len(i["temuan"]),
    "Keputusan": KEPUTUSAN.get(i["keputusan"], "—")} for i in shown])
picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                      key="agenda_table", height=min(420, 38 + 35 * len(shown)))
rows = picked.selection.rows if picked else []
item = shown[rows[0]] if rows else None
if item is None:
    st.caption("Pilih satu baris untuk membahas usulan itu.")
    st.stop()

st.session_state["projector_item"] = item["id"]
open_meeting = m["status"] == "draft"
with st.container(border=True):
    st.markdown(f"### No. {item['urutan']} · {item['nama_kepala']}")
    st.markdown(f"KK {mask_nik(item['no_kk'])} · {item['alamat']} RT {item['rt']}/RW {item['rw']} · desil "
                f"{item['desil'] or '–'} · {JENIS[item['jenis']]} · sumber {proposals.SUMBER.get(item['sumber'])}")
    if item["alasan"]:
        st.caption(f"Alasan: {item['alasan']}")
    for change in item["perubahan"]:
        st.caption(f"Perbaikan {proposals.PERBAIKAN_FIELDS.get(change['field'], change['field'])}: "
                   f"{change.get('lama')} → {change.get('baru')}")
    for f in item["temuan"]:
        st.warning(f"**{f['judul']}** (`{f['code']}`): {f['pesan']}", icon="⚠️")
    st.dataframe(pd.DataFrame([{"NIK": mask_nik(a["nik"]), "Nama": a["nama"], "L/P": a["jenis_kelamin"],
                                "Hubungan": a["hubungan"]} for a in item["anggota"]]), hide_index=True, width="stretch")
    options = ["", *KEPUTUSAN]
    autosave.field(st.radio, "Keputusan musyawarah", key=f"dec{item['id']}", value=item["keputusan"],
                   options=options, horizontal=True, disabled=not open_meeting,
                   format_func=lambda k: KEPUTUSAN.get(k, "Belum diputuskan"),
                   save=lambda s, a, old, new: proposals.set_decision(item["id"], new,
                                                                      st.session_state.get(f"note{item['id']}", ""),
                                                                      seen=old, actor=a, session=s))
    autosave.field(st.text_input, "Catatan keputusan", key=f"note{item['id']}", value=item["catatan_keputusan"],
                   disabled=not open_meeting,
                   save=lambda s, a, old, new: proposals.update_field(item["id"], "catatan_keputusan", old, new,
                                                                      actor=a, session=s))
    autosave.field(st.multiselect, "Program", key=f"prog{item['id']}", value=item["programs"], options=programs,
                   disabled=not open_meeting, placeholder="Pilih program",
                   save=lambda s, a, old, new: proposals.update_field(item["id"], "programs", old, new,
                                                                      actor=a, session=s))
    if open_meeting:
        reason = st.text_input("Alasan membatalkan dari agenda (salah masuk)", key=f"cancel_reason{item['id']}")
        if st.button("Batalkan dari agenda", key="agenda_cancel"):
            with widgets.user_errors():
                with db.session_scope() as s:
                    proposals.cancel(item["id"], reason, actor=actor, session=s)
                st.rerun()
    else:
        st.caption("Musyawarah sudah ditutup: keputusan tetap. Koreksi ejaan nama anggota tetap dapat dicatat.")
        names = {a["id"]: a["nama"] for a in item["anggota"]}
        c1, c2, c3 = st.columns([2, 2, 1])
        member = c1.selectbox("Anggota", list(names), format_func=names.get, key=f"fix_member{item['id']}")
        fixed = c2.text_input("Nama yang benar", value=names[member], key=f"fix_name{item['id']}_{member}")
        if c3.button("Simpan koreksi", key="member_fix"):
            with widgets.user_errors():
                with db.session_scope() as s:
                    proposals.correct_member(member, {"nama": fixed}, actor=actor, session=s)
                st.rerun()
