"""Teks & nomor dokumen (admin): the editable wording of official documents and each office's number patterns.

A change applies to documents generated from now on; final documents are stored PDFs and never change.
"""

import streamlit as st

from core import db, doc_numbers, doc_wording
from core.access import Role
from core.errors import MuskelError
from ui import widgets

actor = widgets.require_page("pages/teks_dokumen.py", Role.ADMIN)
st.title("Teks & nomor dokumen")
tab_text, tab_number = st.tabs(["Teks dokumen", "Pola nomor"])

with tab_text:
    st.caption("Paragraf dokumen resmi dapat diubah tanpa mengubah program; tata letak tetap. Placeholder seperti "
               "{kelurahan} diisi otomatis. Perubahan berlaku untuk draf dan dokumen yang difinalkan sesudahnya; "
               "dokumen final yang sudah ada tidak berubah.")
    with db.session_scope() as s:
        paragraphs = doc_wording.list_paragraphs(s)
    by_key = {p["key"]: p for p in paragraphs}
    key = st.selectbox("Bagian dokumen", list(by_key), key="tpl_key",
                       format_func=lambda k: by_key[k]["judul"] + (" (diubah)" if by_key[k]["diubah"] else ""))
    p = by_key[key]
    st.caption("Placeholder yang tersedia: " + (", ".join(f"`{{{x}}}`" for x in p["placeholder"]) or "tidak ada"))
    field = f"tpl_text.{key}.{p['version']}"
    text = st.text_area("Teks", value=p["teks"], height=200, key=field)
    st.markdown("**Pratinjau** (dengan contoh isian):")
    try:
        st.text(doc_wording.preview(key, text))
    except MuskelError as exc:
        st.error(exc.message, icon="⚠️")
    c1, c2 = st.columns(2)
    if c1.button("Simpan teks", type="primary", key="tpl_save"):
        with widgets.user_errors():
            with db.session_scope() as s:
                doc_wording.update(key, text, expected_version=p["version"], actor=actor, session=s)
            st.toast("Teks tersimpan.")
            st.rerun()
    if p["diubah"] and c2.button("Kembalikan ke teks bawaan", key="tpl_reset"):
        with widgets.user_errors():
            with db.session_scope() as s:
                doc_wording.update(key, p["bawaan"], expected_version=p["version"], actor=actor, session=s)
            st.rerun()

with tab_number:
    st.caption("Pola nomor per kantor dan jenis dokumen. Wajib memuat {nomor} (nomor urut, tidak pernah berulang). "
               "Placeholder: " + ", ".join(f"`{{{x}}}`" for x in doc_numbers.PLACEHOLDERS) + ".")
    kode = widgets.wilayah_picker("Kantor", key="num_office", levels={"kelurahan", "kecamatan", "kota", "kabupaten"})
    if kode:
        with db.session_scope() as s:
            rows = doc_numbers.patterns(kode, session=s)
        for row in rows:
            c1, c2, c3 = st.columns([2, 4, 1])
            c1.markdown(f"**{row['label']}**")
            value = c2.text_input("Pola", value=row["pattern"], key=f"num.{kode}.{row['doc_type']}.{row['version']}",
                                  label_visibility="collapsed")
            try:
                doc_numbers.check_pattern(value)
                c2.caption("Contoh: " + doc_numbers.format_number(value, 7, kode, bulan=11, tahun=2026))
            except MuskelError as exc:
                c2.caption(":red[" + exc.message + "]")
            if c3.button("Simpan", key=f"num_save.{row['doc_type']}"):
                with widgets.user_errors():
                    with db.session_scope() as s:
                        doc_numbers.update_pattern(kode, row["doc_type"], value, expected_version=row["version"],
                                                   actor=actor, session=s)
                    st.toast("Pola nomor tersimpan.")
                    st.rerun()
