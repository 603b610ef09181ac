"""Tambah usulan: put families on the agenda — from the register, from earlier periods, or not yet registered."""

import pandas as pd
import streamlit as st

from core import db, meetings, proposals, usulan_import
from core.access import Role
from core.proposals import JENIS, NONAKTIF_REASONS, PERBAIKAN_FIELDS, SUMBER
from core.screening import RULES
from ui import meeting as ui_meeting, widgets

actor = widgets.require_page("pages/rapat_tambah.py", Role.OPERATOR, Role.LURAH)
st.title("Tambah usulan")
m = ui_meeting.pick(actor, drafts_only=True)
if m is None or m["status"] != "draft":
    st.info("Musyawarah ini sudah ditutup: usulan baru dibahas di musyawarah berikutnya.") if m else None
    st.stop()
with db.session_scope() as s:
    programs = meetings.settings_for(actor.wilayah_kode, session=s)["programs"]


def proposal_fields(prefix: str) -> dict:
    """Type, reason, programmes, source and reason text: the same inputs for every way of adding."""
    c1, c2, c3 = st.columns(3)
    jenis = c1.selectbox("Jenis usulan", list(JENIS), format_func=JENIS.get, key=f"{prefix}_jenis")
    alasan_nonaktif = c2.selectbox("Alasan nonaktif", ["", *NONAKTIF_REASONS], key=f"{prefix}_reason",
                                   format_func=lambda k: NONAKTIF_REASONS.get(k, "—"), disabled=jenis != "nonaktif")
    sumber = c3.selectbox("Sumber", list(SUMBER), format_func=SUMBER.get, key=f"{prefix}_sumber")
    chosen = st.multiselect("Program", programs, key=f"{prefix}_programs", placeholder="Pilih program")
    alasan = st.text_input("Alasan / keterangan", key=f"{prefix}_alasan")
    perubahan = []
    if jenis == "perbaikan":
        c4, c5, c6 = st.columns(3)
        field = c4.selectbox("Data yang diperbaiki", list(PERBAIKAN_FIELDS), format_func=PERBAIKAN_FIELDS.get,
                             key=f"{prefix}_pfield")
        perubahan = [{"field": field, "lama": c5.text_input("Lama", key=f"{prefix}_plama"),
                      "baru": c6.text_input("Baru", key=f"{prefix}_pbaru")}]
    return {"jenis": jenis, "alasan_nonaktif": alasan_nonaktif if jenis == "nonaktif" else "", "sumber": sumber,
            "programs": chosen, "alasan": alasan, "perubahan": perubahan}


tab_reg, tab_prev, tab_new, tab_list = st.tabs(["Dari register DTSEN", "Lanjutan periode lalu",
                                                "Keluarga belum terdaftar", "Impor daftar usul/sanggah"])
with tab_reg:
    c1, c2, c3 = st.columns(3)
    rw = c1.text_input("RW", key="pre_rw", max_chars=3)
    desil = c2.multiselect("Desil", list(range(1, 11)), key="pre_desil", placeholder="Semua desil")
    codes = c3.multiselect("Dengan temuan", list(RULES), key="pre_flags", format_func=lambda c: RULES[c].title,
                           placeholder="Semua keluarga")
    with db.session_scope() as s:
        found = proposals.register_candidates(actor.wilayah_kode, rw=rw, desil=desil, flag_codes=codes, actor=actor,
                                              session=s)
    picked = st.dataframe(pd.DataFrame([{"Kepala keluarga": f["kepala"], "No KK": f["no_kk"], "Alamat": f["alamat"],
                                         "RT/RW": f"{f['rt']}/{f['rw']}", "Desil": f["desil"]} for f in found]),
                          hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row",
                          key="pre_table", height=300)
    chosen_rows = picked.selection.rows if picked else []
    values = proposal_fields("reg")
    if st.button(f"Tambahkan {len(chosen_rows)} keluarga ke agenda", key="pre_add", type="primary",
                 disabled=not chosen_rows):
        with widgets.user_errors():
            with db.session_scope() as s:  # all selected families, or none
                for r in chosen_rows:
                    proposals.add_from_register(m["id"], found[r]["family_id"], actor=actor, session=s, **values)
            st.success(f"{len(chosen_rows)} keluarga masuk agenda.")

with tab_prev:
    with db.session_scope() as s:
        earlier = proposals.carried_over(actor.wilayah_kode, m["periode"], actor=actor, session=s)
    if not earlier:
        st.caption("Tidak ada usulan yang ditunda atau dikembalikan dari periode sebelumnya.")
    for item in earlier:
        why = item["status_reason"] or item["catatan_keputusan"] or "ditunda"
        c1, c2 = st.columns([5, 1])
        c1.markdown(f"**{item['nama_kepala']}** · {JENIS[item['jenis']]} · periode {item['periode']} · "
                    f"{item['status']}/{item['keputusan'] or '–'}: *{why}*")
        if c2.button("Ke agenda", key=f"carry_{item['id']}"):
            with widgets.user_errors():
                with db.session_scope() as s:
                    proposals.carry_over(m["id"], item["id"], actor=actor, session=s)
                st.rerun()

with tab_new:
    c1, c2, c3, c4 = st.columns([2, 3, 1, 1])
    no_kk = c1.text_input("No KK", key="new_kk", max_chars=16)
    alamat = c2.text_input("Alamat", key="new_alamat")
    rt = c3.text_input("RT", key="new_rt", max_chars=3)
    rw_new = c4.text_input("RW", key="new_rw", max_chars=3)
    st.caption("Anggota keluarga (minimal satu; NIK 16 angka).")
    members = st.data_editor(pd.DataFrame({"nik": [""], "nama": [""], "jenis_kelamin": [""], "hubungan": [""]}),
                             num_rows="dynamic", key="new_members", width="stretch",
                             column_config={"nik": "NIK", "nama": "Nama", "jenis_kelamin": st.column_config.SelectboxColumn(
                                 "L/P", options=["", "L", "P"]), "hubungan": "Hubungan keluarga"})
    values = proposal_fields("new")
    if st.button("Tambahkan keluarga ke agenda", key="new_add", type="primary"):
        with widgets.user_errors():
            with db.session_scope() as s:
                proposals.add_new_family(m["id"], no_kk=no_kk, alamat=alamat, rt=rt, rw=rw_new,
                                         members=members.fillna("").to_dict("records"), jenis=values["jenis"],
                                         programs=values["programs"], sumber=values["sumber"], alasan=values["alasan"],
                                         actor=actor, session=s)
            st.success("Keluarga masuk agenda.")

with tab_list:
    st.caption("CSV atau XLSX dengan kolom NIK dan/atau No KK, nama, alamat, RT, RW, jenis (baru/perbaikan/nonaktif/"
               "prioritas program; 'usul' = baru, 'sanggah' = nonaktif), alasan, sumber. Semua baris masuk, atau "
               "tidak satu pun bila ada masalah.")
    listing = st.file_uploader("Daftar usul/sanggah", type=["csv", "xlsx"], key="usul_file", max_upload_size=20,
                               help="Paling besar 20 MB.")
    if listing is not None and st.button("Masukkan ke agenda", key="usul_import", type="primary"):
        with widgets.user_errors():
            with db.session_scope() as s:
                outcome = usulan_import.import_list(m["id"], listing.getvalue(), listing.name, actor=actor, session=s)
            if outcome["problems"]:
                st.error(f"Tidak ada yang dimasukkan: {len(outcome['problems'])} baris bermasalah.")
                st.dataframe(pd.DataFrame(outcome["problems"]).rename(
                    columns={"row": "Baris", "column": "Kolom", "message": "Masalah"}), hide_index=True, width="stretch")
            else:
                st.success(f"{outcome['added']} usulan masuk agenda.")
