"""Home: the user's wilayah, office, colleagues, rights and recent activity."""

import pandas as pd
import streamlit as st

from core import batch_views, db, home, period_steps
from core.access import Role
from core.audit_labels import action_text
from core.timefmt import tanggal_hari, utcnow, waktu
from ui import widgets

actor = widgets.require_page("pages/beranda.py")
with db.session_scope() as s:
    info = home.overview(actor=actor, session=s)
    waiting = batch_views.inbox(actor=actor, session=s)

st.title(f"Selamat datang, {actor.nama}")
st.caption(f"{widgets.actor_role_label(actor)} · {info['wilayah']['lengkap']} · {tanggal_hari(utcnow())}")

if waiting:
    st.subheader("Menunggu tindakan Anda")
    for note in waiting:
        show = {"error": st.error, "warning": st.warning}.get(note["tingkat"], st.info)
        show(note["pesan"], icon=":material/notifications:")
    pages = {n["halaman"] for n in waiting}
    for path in sorted(pages):
        st.page_link(path, label="Buka " + {"pages/pengajuan.py": "Pengajuan", "pages/tinjau_pengajuan.py":
                                            "Tinjau pengajuan", "pages/pengesahan.py": "Pengesahan",
                                            "pages/hasil_pengesahan.py": "Hasil pengesahan"}.get(path, path),
                     icon=":material/arrow_forward:")

ICON = {period_steps.DONE: ":material/check_circle:", period_steps.ACTIVE: ":material/pending:",
        period_steps.WAITING: ":material/radio_button_unchecked:", period_steps.ATTENTION: ":material/error:"}
if actor.role in (Role.OPERATOR, Role.LURAH):
    from datetime import datetime

    from core.timefmt import WIB

    st.subheader("Langkah periode ini")
    periode = st.text_input("Periode (YYYY-MM)", value=datetime.now(WIB).strftime("%Y-%m"), key="home_period")
    with widgets.user_errors():
        with db.session_scope() as s:
            steps = period_steps.steps(actor.wilayah_kode, periode, actor=actor, session=s)
        for n, step in enumerate(steps, 1):
            left_col, right_col = st.columns([5, 1], vertical_alignment="center")
            left_col.markdown(f"{ICON[step.state]} **{n}. {step.title}** — {step.state}  \n{step.detail}")
            if step.state in (period_steps.ACTIVE, period_steps.ATTENTION):
                right_col.page_link(step.page, label="Kerjakan", icon=":material/arrow_forward:")

from ui import dashboard as ui_dashboard  # noqa: E402 - after the steps, which set the period

with widgets.user_errors():
    ui_dashboard.show(actor)

col1, col2, col3 = st.columns(3)
col1.metric("Kode wilayah (Kemendagri)", info["wilayah"]["kode"], help=info["wilayah"]["nama"])
col2.metric("Kelurahan dalam wilayah", info["kelurahan_dalam_wilayah"])
col3.metric("Akun aktif dalam wilayah", sum(info["akun_per_peran"].values()))

if info["draf"]:
    st.info("Ada isian yang belum disimpan (" + ", ".join(info["draf"]) + "). Buka halamannya untuk melanjutkan.",
            icon="📝")

left, right = st.columns(2)
with left:
    st.subheader("Kantor")
    office = info["kantor"]
    if office:
        st.markdown(f"{office['alamat'] or '–'}  \nTelepon: {office['telepon'] or '–'}  \n"
                    f"Pimpinan: {office['nama_pimpinan'] or '–'}")
    else:
        st.caption("Profil kantor belum diisi oleh administrator.")
    st.subheader("Wewenang Anda")
    st.markdown("\n".join(f"- {w[0].upper()}{w[1:]}" for w in info["wewenang"]))
with right:
    st.subheader("Akun dalam wilayah Anda")
    st.dataframe(pd.DataFrame([{"Peran": k, "Jumlah": v} for k, v in info["akun_per_peran"].items()]),
                 hide_index=True, width="stretch")
    st.subheader("Aktivitas terakhir Anda")
    rows = [{"Waktu": waktu(pd.Timestamp(e["created_at"]).to_pydatetime()), "Kegiatan": action_text(e["action"]),
             "Saluran": e["channel"]} for e in info["aktivitas"]]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
