"""Panduan pengguna: how each role completes a period, with screenshots from the real app; also as PDF."""

from pathlib import Path

import streamlit as st

from core import guide
from ui import widgets

actor = widgets.require_page("pages/panduan.py")
st.download_button("Unduh panduan (PDF)", guide.pdf, file_name="panduan_muskel.pdf", mime="application/pdf",
                   key="guide_pdf", on_click="ignore", icon=":material/download:")
for block in guide.for_role(str(actor.role)):
    if block["kind"] == "h1":
        st.title(block["text"])
    elif block["kind"] == "h2":
        st.header(block["text"])
    elif block["kind"] == "ol":
        st.markdown("1. " + block["text"])
    elif block["kind"] == "li":
        st.markdown("- " + block["text"])
    elif block["kind"] == "img":
        if Path(block["path"]).exists():
            st.image(block["path"], caption=block["text"])
    else:
        st.markdown(block["text"])
