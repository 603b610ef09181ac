"""Shared photo widgets: a gallery with each photo's flags beside it (display copies only, never originals)."""

from __future__ import annotations

import streamlit as st

from core import filestore
from core.timefmt import waktu
from core.verification_codes import PHOTO_KINDS


def gallery(items: list[dict], *, columns: int = 3, explain=None) -> None:
    """``explain(photo_id, note)`` (optional) lets the officer answer a flag beside the photo."""
    if not items:
        st.caption("Belum ada foto.")
        return
    store = filestore.default_store()
    cols = st.columns(columns)
    for i, p in enumerate(items):
        with cols[i % columns].container(border=True):
            st.image(store.get(p["display_sha256"]), caption=PHOTO_KINDS.get(p["kind"], p["kind"]))
            where = f"{p['latitude']:.5f}, {p['longitude']:.5f}" if p["latitude"] is not None else "tanpa GPS"
            when = waktu(p["taken_at"]) if p["taken_at"] else "waktu tidak diketahui"
            assumed = " (zona waktu tidak tercatat: dianggap WIB)" if p["offset_assumed"] else ""
            st.caption(f"{where} · {when}{assumed} · {p['camera'] or 'kamera tidak diketahui'}")
            for code, message in p["flags"].items():
                st.warning(f"`{code}` {message}", icon="⚠️")
            if p["note"]:
                st.info(f"Penjelasan petugas: {p['note']}")
            elif p["flags"] and explain is not None:
                note = st.text_input("Penjelasan temuan", key=f"photo_note_{p['id']}")
                if st.button("Simpan penjelasan", key=f"photo_note_save_{p['id']}"):
                    explain(p["id"], note)
