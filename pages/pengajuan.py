"""Pengajuan (operator, Lurah): the period's batch — what still blocks it, submitting, withdrawing, the returns
with their reasons, revisions and what changed between them."""

import pandas as pd
import streamlit as st

from core import batch_views, db, meetings, workflow
from core.access import Role
from core.timefmt import waktu
from ui import packages as ui_packages, widgets

actor = widgets.require_page("pages/pengajuan.py", Role.OPERATOR, Role.LURAH)
kel = actor.wilayah_kode
lurah = actor.role == Role.LURAH
st.title("Pengajuan ke Camat")
with st.expander("Apa yang dilakukan di sini?"):
    st.markdown("Sesudah musyawarah ditutup, verifikasi lapangan selesai dan dokumen (BA, SPTJM, BAST) final dengan "
                "pindaiannya, **Lurah mengajukan** usulan kepada Camat. Sesudah diajukan, usulan, verifikasi dan "
                "dokumen terkunci. Camat dapat meneruskan sebagian usulan dan mengembalikan yang lain dengan alasan; "
                "usulan yang dikembalikan muncul lagi di daftar bahasan musyawarah berikutnya.")

with db.session_scope() as s:
    closed = [m for m in meetings.list_meetings(kel, actor=actor, session=s) if m["status"] == "closed"]
if not closed:
    st.info("Belum ada musyawarah yang ditutup (atau pernyataan tidak diadakan). Mulai di halaman **Musyawarah**.")
    st.stop()
by_id = {m["id"]: m for m in closed}
mid = st.selectbox("Periode", list(by_id), key="batch_meeting",
                   format_func=lambda i: f"Periode {by_id[i]['periode']}"
                   + (" · tidak diadakan" if by_id[i]["kind"] == "not_held" else ""))
with db.session_scope() as s:
    batch_id = workflow.batch_id_for_meeting(mid, actor=actor, session=s)
    info = batch_views.detail(batch_id, actor=actor, session=s)
    blockers = workflow.blockers_for(batch_id, actor=actor, session=s)

state = info["state"]
box = {"draft": st.info, "diajukan": st.info, "diteruskan": st.success, "disahkan": st.success,
       "dikembalikan": st.error, "ditolak": st.error}[state]
box(f"Status: **{workflow.STATES[state]}** · revisi {info['revision']}"
    + (" · **terlambat** (melewati batas pengajuan)" if info["late"] else "")
    + (f" · diajukan {waktu(info['submitted_at'])}" if info["submitted_at"] else ""), icon=":material/flag:")


def do(action: str, reason: str = "") -> None:
    with widgets.user_errors():
        with db.session_scope() as s:
            workflow.act(batch_id, action, actor=actor, session=s, reason=reason, expected_state=state)
        st.toast(f"{workflow.ACTIONS[action]}: berhasil.")
        st.rerun()


if state == "draft":
    st.subheader("Syarat pengajuan")
    if blockers:
        for b in blockers:
            st.markdown(f"- :red[✗] {b['pesan']}")
        st.page_link("pages/dokumen.py", label="Ke halaman Dokumen", icon=":material/description:")
        st.page_link("pages/penugasan.py", label="Ke Penugasan verifikasi", icon=":material/assignment_ind:")
    else:
        st.markdown("- :green[✓] Semua syarat terpenuhi.")
    missing = [i for i in info["items"] if i.get("perlu_verifikasi")]
    if missing and lurah:
        with st.expander(f"Kecualikan verifikasi lapangan ({len(missing)} keluarga belum dikunjungi)"):
            st.caption("Hanya bila kunjungan memang tidak diperlukan; alasannya tercatat dan dibaca peninjau.")
            pick = st.selectbox("Keluarga", [i["id"] for i in missing], key="waive_pick",
                                format_func=lambda i: next(f"{x['nama_kepala']} · KK {x['no_kk']}"
                                                           for x in missing if x["id"] == i))
            why = st.text_input("Alasan", key="waive_reason")
            if st.button("Kecualikan", key="waive_go"):
                with widgets.user_errors():
                    with db.session_scope() as s:
                        workflow.waive_verification(pick, why, actor=actor, session=s)
                    st.rerun()
    if lurah:
        sure = st.checkbox("Saya, Lurah, mengajukan usulan ini dan bertanggung jawab atas kebenarannya",
                           key="submit_ok", disabled=bool(blockers))
        if st.button("Ajukan ke Camat", type="primary", disabled=bool(blockers) or not sure, key="submit_go",
                     icon=":material/send:"):
            do("ajukan")
    else:
        st.caption("Pengajuan dilakukan oleh Lurah.")
elif state == "diajukan" and lurah:
    if st.button("Tarik kembali (sebelum Camat bertindak)", key="withdraw_go", icon=":material/undo:"):
        do("tarik")
elif state == "dikembalikan":
    last = next((e for e in reversed(info["events"]) if e["action"] == "kembalikan"), None)
    if last:
        st.error(f"Alasan Camat: {last['alasan']}")
    if st.button("Buka revisi untuk diperbaiki", type="primary", key="revise_go", icon=":material/edit:"):
        do("revisi")

ui_packages.export_panel(batch_id, actor)

st.subheader("Usulan dalam pengajuan")
rows = [{"No KK": i["no_kk"], "Kepala keluarga": i["nama_kepala"], "Jenis": i["jenis"],
         "Status": workflow.ITEM_STATES.get(i["status"], i["status"]), "Alasan pengembalian": i["status_reason"],
         "Jiwa": len(i["anggota"])} for i in info["items"]]
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

st.subheader("Riwayat")
st.dataframe(pd.DataFrame([{"Waktu": waktu(e["waktu"]), "Revisi": e["revision"],
                            "Tindakan": workflow.EVENT_LABELS.get(e["action"], e["action"]), "Oleh": e["oleh"],
                            "Alasan": e["alasan"]} for e in info["events"]]), hide_index=True, width="stretch")
if len(info["revisions"]) >= 2:
    st.subheader("Perubahan antarrevisi")
    c1, c2 = st.columns(2)
    old = c1.selectbox("Dari revisi", info["revisions"][:-1], key="diff_old")
    new = c2.selectbox("Ke revisi", [r for r in info["revisions"] if r > old], key="diff_new")
    with db.session_scope() as s:
        changes = batch_views.diff(batch_id, old, new, actor=actor, session=s)
    st.dataframe(pd.DataFrame(changes) if changes else pd.DataFrame([{"perubahan": "tidak ada perubahan"}]),
                 hide_index=True, width="stretch")
