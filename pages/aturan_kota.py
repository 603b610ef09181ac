"""Aturan verifikasi (Walikota/Bupati): which proposals need a field visit before a kelurahan may submit."""

import streamlit as st

from core import db, verification
from core.access import Role
from core.proposals import NONAKTIF_REASONS, PERBAIKAN_FIELDS
from ui import widgets

actor = widgets.require_page("pages/aturan_kota.py", Role.WALIKOTA)
st.title("Aturan verifikasi lapangan")
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
