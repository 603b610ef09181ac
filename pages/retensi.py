"""Retensi (admin; auditor read-only): originals of photos and signed scans whose retention period after
ratification has ended, and — for the admin — purging them after an explicit confirmation."""

import pandas as pd
import streamlit as st

from core import db, retention
from core.access import Role
from core.timefmt import angka, tanggal
from ui import widgets

actor = widgets.require_page("pages/retensi.py", Role.ADMIN, Role.AUDITOR)
st.title("Retensi berkas asli")
years = retention.retention_years()
st.caption(f"Sesuai UU Pelindungan Data Pribadi, berkas asli foto (kunjungan lapangan dan musyawarah) dan pindaian "
           f"dokumen bertanda tangan disimpan **{years} tahun** setelah pengesahan (atau penolakan) pengajuan, lalu "
           "dihapus. Salinan tampilan tanpa EXIF, data foto (koordinat, waktu, kamera), sidik SHA-256 dan dokumen "
           "final tetap tersimpan; setiap penghapusan dicatat di log audit beserta sidik berkasnya. Masa retensi "
           "diatur dengan MUSKEL_RETENTION_YEARS.")

with widgets.user_errors():
    with db.session_scope() as s:
        rows = retention.due(actor=actor, session=s)
    groups = retention.by_group(rows)
    c1, c2, c3 = st.columns(3)
    c1.metric("Masa retensi", f"{years} tahun")
    c2.metric("Berkas asli jatuh tempo", angka(len(rows)))
    c3.metric("Ukuran", f"{angka(round(sum(r['size'] for r in rows) / 1048576, 1))} MB")
    if not rows:
        st.success("Tidak ada berkas asli yang masa retensinya sudah habis.", icon=":material/task_alt:")
    else:
        st.dataframe(pd.DataFrame([{
            "Pengajuan": g["group_label"], "Kelurahan / kantor": g["wilayah_nama"], "Periode": g["periode"],
            "Keputusan": "Disahkan" if g["decision"] == "disahkan" else "Ditolak",
            "Diputuskan pada": tanggal(g["decided_at"]), "Jatuh tempo sejak": tanggal(g["due_at"]),
            "Foto kunjungan": g["kinds"].get("visit_photo", 0), "Foto musyawarah": g["kinds"].get("meeting_photo", 0),
            "Pindaian": g["kinds"].get("scan", 0), "Ukuran (KB)": angka(round(g["bytes"] / 1024)),
        } for g in groups]), hide_index=True, width="stretch")

    if actor.role != Role.ADMIN:
        st.info("Penghapusan dilakukan oleh administrator provinsi; halaman ini hanya untuk dibaca.",
                icon=":material/visibility:")
    elif rows:
        with st.container(border=True):
            st.markdown("**Hapus berkas asli yang jatuh tempo**")
            confirmed = st.checkbox(f"Saya memahami bahwa {angka(len(rows))} berkas asli di atas dihapus permanen "
                                    "dari penyimpanan dan tidak dapat dipulihkan (kecuali dari cadangan lama).",
                                    key="retention_confirm")
            if st.button("Hapus berkas asli", type="primary", disabled=not confirmed, key="retention_purge",
                         icon=":material/auto_delete:"):
                with db.session_scope() as s:
                    result = retention.purge(actor=actor, session=s)
                st.session_state["retention_done"] = result
                st.rerun()

done = st.session_state.get("retention_done")
if done:
    st.success(f"{angka(done['purged'])} berkas asli ditandai dihapus; {angka(len(done['files']))} berkas "
               f"({angka(round(done['bytes'] / 1024))} KB) dihapus dari penyimpanan"
               + (f"; {angka(len(done['kept_shared']))} tetap disimpan karena isinya masih dipakai data lain"
                  if done["kept_shared"] else "") + ". Sidik setiap berkas dicatat di log audit.",
               icon=":material/task_alt:")
