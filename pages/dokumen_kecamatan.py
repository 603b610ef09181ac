"""Dokumen kecamatan (Camat): receive the kelurahan BASTs of a period, then hand them on to the Walikota/Bupati."""

from datetime import datetime

import streamlit as st

from core import db, documents, wilayah
from core.access import Role
from core.timefmt import WIB, waktu
from ui import documents as ui_docs, widgets

actor = widgets.require_page("pages/dokumen_kecamatan.py", Role.CAMAT)
kec = actor.wilayah_kode
st.title("Dokumen kecamatan")
st.caption("BAST dari kelurahan yang diterima, dan BAST Camat kepada Walikota/Bupati c.q. Suku Dinas Sosial.")
periode = st.text_input("Periode (YYYY-MM)", value=datetime.now(WIB).strftime("%Y-%m"), key="kec_period")

with db.session_scope() as s:
    basts = [d for d in documents.list_documents(actor=actor, session=s, wilayah_kode=kec, periode=periode,
                                                 doc_type="bast_kelurahan") if d["status"] == "final"]
    kelurahan = {w.kode: w.nama for w in wilayah.kelurahan_in_scope(actor=actor, session=s)}

st.subheader("BAST dari kelurahan")
if not basts:
    st.info(f"Belum ada BAST kelurahan yang final untuk periode {periode}.")
for doc in basts:
    with st.container(border=True):
        c1, c2, c3 = st.columns([3, 2, 2])
        c1.markdown(f"**Kel. {kelurahan.get(doc['wilayah_kode'], doc['wilayah_kode'])}** · BAST Nomor {doc['nomor']}")
        c1.caption(f"{doc['ringkasan']['kk']} KK · {doc['ringkasan']['jiwa']} jiwa · kode verifikasi {doc['kode']}")
        c2.download_button("Unduh BAST (PDF)", ui_docs.final_download(doc, "pdf", actor), file_name=ui_docs.file_name(doc),
                           key=f"k.dl.{doc['id']}", on_click="ignore", icon=":material/download:")
        if doc["received_at"]:
            c3.success(f"Diterima {waktu(doc['received_at'])}", icon=":material/inventory:")
        elif not doc["scan_sha256"]:
            c3.warning("Pindaian bertanda tangan belum diunggah kelurahan.")
        elif c3.button("Catat diterima", key=f"k.rcv.{doc['id']}", icon=":material/inventory:"):
            with widgets.user_errors():
                with db.session_scope() as s:
                    documents.record_receipt(doc["id"], actor=actor, session=s)
                st.rerun()

st.subheader("BAST Camat kepada Walikota/Bupati")
ui_docs.panel("bast_kecamatan", {"kode": kec, "periode": periode}, actor=actor, may_finalise=True, may_upload=True,
              note="Mencantumkan pengajuan kelurahan yang sudah Anda teruskan dan belum tercantum dalam BAST sebelumnya.")
with db.session_scope() as s:
    ui_docs.history(documents.list_documents(actor=actor, session=s, wilayah_kode=kec, periode=periode,
                                             doc_type="bast_kecamatan"))
