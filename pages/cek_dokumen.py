"""Cek keaslian dokumen (public, no login): a verification code or an uploaded PDF → the document's status.

Reached from the QR code printed on every final document. It shows type, number, date, wilayah and counts —
never anything personal — and limits how often one client may ask, so codes cannot be guessed.
"""

import streamlit as st

from core import db, doc_verify
from ui import session as ui_session, widgets
from ui.client import client_id

ui_session.leave_legacy_pages_mode()
st.title("Cek keaslian dokumen Muskel")
st.caption("Ketik kode verifikasi yang tercetak di bawah kode QR, atau unggah berkas PDF dokumen. Halaman ini tidak "
           "memerlukan akun dan tidak menampilkan data pribadi.")


def show(result: dict) -> None:
    status = result["status"]
    box = {"valid": st.success, "superseded": st.warning, "altered": st.error, "draft": st.warning,
           "unknown": st.error}[status]
    box(result["pesan"], icon={"valid": ":material/verified:"}.get(status, ":material/warning:"))
    if "nomor" not in result:
        return
    rows = [("Jenis dokumen", result["jenis_label"]), ("Nomor", result["nomor"]), ("Tanggal dokumen", result["tanggal"]),
            ("Periode", result["periode"]),
            ("Wilayah", ", ".join(x for x in (result["kelurahan"] and f"Kel. {result['kelurahan']}",
                                               result["kecamatan"] and f"Kec. {result['kecamatan']}", result["kota"])
                                  if x)),
            ("Jumlah", f"{result['kk']} KK · {result['jiwa']} jiwa"), ("Kode verifikasi", result["kode"]),
            ("SHA-256 dokumen tercatat", result["sha256"])]
    if result.get("digantikan_oleh"):
        rows.append(("Digantikan oleh", f"Nomor {result['digantikan_oleh']}"))
    st.table({"Keterangan": [r[0] for r in rows], "Isi": [r[1] for r in rows]})


def check(slot: str, asked: str, fn, *args) -> None:
    """Ask once per new question (reruns of the page show the kept answer and do not count against the limit)."""
    kept = st.session_state.get(slot)
    if kept and kept[0] == asked:
        show(kept[1])
        return
    if not doc_verify.LIMITER.allow(client_id()):
        st.error("Terlalu banyak pemeriksaan dari perangkat ini. Tunggu satu menit lalu coba lagi.")
        return
    with widgets.user_errors():
        with db.session_scope() as s:
            result = fn(*args, session=s)
        st.session_state[slot] = (asked, result)
        show(result)


tab_code, tab_pdf = st.tabs(["Kode verifikasi", "Unggah PDF"])
with tab_code:
    code = st.text_input("Kode verifikasi", value=st.query_params.get("kode", ""), key="verify_code",
                         placeholder="mis. 7K3M-QX2P-9RTD", max_chars=20)
    if code:
        check("_verify_code_result", code, doc_verify.by_code, code)
with tab_pdf:
    upload = st.file_uploader("Berkas PDF dokumen", type=["pdf"], key="verify_pdf", max_upload_size=30,
                              help="Paling besar 30 MB.")
    if upload is not None:
        data = upload.getvalue()
        check("_verify_pdf_result", upload.file_id, doc_verify.by_pdf, data)
