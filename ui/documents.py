"""One official document on screen: its state, the draft to check, finalising, the signed scan, the downloads.

Used by the kelurahan, kecamatan and kota document screens; all rules live in ``core.documents``.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from core import db, documents, retention
from core.access import Actor
from core.timefmt import waktu
from ui import widgets

STATUS_LABEL = {"final": "Final", "superseded": "Digantikan"}


def _draft_key(doc_type: str, key: dict) -> str:
    return "draft_pdf." + doc_type + "." + ".".join(str(v) for v in key.values())


def final_download(doc: dict, which: str, actor: Actor):
    def produce() -> bytes:
        with db.session_scope() as s:
            data, _, _ = documents.download(doc["id"], actor=actor, session=s, which=which)
        return data
    return produce


def file_name(doc: dict, which: str = "pdf") -> str:
    base = f"{doc['doc_type']}_{doc['nomor'].replace('/', '-')}"
    return {"pdf": base + ".pdf", "scan": base + "_pindaian", "data": base + "_BNBA.csv"}[which]


def panel(doc_type: str, key: dict, *, actor: Actor, may_finalise: bool, may_upload: bool, note: str = "") -> None:
    """Everything about one document of one subject, in a bordered box."""
    with db.session_scope() as s:
        current = documents.current(doc_type, documents.subject_of(doc_type, key), s)
        doc = documents.document_dict(current) if current else None
        scan_purged = retention.scan_notice(current, s)  # the signed scan's retention period has ended
    slot = _draft_key(doc_type, key)
    with st.container(border=True):
        st.markdown(f"#### {documents.LABELS[doc_type]}")
        if note:
            st.caption(note)
        if doc:
            st.success(f"**Final** · Nomor **{doc['nomor']}** · kode verifikasi `{doc['kode']}` · difinalkan oleh "
                       f"{doc['finalised_by']} pada {waktu(doc['finalised_at'])}", icon=":material/verified:")
            c1, c2, c3 = st.columns(3)
            c1.download_button("Unduh PDF final", final_download(doc, "pdf", actor), file_name=file_name(doc),
                               mime="application/pdf", key=f"dl.{doc['id']}.pdf", icon=":material/download:",
                               on_click="ignore")
            if scan_purged:
                c2.info(scan_purged, icon=":material/auto_delete:")
            elif doc["scan_sha256"]:
                c2.download_button("Unduh pindaian bertanda tangan", final_download(doc, "scan", actor),
                                   file_name=file_name(doc, "scan"), key=f"dl.{doc['id']}.scan",
                                   icon=":material/download:", on_click="ignore")
                c2.caption(f"Pindaian diunggah {doc['scan_uploaded_by']} · {waktu(doc['scan_uploaded_at'])}")
            else:
                c2.warning("Pindaian bertanda tangan belum diunggah.", icon=":material/upload:")
            if doc_type == "bast_kelurahan":
                c3.caption("Penerimaan Camat: " + (f"diterima {doc['received_by']} · {waktu(doc['received_at'])}"
                                                    if doc["received_at"] else "belum dicatat"))
            if may_upload:
                _scan_uploader(doc, actor)
        else:
            st.info("Belum final. Buat draf untuk diperiksa; draf bertanda DRAFT di setiap halaman dan belum "
                    "bernomor.", icon=":material/draft:")
        c1, c2 = st.columns(2)
        if c1.button("Buat draf untuk diperiksa", key=f"mk.{slot}", icon=":material/draft:"):
            with widgets.user_errors():
                with st.spinner("Menyusun draf…"):
                    with db.session_scope() as s:
                        st.session_state[slot] = documents.draft(doc_type, key, actor=actor, session=s)
        if st.session_state.get(slot):
            c1.download_button("Unduh draf (PDF)", st.session_state[slot], file_name=f"DRAF_{doc_type}.pdf",
                               mime="application/pdf", key=f"dl.{slot}", icon=":material/download:",
                               on_click="ignore")
        if may_finalise:
            _finalise_controls(doc_type, key, doc, actor, c2, slot)


def _finalise_controls(doc_type: str, key: dict, doc: dict | None, actor: Actor, column, slot: str) -> None:
    if doc is None:
        sure = column.checkbox("Saya sudah memeriksa draf; isi dokumen benar", key=f"ok.{slot}")
        if column.button("Finalkan dokumen", key=f"fin.{slot}", type="primary", disabled=not sure,
                         icon=":material/lock:"):
            with widgets.user_errors():
                with st.spinner("Memfinalkan: nomor diberikan, PDF dikunci dan didaftarkan…"):
                    with db.session_scope() as s:
                        done = documents.finalise(doc_type, key, actor=actor, session=s)
                st.session_state.pop(slot, None)
                st.toast(f"Difinalkan dengan nomor {done['nomor']}.")
                st.rerun()
        return
    with column.expander("Terbitkan dokumen pengganti"):
        st.caption("Hanya untuk koreksi: dokumen lama tetap tercatat dengan keterangan *digantikan oleh* yang baru, "
                   "dan pindaiannya perlu diunggah ulang untuk dokumen baru.")
        reason = st.text_area("Alasan penggantian", key=f"why.{slot}")
        if st.button("Finalkan pengganti", key=f"rep.{slot}", icon=":material/published_with_changes:"):
            with widgets.user_errors():
                with db.session_scope() as s:
                    done = documents.finalise(doc_type, key, actor=actor, session=s, replace_reason=reason)
                st.toast(f"Pengganti difinalkan dengan nomor {done['nomor']}.")
                st.rerun()


def _scan_uploader(doc: dict, actor: Actor) -> None:
    upload = st.file_uploader("Unggah pindaian bertanda tangan (PDF, JPG atau PNG)", type=["pdf", "jpg", "jpeg", "png"],
                              key=f"scan.{doc['id']}.{doc['version']}", max_upload_size=20,
                              help="Paling besar 20 MB per berkas.")
    if upload is None:
        return
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    if digest == doc["scan_sha256"]:
        return
    with widgets.user_errors():
        with db.session_scope() as s:
            documents.upload_scan(doc["id"], data, upload.name, actor=actor, session=s)
        st.toast("Pindaian tersimpan.")
        st.rerun()


def history(rows: list[dict]) -> None:
    """The registry entries of a subject, superseded ones included, newest first."""
    if not rows:
        return
    by_id = {r["id"]: r for r in rows}
    table = [{"Dokumen": r["label"], "Nomor": r["nomor"], "Status": STATUS_LABEL[r["status"]],
              "Digantikan oleh": by_id[r["superseded_by_id"]]["nomor"] if r["superseded_by_id"] in by_id else "",
              "Alasan": r["alasan_pengganti"], "Difinalkan": waktu(r["finalised_at"]),
              "Kode verifikasi": r["kode"], "Pindaian": "ada" if r["scan_sha256"] else "belum"} for r in rows]
    st.dataframe(table, hide_index=True, width="stretch")
