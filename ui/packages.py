"""Submission packages on screen: export (encrypted by default) and import, the same services as the CLI."""

from __future__ import annotations

import streamlit as st

from core import db, packages
from core.access import Actor
from ui import widgets


def export_panel(batch_id: int, actor: Actor) -> None:
    with st.expander("Paket pengajuan digital (untuk jalur luring atau arsip)"):
        st.caption("Paket ZIP berisi usulan, verifikasi, foto, dokumen dan log audit pengajuan ini. NIK lengkap ada di "
                   "dalamnya: paket dienkripsi dengan frasa sandi (sampaikan frasa sandi terpisah dari flashdisk). "
                   "SHA-256 manifest tercatat dan dicantumkan pada BAST yang difinalkan sesudahnya.")
        encrypt = st.checkbox("Enkripsi dengan frasa sandi (disarankan)", value=True, key=f"pk.enc.{batch_id}")
        phrase = st.text_input("Frasa sandi (minimal 8 karakter)", type="password", key=f"pk.pw.{batch_id}",
                               disabled=not encrypt)
        if st.button("Buat paket", key=f"pk.go.{batch_id}", icon=":material/inventory_2:"):
            with widgets.user_errors():
                with db.session_scope() as s:
                    data, digest = packages.export_package(batch_id, actor=actor, session=s,
                                                           passphrase=phrase if encrypt else None)
                st.session_state[f"pk.data.{batch_id}"] = (data, digest)
        made = st.session_state.get(f"pk.data.{batch_id}")
        if made:
            st.success(f"SHA-256 manifest: `{made[1]}` — catat atau cetak untuk dicocokkan penerima.")
            st.download_button("Unduh paket (ZIP)", made[0], file_name=f"paket_pengajuan_{batch_id}.zip",
                               mime="application/zip", key=f"pk.dl.{batch_id}", on_click="ignore",
                               icon=":material/download:")


def import_panel(actor: Actor) -> None:
    with st.expander("Impor paket pengajuan dari laptop musyawarah (jalur luring)"):
        # The server refuses any upload over server.maxUploadSize (50 MB), whatever a widget says.
        upload = st.file_uploader("Paket ZIP", type=["zip"], key="pk.import.file", max_upload_size=50,
                                  help="Paling besar 50 MB di layar ini. Paket yang lebih besar (banyak foto) "
                                       "diimpor di server dengan perintah `muskel import-package --as …` "
                                       "(paling besar 500 MB).")
        phrase = st.text_input("Frasa sandi (bila terenkripsi)", type="password", key="pk.import.pw")
        expect = st.text_input("SHA-256 manifest yang tercetak pada BAST (disarankan)", key="pk.import.hash")
        if upload is not None and st.button("Periksa dan impor", key="pk.import.go", icon=":material/move_to_inbox:"):
            with widgets.user_errors():
                with db.session_scope() as s:
                    result = packages.import_package(upload.getvalue(), actor=actor, session=s,
                                                     passphrase=phrase or None, expect_hash=expect or None)
                st.success(f"{result['pesan']} Pengajuan #{result['batch_id']}; SHA-256 manifest "
                           f"`{result['manifest_sha256']}`.")
