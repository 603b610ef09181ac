"""Laporan triwulan (Camat, Walikota/Bupati): the Instruction's quarterly report for one's kecamatan or kota —
a PDF with the same lifecycle as every official document (draft, final with number and verification code) and an
XLSX of the same figures."""

from datetime import datetime

import streamlit as st

from core import db, quarterly
from core.access import Role
from core.timefmt import WIB
from ui import documents as ui_docs, widgets

actor = widgets.require_page("pages/laporan_triwulan.py", Role.CAMAT, Role.WALIKOTA)
st.title("Laporan triwulan")
with st.expander("Apa yang dilakukan di sini?"):
    st.markdown("Camat melapor kepada Walikota/Bupati dan Suku Bappeda setiap tiga bulan; kantor Walikota/Bupati "
                "melapor untuk kotanya. Buat draf, periksa angkanya, lalu finalkan: laporan bernomor, berkode QR "
                "dan dapat diperiksa keasliannya. Angka berasal dari fungsi yang sama dengan dasbor di Beranda.")
now = datetime.now(WIB)
c1, c2 = st.columns(2)
tahun = c1.number_input("Tahun", 2024, 2100, now.year, key="tw_year")
triwulan = c2.selectbox("Triwulan", [1, 2, 3, 4], index=(now.month - 1) // 3, key="tw_quarter",
                        format_func=lambda n: f"Triwulan {('I', 'II', 'III', 'IV')[n - 1]}")
key = {"kode": actor.wilayah_kode, "tahun": int(tahun), "triwulan": int(triwulan)}
ui_docs.panel("laporan_triwulan", key, actor=actor, may_finalise=True, may_upload=True,
              note="Ditandatangani " + ("Camat" if actor.role == Role.CAMAT else "Walikota/Bupati") + ".")


def as_xlsx() -> bytes:
    with db.session_scope() as s:
        return quarterly.xlsx(actor.wilayah_kode, int(tahun), int(triwulan), actor=actor, session=s)


st.download_button("Unduh angka laporan (XLSX)", as_xlsx, file_name=f"laporan_triwulan_{tahun}_T{triwulan}.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="tw_xlsx",
                   on_click="ignore", icon=":material/table:")
