"""Pengesahan (Walikota/Bupati): the ratification document of a period, and its susulan for later batches."""

from datetime import datetime

import streamlit as st

from core import db, documents
from core.access import Role
from core.timefmt import WIB
from ui import documents as ui_docs, widgets

actor = widgets.require_page("pages/pengesahan.py", Role.WALIKOTA)
kota = actor.wilayah_kode
st.title("Pengesahan")
st.caption("Rekapitulasi per kecamatan dan kelurahan beserta daftar nama, untuk usulan yang diserahkan para Camat. "
           "Usulan yang masuk sesudah pengesahan pertama disahkan dengan pengesahan susulan.")
periode = st.text_input("Periode (YYYY-MM)", value=datetime.now(WIB).strftime("%Y-%m"), key="kota_period")

with db.session_scope() as s:
    status = documents.pengesahan_status(kota, periode, actor=actor, session=s)
    handed = [d for d in documents.list_documents(actor=actor, session=s, wilayah_kode=kota, periode=periode,
                                                  doc_type="bast_kecamatan") if d["status"] == "final"]
st.markdown(f"**{len(handed)}** BAST kecamatan final · **{status['menunggu']}** kelurahan menunggu pengesahan · "
            f"**{status['terbit']}** pengesahan sudah terbit periode ini")
key = {"kode": kota, "periode": periode}
if status["menunggu"]:
    with st.container(border=True):
        st.markdown("#### " + ("Pengesahan susulan" if status["terbit"] else "Pengesahan") + f" periode {periode}")
        slot = "peng_draft." + periode
        c1, c2 = st.columns(2)
        if c1.button("Buat draf untuk diperiksa", key="peng_mk", icon=":material/draft:"):
            with widgets.user_errors():
                with st.spinner("Menyusun draf…"):
                    with db.session_scope() as s:
                        st.session_state[slot] = documents.draft("pengesahan", key, actor=actor, session=s)
        if st.session_state.get(slot):
            c1.download_button("Unduh draf (PDF)", st.session_state[slot], file_name=f"DRAF_pengesahan_{periode}.pdf",
                               mime="application/pdf", key="peng_dl", on_click="ignore", icon=":material/download:")
        sure = c2.checkbox("Saya sudah memeriksa draf; isi dokumen benar", key="peng_ok")
        if c2.button("Finalkan pengesahan", type="primary", disabled=not sure, key="peng_fin", icon=":material/lock:"):
            with widgets.user_errors():
                with db.session_scope() as s:
                    done = documents.finalise("pengesahan", key, actor=actor, session=s)
                st.session_state.pop(slot, None)
                st.toast(f"Pengesahan difinalkan dengan nomor {done['nomor']}.")
                st.rerun()
else:
    st.info("Tidak ada usulan kelurahan yang menunggu pengesahan untuk periode ini.")

st.subheader("Pengesahan yang sudah terbit")
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
