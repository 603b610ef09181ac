"""Pengesahan (Walikota/Bupati): the forwarded batches by kecamatan, ratifying with item returns, the period's
pengesahan document (and its susulan), and the kota's duplicate report."""

from datetime import datetime

import hashlib

import pandas as pd
import streamlit as st

from core import batch_views, db, documents, reports
from core.access import Role
from core.timefmt import WIB
from ui import documents as ui_docs, review, widgets

actor = widgets.require_page("pages/pengesahan.py", Role.WALIKOTA)
kota = actor.wilayah_kode
st.title("Pengesahan")
periode = st.text_input("Periode (YYYY-MM)", value=datetime.now(WIB).strftime("%Y-%m"), key="kota_period")
tab_queue, tab_doc, tab_dup = st.tabs(["Pengajuan masuk", "Dokumen pengesahan", "Data ganda antarkelurahan"])

with tab_queue:
    with db.session_scope() as s:
        rows = batch_views.queue(kota, actor=actor, session=s, periode=periode)
    waiting = [r for r in rows if r["state"] == "diteruskan"]
    st.caption(f"{len(rows)} pengajuan periode ini · {len(waiting)} menunggu pengesahan · "
               f"{sum(1 for r in rows if r['state'] == 'disahkan')} disahkan")
    if rows:
        table = pd.DataFrame([{"Kecamatan": r["kecamatan"], "Kelurahan": r["kelurahan"], "Status": r["state_label"],
                               "KK": r["kk"], "Jiwa": r["jiwa"],
                               **{j: r["per_jenis"].get(k, {}).get("kk", 0) for k, j in
                                  (("baru", "Baru"), ("perbaikan", "Perbaikan"), ("nonaktif", "Nonaktif"),
                                   ("prioritas_program", "Prioritas"))},
                               "Temuan": r["temuan"], "Terlambat": "ya" if r["late"] else ""} for r in rows])
        signature = "-".join(f"{r['id']}.{r['version']}" for r in rows)  # a changed queue drops the selection
        picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun",
                              selection_mode="single-row",
                              key=f"kota_queue.{hashlib.sha1(signature.encode()).hexdigest()[:12]}")
        if picked and picked.selection.rows:
            chosen = rows[picked.selection.rows[0]]
            review.note_view(chosen["id"], actor)
            with db.session_scope() as s:
                batch = batch_views.detail(chosen["id"], actor=actor, session=s)
            st.subheader(f"Kel. {batch['kelurahan']} · {batch['state_label']}")
            t1, t2, t3 = st.tabs(["Usulan", "Dokumen", "Riwayat"])
            with t2:
                review.documents_table(batch)
            with t3:
                review.history(batch)
            with t1:
                if batch["state"] == "diteruskan":
                    review.items_table(batch, actor=actor, open_state="diteruskan", allowed=("kembalikan", "tolak"))
                else:
                    review.items_readonly(batch)
            if batch["state"] == "diteruskan":
                a, b = st.columns(2)
                if a.button("Sahkan", type="primary", key="ratify_go", icon=":material/approval:"):
                    if review.act(batch, "sahkan", actor, with_items=True):
                        st.rerun()
                why = b.text_input("Alasan (untuk mengembalikan ke Camat atau menolak)", key="ratify_reason")
                c1, c2 = b.columns(2)
                if c1.button("Kembalikan ke Camat", key="back_go"):
                    if review.act(batch, "kembalikan_ke_camat", actor, reason=why):
                        st.rerun()
                if c2.button("Tolak seluruhnya", key="reject_go"):
                    if review.act(batch, "tolak", actor, reason=why):
                        st.rerun()
    else:
        st.info("Belum ada pengajuan periode ini.")

with tab_doc:
    with db.session_scope() as s:
        status = documents.pengesahan_status(kota, periode, actor=actor, session=s)
    st.markdown(f"**{status['menunggu']}** pengajuan disahkan menunggu dokumen pengesahan · **{status['terbit']}** "
                "pengesahan sudah terbit periode ini. Pengajuan yang terlambat dan yang disahkan sesudah pengesahan "
                "pertama masuk pengesahan susulan.")
    key = {"kode": kota, "periode": periode}
    if status["menunggu"]:
        with st.container(border=True):
            st.markdown("#### " + ("Pengesahan susulan" if status["susulan"] else "Pengesahan") + f" {periode}")
            slot = "peng_draft." + periode
            c1, c2 = st.columns(2)
            if c1.button("Buat draf untuk diperiksa", key="peng_mk", icon=":material/draft:"):
                with widgets.user_errors():
                    with st.spinner("Menyusun draf…"):
                        with db.session_scope() as s:
                            st.session_state[slot] = documents.draft("pengesahan", key, actor=actor, session=s)
            if st.session_state.get(slot):
                c1.download_button("Unduh draf (PDF)", st.session_state[slot],
                                   file_name=f"DRAF_pengesahan_{periode}.pdf", mime="application/pdf", key="peng_dl",
                                   on_click="ignore", icon=":material/download:")
            sure = c2.checkbox("Saya sudah memeriksa draf; isi dokumen benar", key="peng_ok")
            if c2.button("Finalkan pengesahan", type="primary", disabled=not sure, key="peng_fin",
                         icon=":material/lock:"):
                with widgets.user_errors():
                    with db.session_scope() as s:
                        done = documents.finalise("pengesahan", key, actor=actor, session=s)
                    st.session_state.pop(slot, None)
                    st.toast(f"Pengesahan difinalkan dengan nomor {done['nomor']}.")
                    st.rerun()
    else:
        st.info("Tidak ada pengajuan kelurahan yang menunggu pengesahan untuk periode ini.")
    with db.session_scope() as s:
        issued = documents.list_documents(actor=actor, session=s, wilayah_kode=kota, periode=periode,
                                          doc_type="pengesahan")
    for doc in issued:
        with st.container(border=True):
            c1, c2 = st.columns([3, 2])
            c1.markdown(f"**{'Pengesahan susulan' if doc['susulan'] else 'Pengesahan'}** Nomor {doc['nomor']} · "
                        f"{doc['ringkasan']['kk']} KK · {doc['ringkasan']['jiwa']} jiwa · kode `{doc['kode']}`")
            c2.download_button("Unduh PDF", ui_docs.final_download(doc, "pdf", actor), file_name=ui_docs.file_name(doc),
                               key=f"p.dl.{doc['id']}", on_click="ignore", icon=":material/download:")

with tab_dup:
    st.caption("NIK yang muncul lebih dari sekali di antara usulan kelurahan se-kota/kabupaten pada periode ini.")
    if st.button("Susun laporan data ganda", key="dup_go"):
        with widgets.user_errors():
            with db.session_scope() as s:
                st.session_state["dup_rows"] = reports.duplicates(kota, actor=actor, session=s, periode=periode)
    dup = st.session_state.get("dup_rows")
    if dup is not None:
        st.metric("Baris (kemunculan NIK ganda)", len(dup))
        if dup:
            shown = pd.DataFrame(dup)
            shown["nik"] = shown["nik"].str[:6] + "••••••" + shown["nik"].str[-4:]
            st.dataframe(shown, hide_index=True, width="stretch")
        st.download_button("Unduh CSV (NIK lengkap)", reports.duplicates_csv(dup),
                           file_name=f"data_ganda_{kota}_{periode}.csv", mime="text/csv", key="dup_dl",
                           on_click="ignore")
