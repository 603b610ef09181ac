"""Log audit (auditors): the trail of changes and logins in their wilayah, and a check of the hash chain."""

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from core import audit, db
from core.audit_labels import ACTION_TEXT, action_text
from core.timefmt import WIB, waktu
from ui import widgets

actor = widgets.require_page("pages/log_audit.py")
st.title("Log audit")
st.caption("Setiap perubahan, setiap masuk/keluar dan setiap gagal masuk, berantai dengan hash SHA-256 "
           "sehingga entri yang diubah, disisipkan atau dihapus terdeteksi.")

with st.container(border=True):
    if st.button("Periksa keutuhan rantai", icon=":material/verified:", key="verify_chain"):
        with db.session_scope() as s:
            report = audit.verify_chain(s)
            audit.record(s, actor, "audit.verified", object_type="audit_log", object_id="web",
                         wilayah_kode=actor.wilayah_kode, after={"utuh": report.ok, "entri": report.entries})
        (st.success if report.ok else st.error)(report.message)

col1, col2, col3, col4 = st.columns(4)
since = col1.date_input("Dari tanggal", value=datetime.now(WIB).date() - timedelta(days=30), format="DD/MM/YYYY",
                        key="audit_since")
until = col2.date_input("Sampai tanggal", value=datetime.now(WIB).date(), format="DD/MM/YYYY", key="audit_until")
action = col3.selectbox("Kegiatan", [None, *ACTION_TEXT], format_func=lambda a: "Semua" if a is None else action_text(a),
                        key="audit_action")
username = col4.text_input("Nama pengguna", key="audit_user").strip() or None

query = audit.AuditQuery(action=action, username=username,
                         since=datetime.combine(since, time.min, WIB), until=datetime.combine(until, time.max, WIB),
                         limit=2000)
with widgets.user_errors():
    with db.session_scope() as s:
        entries = audit.list_entries(query, actor=actor, session=s)
    st.caption(f"{len(entries)} entri (paling baru di atas, paling banyak 2.000).")
    frame = pd.DataFrame([{
        "No.": e["seq"], "Waktu": waktu(pd.Timestamp(e["created_at"]).to_pydatetime()), "Pengguna": e["actor"],
        "Peran": e["role"], "Saluran": e["channel"], "Kegiatan": action_text(e["action"]),
        "Objek": f"{e['object_type']} {e['object_id']}", "Wilayah": e["wilayah"] or "–",
        "Sebelum": audit.canonical_json(e["before"]) or "", "Sesudah": audit.canonical_json(e["after"]) or "",
    } for e in entries])
    st.dataframe(frame, hide_index=True, width="stretch")
    if entries:
        st.download_button("Unduh CSV", frame.to_csv(index=False).encode("utf-8-sig"), file_name="log_audit.csv",
                           mime="text/csv", on_click="ignore", key="audit_csv")
