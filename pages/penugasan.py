"""Penugasan verifikasi (operator, Lurah): give the families that need a field visit to a petugas or staff."""

import pandas as pd
import streamlit as st

from core import accounts, db, meetings, proposals, verification
from core.access import Role
from core.proposals import JENIS
from core.screening import mask_nik
from ui import widgets

actor = widgets.require_page("pages/penugasan.py", Role.OPERATOR, Role.LURAH)
kel = actor.wilayah_kode
st.title("Penugasan verifikasi lapangan")
with db.session_scope() as s:
    officers = [a for a in accounts.list_accounts(actor=actor, session=s)
                if a["aktif"] and a["role"] in ("petugas", "operator", "lurah")]
    held = [m for m in meetings.list_meetings(kel, actor=actor, session=s) if m["kind"] == "held"]
    rule = verification.rule_for(kel, session=s)
    current = verification.list_assignments(actor=actor, session=s)

if not held:
    st.info("Belum ada musyawarah: usulan yang perlu diverifikasi muncul setelah dimasukkan ke agenda.")
else:
    names = {m["id"]: f"Periode {m['periode']} ({'berlangsung' if m['status'] == 'draft' else 'ditutup'})"
             for m in held}
    meeting_id = st.selectbox("Usulan dari musyawarah", list(names), format_func=names.get, key="assign_meeting")
    with db.session_scope() as s:
        items = proposals.list_proposals(meeting_id, actor=actor, session=s)
    assigned = {a["proposal_id"]: a for a in current if a["proposal_id"]}
    only_needed = st.checkbox("Hanya yang wajib diverifikasi menurut aturan kota", value=True, key="assign_needed")
    shown = [i for i in items if not only_needed or verification.needs_verification(i, rule)]
    table = pd.DataFrame([{"No": i["urutan"], "Kepala keluarga": i["nama_kepala"], "No KK": mask_nik(i["no_kk"]),
                           "RT/RW": f"{i['rt']}/{i['rw']}", "Jenis": JENIS[i["jenis"]],
                           "Wajib verifikasi": "ya" if verification.needs_verification(i, rule) else "tidak",
                           "Petugas": assigned.get(i["id"], {}).get("petugas", "–")} for i in shown])
    picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row",
                          key="assign_table")
    rows = picked.selection.rows if picked else []
    labels = {a["username"]: f"{a['nama']} ({a['role']})" for a in officers}
    c1, c2 = st.columns([3, 1])
    officer = c1.selectbox("Tugaskan kepada", list(labels), format_func=labels.get, key="assign_officer",
                           index=next((i for i, a in enumerate(officers) if a["role"] == "petugas"), 0))
    if c2.button(f"Tugaskan {len(rows)} keluarga", key="assign_go", type="primary", disabled=not rows):
        with widgets.user_errors():
            with db.session_scope() as s:
                verification.assign(kel, officer, proposal_ids=[shown[r]["id"] for r in rows], actor=actor, session=s)
            st.success(f"{len(rows)} keluarga ditugaskan kepada {labels[officer]}.")
            st.rerun()

st.subheader("Semua penugasan")
if current:
    st.dataframe(pd.DataFrame([{"Kepala keluarga": a["kepala"], "No KK": mask_nik(a["no_kk"]), "RT/RW":
                                f"{a['rt']}/{a['rw']}", "Petugas": a["petugas"], "Status": a["status"],
                                "Kunjungan": a["visit_status"] or "belum"} for a in current]),
                 hide_index=True, width="stretch")
    done = sum(1 for a in current if a["status"] == "selesai")
    st.caption(f"{done} dari {len(current)} keluarga sudah diverifikasi.")
else:
    st.caption("Belum ada penugasan.")
