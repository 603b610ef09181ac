"""The home dashboards per role: charts and maps over ``core.dashboard`` figures, scoped to the user's wilayah."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from core import dashboard, db, wilayah, workflow
from core.access import Actor, Role
from core.proposals import JENIS, KEPUTUSAN
from core.timefmt import WIB, waktu

MUSYAWARAH = {"belum": "belum ada", "berlangsung": "berlangsung", "ditutup": "diadakan",
              "tidak_diadakan": "tidak diadakan (pernyataan)"}
STATE = {**workflow.STATES, "tanpa_pengajuan": "belum ada pengajuan"}


def _period(key: str) -> str:
    return st.text_input("Periode (YYYY-MM)", value=datetime.now(WIB).strftime("%Y-%m"), key=key)


def kelurahan(actor: Actor, periode: str) -> None:
    with db.session_scope() as s:
        panel = dashboard.kelurahan_panel(actor.wilayah_kode, periode, actor=actor, session=s)
    st.subheader("Ringkasan periode")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Status pengajuan", STATE.get(panel["status"], panel["status"].replace("_", " ")))
    c2.metric("Verifikasi selesai", f"{panel['verifikasi']['selesai']} / {panel['verifikasi']['perlu']}")
    c3.metric("Temuan terbuka", sum(panel["temuan_terbuka"].values()),
              help="Temuan penghalang: " + str(panel["temuan_terbuka"].get("blocking", 0)))
    c4.metric("Usulan dikembalikan/ditolak", panel["dikembalikan"])
    if panel["keputusan"]:
        frame = pd.DataFrame(panel["keputusan"])
        frame["Jenis"] = frame["jenis"].map(JENIS)
        frame["Keputusan"] = frame["keputusan"].map({**KEPUTUSAN, "belum": "Belum diputuskan"})
        st.bar_chart(frame, x="Jenis", y="usulan", color="Keputusan", horizontal=True, height=220,
                     x_label="Usulan", y_label="")


def _rows_table(rows: list[dict]) -> None:
    frame = pd.DataFrame([{"Kecamatan": r["kecamatan"], "Kelurahan": r["kelurahan"],
                           "Musyawarah": MUSYAWARAH[r["musyawarah"]], "Status": STATE[r["status"]],
                           "Umur (hari)": "–" if r["umur_hari"] is None else str(r["umur_hari"]), "KK": r["kk"], "Jiwa": r["jiwa"], "Temuan": r["temuan"],
                           "Terlambat": "ya" if r["terlambat"] else ""} for r in rows])
    st.dataframe(frame, hide_index=True, width="stretch")


def _state_chart(rows: list[dict]) -> None:
    frame = pd.DataFrame([{"Status": STATE[r["status"]], "Kelurahan": 1} for r in rows])
    if not frame.empty:
        st.bar_chart(frame.groupby("Status", as_index=False).sum(), x="Status", y="Kelurahan", height=220)


def kecamatan(actor: Actor, periode: str) -> None:
    with db.session_scope() as s:
        rows = dashboard.wilayah_rows(actor.wilayah_kode, periode, actor=actor, session=s)
        points = dashboard.proposal_points(actor.wilayah_kode, periode, actor=actor, session=s)
    st.subheader("Kelurahan di kecamatan Anda")
    _rows_table(rows)
    left, right = st.columns(2)
    with left:
        _state_chart(rows)
    with right:
        _map(points)


def _map(points: list[dict]) -> None:
    from streamlit_folium import st_folium

    from ui import map as ui_map

    st.caption(f"{len(points)} keluarga usulan dengan lokasi; warna menurut status pengajuan (abu-abu draf, biru "
               "diajukan, ungu diteruskan, hijau disahkan, oranye dikembalikan, merah ditolak).")
    st_folium(ui_map.build(points), key="dash_map", height=320, returned_objects=[], use_container_width=True)


def kota(actor: Actor, periode: str) -> None:
    with db.session_scope() as s:
        rows = dashboard.wilayah_rows(actor.wilayah_kode, periode, actor=actor, session=s)
        kota_kode = wilayah.kota_code(actor.wilayah_kode) if "." in actor.wilayah_kode else actor.wilayah_kode
        prog = dashboard.progress(rows, periode, kota_kode, s)
        dup = dashboard.duplicate_niks(actor.wilayah_kode, periode, actor=actor, session=s)
        programs = dashboard.ratified_by(actor.wilayah_kode, periode, "program", actor=actor, session=s)
        desil = dashboard.ratified_by(actor.wilayah_kode, periode, "desil", actor=actor, session=s)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Kelurahan mengajukan", f"{prog['diajukan']} / {prog['kelurahan']}")
    c2.metric("Batas pengajuan", prog["batas"].strftime("%d-%m-%Y"), f"{prog['sisa_hari']} hari lagi" if prog["sisa_hari"] >= 0
              else "sudah lewat", delta_color="off")
    c3.metric("NIK ganda antarkelurahan", dup)
    c4.metric("KK disahkan", sum(r["kk"] for r in rows if r["status"] == "disahkan"))
    st.progress(prog["diajukan"] / prog["kelurahan"] if prog["kelurahan"] else 0.0,
                text="Kemajuan menuju batas pengajuan")
    left, right = st.columns(2)
    with left:
        st.markdown("**Disahkan per program (KK)**")
        if programs:
            st.bar_chart(pd.DataFrame([{"Program": k, "KK": v["kk"]} for k, v in programs.items()]), x="Program",
                         y="KK", height=220)
        else:
            st.caption("Belum ada usulan disahkan.")
    with right:
        st.markdown("**Disahkan per desil (KK)**")
        if desil:
            st.bar_chart(pd.DataFrame([{"Desil": k or "tanpa desil", "KK": v["kk"]} for k, v in desil.items()]),
                         x="Desil", y="KK", height=220)
        else:
            st.caption("Belum ada usulan disahkan.")
    st.subheader("Per kecamatan dan kelurahan")
    by_kec = pd.DataFrame(rows).groupby("kecamatan", as_index=False).agg(
        Kelurahan=("kode", "count"), Diajukan=("status", lambda s: int((~s.isin(["tanpa_pengajuan", "draft"])).sum())),
        KK=("kk", "sum"), Temuan=("temuan", "sum")) if rows else pd.DataFrame()
    if not by_kec.empty:
        st.dataframe(by_kec.rename(columns={"kecamatan": "Kecamatan"}), hide_index=True, width="stretch")
    with st.expander("Semua kelurahan"):
        _rows_table(rows)


def auditor(actor: Actor) -> None:
    with db.session_scope() as s:
        panel = dashboard.auditor_panel(actor.wilayah_kode, actor=actor, session=s)
    st.subheader("Aktivitas 60 hari terakhir")
    if panel["aktivitas"]:
        st.line_chart(pd.DataFrame(panel["aktivitas"]), x="tanggal", y="entri", height=220)
    last = panel["verifikasi_terakhir"]
    st.caption("Pemeriksaan rantai log audit terakhir: " + (f"{waktu(last['waktu'])} oleh {last['oleh']}"
                                                             if last else "belum pernah"))
    st.markdown("**Pengembalian dan penolakan**")
    st.dataframe(pd.DataFrame(panel["pengembalian_usulan"]), hide_index=True, width="stretch")


def show(actor: Actor) -> None:
    role = Role(actor.role)
    if role in (Role.OPERATOR, Role.LURAH):
        kelurahan(actor, st.session_state.get("home_period") or datetime.now(WIB).strftime("%Y-%m"))
    elif role == Role.CAMAT:
        kecamatan(actor, _period("dash_period"))
    elif role in (Role.WALIKOTA, Role.DINSOS):
        kota(actor, _period("dash_period"))
    elif role == Role.AUDITOR:
        auditor(actor)
