"""Hasil pengesahan (Dinas Sosial, Walikota/Bupati): the ratified batches of the area, their pengesahan, and the
by-name result for SIKS-NG as XLSX (SIKS-NG column layout, a sheet per proposal type) or CSV."""

from datetime import datetime

import pandas as pd
import streamlit as st

from core import batch_views, db, documents, exports
from core.access import Role
from core.timefmt import WIB
from ui import documents as ui_docs, widgets

actor = widgets.require_page("pages/hasil_pengesahan.py", Role.DINSOS, Role.WALIKOTA)
st.title("Hasil pengesahan")
st.caption("Usulan yang sudah disahkan Walikota/Bupati, siap dimasukkan ke SIKS-NG. Berkas unduhan memuat NIK "
           "lengkap: simpan di perangkat dinas dan jangan disebarkan; setiap unduhan tercatat di log audit.")
periode = st.text_input("Periode (YYYY-MM)", value=datetime.now(WIB).strftime("%Y-%m"), key="result_period")
with db.session_scope() as s:
    rows = batch_views.queue(actor.wilayah_kode, actor=actor, session=s, periode=periode, states=("disahkan",))
    issued = documents.list_documents(actor=actor, session=s, periode=periode, doc_type="pengesahan")
c1, c2, c3 = st.columns(3)
c1.metric("Kelurahan disahkan", len(rows))
c2.metric("KK disahkan", sum(r["kk"] for r in rows))
c3.metric("Jiwa disahkan", sum(r["jiwa"] for r in rows))
if rows:
    st.dataframe(pd.DataFrame([{"Kecamatan": r["kecamatan"], "Kelurahan": r["kelurahan"], "KK": r["kk"],
                                "Jiwa": r["jiwa"], "Terlambat": "ya" if r["late"] else ""} for r in rows]),
                 hide_index=True, width="stretch")
st.subheader("Dokumen pengesahan")
if not issued:
    st.info("Belum ada pengesahan yang terbit untuk periode ini.")
for doc in issued:
    a, b = st.columns([3, 2])
    a.markdown(f"**{'Pengesahan susulan' if doc['susulan'] else 'Pengesahan'}** Nomor {doc['nomor']} · "
               f"{doc['ringkasan']['kk']} KK · kode `{doc['kode']}`")
    b.download_button("Unduh PDF", ui_docs.final_download(doc, "pdf", actor), file_name=ui_docs.file_name(doc),
                      key=f"r.dl.{doc['id']}", on_click="ignore", icon=":material/download:")
st.subheader("Unduh untuk SIKS-NG")
if rows:
    def as_xlsx() -> bytes:
        with db.session_scope() as s:
            return exports.xlsx(actor.wilayah_kode, periode, actor=actor, session=s)

    def as_csv() -> bytes:
        with db.session_scope() as s:
            return exports.csv_bytes(actor.wilayah_kode, periode, actor=actor, session=s)

    a, b = st.columns(2)
    a.download_button("Unduh XLSX (format SIKS-NG)", as_xlsx, file_name=f"hasil_pengesahan_{periode}.xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="res_xlsx",
                      on_click="ignore", icon=":material/table:")
    b.download_button("Unduh CSV", as_csv, file_name=f"hasil_pengesahan_{periode}.csv", mime="text/csv",
                      key="res_csv", on_click="ignore", icon=":material/download:")
else:
    st.caption("Belum ada usulan yang disahkan untuk periode ini.")
