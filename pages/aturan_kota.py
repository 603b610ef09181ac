"""Aturan verifikasi (Walikota/Bupati): which proposals need a field visit before a kelurahan may submit."""

import streamlit as st

from core import db, exports, verification, workflow
from core.access import Role
from core.proposals import NONAKTIF_REASONS, PERBAIKAN_FIELDS
from ui import widgets

actor = widgets.require_page("pages/aturan_kota.py", Role.WALIKOTA)
st.title("Aturan kota")
st.caption(f"Berlaku untuk semua kelurahan di {widgets.wilayah_text(actor.wilayah_kode)}.")
with db.session_scope() as s:
    rule = verification.rule_for(actor.wilayah_kode, session=s)
    version = verification.rule_version(actor.wilayah_kode, session=s)
baru = st.checkbox("Usulan baru wajib diverifikasi", rule["baru"], key="rule_baru")
fields = st.multiselect("Usulan perbaikan wajib diverifikasi bila mengubah", list(PERBAIKAN_FIELDS),
                        rule["perbaikan_fields"], format_func=PERBAIKAN_FIELDS.get, key="rule_fields")
except_ = st.multiselect("Usulan nonaktif wajib diverifikasi, kecuali alasan", list(NONAKTIF_REASONS),
                         rule["nonaktif_except"], format_func=NONAKTIF_REASONS.get, key="rule_except")
prioritas = st.checkbox("Usulan prioritas program wajib diverifikasi", rule["prioritas_program"], key="rule_prior")
if st.button("Simpan aturan", type="primary", key="rule_save"):
    with widgets.user_errors():
        with db.session_scope() as s:
            verification.update_rule(actor.wilayah_kode, {"baru": baru, "perbaikan_fields": fields,
                                                          "nonaktif_except": except_, "prioritas_program": prioritas},
                                     expected_version=version, actor=actor, session=s)
        st.success("Aturan tersimpan dan tercatat di log audit.")

st.divider()
st.subheader("Batas pengajuan bulanan")
with db.session_scope() as s:
    day = workflow.cutoff_day(actor.wilayah_kode, s)
    version = verification.rule_version(actor.wilayah_kode, session=s)
    columns = exports.columns_for(actor.wilayah_kode, s)
new_day = st.number_input("Tanggal batas setiap bulan (pengajuan sesudahnya ditandai terlambat dan masuk pengesahan "
                          "susulan)", 1, 28, day, key="cutoff_day")
if st.button("Simpan batas pengajuan", key="cutoff_save"):
    with widgets.user_errors():
        with db.session_scope() as s:
            workflow.set_cutoff_day(actor.wilayah_kode, new_day, expected_version=version, actor=actor, session=s)
        st.success("Batas pengajuan tersimpan.")

st.subheader("Susunan kolom unduhan SIKS-NG")
st.caption("Satu baris per kolom: `sumber=JUDUL`. Sumber yang tersedia: "
           + ", ".join(f"`{k}` ({v})" for k, v in exports.SOURCES.items()) + ".")
text = st.text_area("Kolom", "\n".join(f"{src}={head}" for src, head in columns), height=260, key="export_cols")
if st.button("Simpan susunan kolom", key="export_cols_save"):
    with widgets.user_errors():
        parsed = exports.parse_columns(text)
        with db.session_scope() as s:
            exports.set_columns(actor.wilayah_kode, parsed, expected_version=version, actor=actor, session=s)
        st.success("Susunan kolom tersimpan.")
