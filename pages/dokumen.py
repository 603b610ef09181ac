"""Dokumen (operator, Lurah): the Berita Acara, SPTJM and BAST of a period — draft, finalise, signed scans."""

import streamlit as st

from core import db, documents, meetings
from core.access import Role
from core.timefmt import tanggal
from ui import documents as ui_docs, widgets

actor = widgets.require_page("pages/dokumen.py", Role.OPERATOR, Role.LURAH)
kel = actor.wilayah_kode
st.title("Dokumen musyawarah")
with st.expander("Apa yang dilakukan di sini?"):
    st.markdown(
        "1. **Buat draf** Berita Acara dan periksa isinya (nama, NIK, jumlah). Draf bertanda DRAFT dan belum "
        "bernomor.\n2. **Lurah memfinalkan** Berita Acara, lalu SPTJM: nomor diberikan, PDF dikunci dan "
        "didaftarkan dengan kode verifikasi dan kode QR.\n3. Cetak, tandatangani (SPTJM di atas meterai Rp10.000), "
        "pindai, lalu **unggah pindaian** masing-masing.\n4. Sesudah kedua pindaian ada, Lurah memfinalkan "
        "**BAST** kepada Camat; cetak, tandatangani, pindai dan unggah juga.")

with db.session_scope() as s:
    found = meetings.list_meetings(kel, actor=actor, session=s)
if not found:
    st.info("Belum ada musyawarah atau pernyataan tidak diadakan. Mulai di halaman **Musyawarah**.")
    st.stop()


def describe(m: dict) -> str:
    if m["kind"] == "not_held":
        return f"Periode {m['periode']} · musyawarah tidak diadakan"
    when = tanggal(m["tanggal"]) if m["tanggal"] else "tanggal belum diisi"
    return f"Periode {m['periode']} · {when} · {'ditutup' if m['status'] == 'closed' else 'berlangsung'}"


by_id = {m["id"]: m for m in found}
mid = st.selectbox("Musyawarah", list(by_id), format_func=lambda i: describe(by_id[i]), key="doc_meeting")
m = by_id[mid]
key = {"meeting_id": mid}
lurah = actor.role == Role.LURAH

if m["kind"] == "held":
    def sheet() -> bytes:
        with db.session_scope() as s:
            return documents.blank_attendance(mid, actor=actor, session=s)

    st.download_button("Cetak daftar hadir kosong (untuk ditandatangani di pintu masuk)", sheet,
                       file_name=f"daftar_hadir_{m['periode']}.pdf", mime="application/pdf", key="blank_sheet",
                       icon=":material/print:", on_click="ignore")
    if m["status"] != "closed":
        st.warning("Musyawarah masih berlangsung: draf dapat dibuat untuk diperiksa, tetapi Berita Acara baru dapat "
                   "difinalkan sesudah Lurah menutup musyawarah.", icon=":material/info:")
    ui_docs.panel("berita_acara", key, actor=actor, may_finalise=lurah, may_upload=True,
                  note="Dengan Lampiran I daftar hadir, II daftar usulan (BNBA), III notulen, IV dokumentasi.")
ui_docs.panel("sptjm", key, actor=actor, may_finalise=lurah, may_upload=True,
              note="Ditandatangani Lurah di atas meterai Rp10.000." + (
                  " Varian: musyawarah tidak diadakan." if m["kind"] == "not_held" else ""))
ui_docs.panel("bast_kelurahan", key, actor=actor, may_finalise=lurah, may_upload=True,
              note="Dibuat sesudah pindaian Berita Acara dan SPTJM diunggah: BAST mencantumkan sidik (SHA-256) "
                   "setiap berkas yang diserahkan kepada Camat.")

st.subheader("Riwayat dokumen periode ini")
with db.session_scope() as s:
    ui_docs.history(documents.list_documents(actor=actor, session=s, wilayah_kode=kel, meeting_id=mid))
