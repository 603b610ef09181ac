"""Tinjau pengajuan (Camat): the kecamatan's batches; per batch the items with their evidence, returns with reasons,
then forward to the Walikota/Bupati or return the whole batch."""

import hashlib

import pandas as pd
import streamlit as st

from core import batch_views, db, workflow
from core.access import Role
from ui import packages as ui_packages, review, widgets

actor = widgets.require_page("pages/tinjau_pengajuan.py", Role.CAMAT)
st.title("Tinjau pengajuan kelurahan")
st.caption("Periksa setiap usulan beserta temuan dan foto lapangannya. Kembalikan usulan yang bermasalah dengan "
           "alasan; sisanya diteruskan kepada Walikota/Bupati. Penerimaan BAST dari kelurahan tercatat saat Anda "
           "bertindak.")
ui_packages.import_panel(actor)
c1, c2 = st.columns(2)
periode = c1.text_input("Periode (YYYY-MM, kosongkan untuk semua)", key="q_period")
states = c2.multiselect("Status", list(workflow.STATES), default=["diajukan"], format_func=workflow.STATES.get,
                        key="q_states")
with db.session_scope() as s:
    rows = batch_views.queue(actor.wilayah_kode, actor=actor, session=s, periode=periode or None,
                             states=tuple(states) or None)
if not rows:
    st.info("Tidak ada pengajuan dengan saringan ini.")
    st.stop()
table = pd.DataFrame([{"Kelurahan": r["kelurahan"], "Periode": r["periode"], "Status": r["state_label"],
                       "Revisi": r["revision"], "KK": r["kk"], "Jiwa": r["jiwa"], "Temuan terbuka": r["temuan"],
                       "Umur (hari)": r["umur_hari"], "Terlambat": "ya" if r["late"] else ""} for r in rows])
# The key follows the queue's content: when a batch leaves the queue, no other batch slides into the selection.
signature = "-".join(f"{r['id']}.{r['version']}" for r in rows)
picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                      key=f"queue_table.{hashlib.sha1(signature.encode()).hexdigest()[:12]}")
if not (picked and picked.selection.rows):
    st.caption("Pilih satu pengajuan pada tabel untuk meninjaunya.")
    st.stop()
chosen = rows[picked.selection.rows[0]]
review.note_view(chosen["id"], actor)
with db.session_scope() as s:
    batch = batch_views.detail(chosen["id"], actor=actor, session=s)

st.subheader(f"Kel. {batch['kelurahan']} · periode {batch['periode']} · {batch['state_label']}")
if batch["kind"] == "not_held":
    st.warning(f"Musyawarah tidak diadakan: {batch['not_held_reason']}")
tab_items, tab_map, tab_docs, tab_hist = st.tabs(["Usulan", "Peta", "Dokumen", "Riwayat"])
with tab_map:
    review.batch_map(batch, actor)
with tab_docs:
    review.documents_table(batch)
with tab_hist:
    review.history(batch)
with tab_items:
    if batch["state"] == "diajukan":
        review.items_table(batch, actor=actor, open_state="diusulkan", allowed=("kembalikan",))
    else:
        review.items_readonly(batch)

if batch["state"] == "diajukan":
    st.divider()
    returns = review.decisions(batch)
    a, b = st.columns(2)
    with a:
        st.markdown(f"**Teruskan** {len([i for i in batch['items'] if i['status'] == 'diusulkan']) - len(returns)} "
                    f"usulan; {len(returns)} dikembalikan ke kelurahan.")
        if st.button("Teruskan ke Walikota/Bupati", type="primary", key="forward_go", icon=":material/forward:"):
            if review.act(batch, "teruskan", actor, with_items=True):
                st.rerun()
    with b:
        why = st.text_input("Alasan mengembalikan seluruh pengajuan", key="return_all_reason")
        if st.button("Kembalikan seluruh pengajuan", key="return_all_go", icon=":material/undo:"):
            if review.act(batch, "kembalikan", actor, reason=why):
                st.rerun()
