"""Impor DTSEN (operator, Lurah): upload an extract, map columns, see every problem, import all or nothing."""

import pandas as pd
import streamlit as st

from core import db, dtsen_file, register, register_search
from core.access import Role
from core.config import load_settings
from core.errors import MuskelError
from core.register_report import problems_table, problems_xlsx
from core.timefmt import angka, waktu
from ui import widgets

actor = widgets.require_page("pages/impor_dtsen.py", Role.OPERATOR, Role.LURAH)
kelurahan = actor.wilayah_kode
IGNORE = "(abaikan)"

st.title("Impor data DTSEN")
st.caption(f"Ekstrak DTSEN dari Suku Dinas Sosial untuk {widgets.wilayah_text(kelurahan)}: CSV (koma atau titik "
           "koma) atau XLSX, satu baris per orang. Tidak ada yang disimpan sebelum Anda menekan **Impor**.")

limits = load_settings()
upload = st.file_uploader("Berkas ekstrak", type=["csv", "xlsx"], key="dtsen_file",
                          max_upload_size=limits.import_max_mb,
                          help=f"Paling besar {limits.import_max_mb} MB dan {angka(limits.import_max_rows)} baris "
                               "data. Ekstrak satu kelurahan (sekitar 100.000 orang) biasanya di bawah 20 MB.")
if upload is not None:
    data = upload.getvalue()
    with widgets.user_errors():
        extract = dtsen_file.read(data, upload.name)
        recognised = dtsen_file.recognise(list(extract.frame.columns))
        st.markdown(f"**{upload.name}** · {angka(len(extract.frame))} baris data · header di baris "
                    f"{extract.header_row}")
        with st.expander("Pemetaan kolom", expanded=not all(f in recognised.values() for f in dtsen_file.REQUIRED)):
            st.caption("Kolom yang namanya dikenali sudah dipetakan. Pilih kolom Muskel untuk kolom lain bila perlu.")
            choices = [IGNORE, *dtsen_file.FIELD_LABELS]
            overrides = {}
            cols = st.columns(3)
            for i, column in enumerate(extract.frame.columns):
                current = recognised.get(column, IGNORE)
                picked = cols[i % 3].selectbox(column, choices, index=choices.index(current), key=f"map_{i}_{column}",
                                              format_func=lambda f: dtsen_file.FIELD_LABELS.get(f, f))
                if picked != current:
                    overrides[column] = "" if picked == IGNORE else picked
        waive, skip_invalid = {}, False
        if actor.role == Role.LURAH:
            reason = st.text_input("Alasan mengesampingkan temuan 'NIK di dua KK' (hanya bila sudah dipastikan)",
                                   key="waive_reason")
            if reason.strip():
                waive = {"nik_in_two_kk": reason}
        skip_invalid = st.checkbox("Impor hanya keluarga tanpa masalah penghalang (keluarga bermasalah dilewati)",
                                   key="skip_invalid")
        check_col, import_col = st.columns(2)
        dry = check_col.button("Periksa saja", key="dtsen_check", icon=":material/fact_check:")
        go = import_col.button("Impor", key="dtsen_import", type="primary", icon=":material/upload:")
        if dry or go:
            bar = st.progress(0.0, text="Memulai…")
            try:
                with db.session_scope() as s:
                    result = register.import_extract(
                        data, upload.name, kelurahan, actor=actor, session=s, column_map=overrides, dry_run=dry,
                        skip_invalid=skip_invalid, waive=waive, progress=lambda f, t: bar.progress(f, text=t))
            finally:
                bar.empty()
            st.session_state["dtsen_last"] = {"imported": result.imported, "counts": result.counts,
                                              "problems": result.problems, "name": upload.name, "dry": dry,
                                              "file": upload.file_id}

last = st.session_state.get("dtsen_last")
if last and (upload is None or last["file"] != upload.file_id) and not last["imported"]:
    last = None  # a check belongs to the file it was made on; a finished import stays on screen
if last:
    c = last["counts"]
    if last["imported"]:
        st.success(f"Ekstrak {last['name']} diimpor: {angka(c['persons'])} orang. Keluarga baru {angka(c['new'])}, "
                   f"berubah {angka(c['changed'])}, tetap {angka(c['unchanged'])}, tidak ada lagi di ekstrak (absen) "
                   f"{angka(c['absent'])}." + (f" {angka(c['skipped_rows'])} baris dilewati." if c["skipped_rows"]
                                                 else ""))
    elif c["blocking"]:
        st.error(f"Tidak ada yang diimpor: {c['blocking']} masalah penghalang. Perbaiki berkasnya lalu unggah lagi, "
                 "atau pilih impor hanya keluarga tanpa masalah.")
    else:
        st.info("Pemeriksaan selesai: tidak ada masalah penghalang. Tekan **Impor** untuk menyimpan.")
    problems = last["problems"]
    if len(problems):
        st.subheader(f"Temuan ({len(problems)})")
        st.dataframe(problems_table(problems), hide_index=True, width="stretch")
        st.download_button("Unduh daftar temuan (XLSX)", problems_xlsx(problems, last["name"]),
                           file_name=f"temuan_{last['name'].rsplit('.', 1)[0]}.xlsx", on_click="ignore",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           key="dtsen_problems_xlsx")

st.subheader("Riwayat impor")
try:
    with db.session_scope() as s:
        history = register_search.import_history(kelurahan, actor=actor, session=s)
except MuskelError as exc:
    history = []
    st.error(exc.message)
if history:
    st.dataframe(pd.DataFrame([{"Waktu": waktu(h["waktu"]), "Berkas": h["berkas"], "Oleh": h["oleh"],
                                "Orang": h["orang"], "Keluarga": h["keluarga"], "Baru": h["baru"],
                                "Berubah": h["berubah"], "Tetap": h["tetap"], "Absen": h["absen"],
                                "Temuan": h["temuan"]} for h in history]), hide_index=True, width="stretch")
else:
    st.caption("Belum ada ekstrak yang diimpor.")
