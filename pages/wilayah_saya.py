"""Wilayah saya: the wilayah in the user's scope as a tree, with the accounts placed in each."""

import pandas as pd
import streamlit as st

from core import db, wilayah
from ui import widgets

actor = widgets.require_page("pages/wilayah_saya.py")
with db.session_scope() as s:
    root = wilayah.tree_in_scope(actor=actor, session=s)

st.title("Wilayah saya")
st.caption("Wilayah dalam lingkup akun Anda, dengan kode Kemendagri, kode pos dan akun Muskel di tiap wilayah.")

search = st.text_input("Cari wilayah (nama atau kode)", key="wilayah_search", placeholder="mis. Kayu Manis atau 31.75.01")


def matches(node, text: str) -> bool:
    text = text.strip().lower()
    return (not text or text in node.nama.lower() or node.kode.startswith(text)
            or any(matches(child, text) for child in node.children))


def accounts_table(node) -> None:
    if node.accounts:
        st.dataframe(pd.DataFrame([{"Nama pengguna": a["username"], "Nama": a["nama"], "Peran": a["peran"],
                                    "Jabatan": a["jabatan"], "Status": "aktif" if a["aktif"] else "nonaktif"}
                                   for a in node.accounts]), hide_index=True, width="stretch")
    else:
        st.caption("Belum ada akun di wilayah ini.")


def label(node) -> str:
    extra = f" · kode pos {node.kode_pos}" if node.kode_pos else ""
    return f"{node.nama} ({node.kode}){extra} · {len(node.accounts)} akun"


def show(node, depth: int) -> None:
    """Kecamatan and kota open as expanders; kelurahan sit as rows in their kecamatan."""
    if not matches(node, search):
        return
    if node.tingkat == "kelurahan":
        st.markdown(f"**{label(node)}**")
        accounts_table(node)
        return
    with st.expander(label(node), expanded=depth == 0 or bool(search.strip())):
        accounts_table(node)
        for child in node.children:
            show(child, depth + 1)


if root.tingkat == "kelurahan":
    st.subheader(label(root))
    accounts_table(root)
elif root.tingkat == "provinsi":
    st.subheader(label(root))
    accounts_table(root)
    for kota in root.children:
        show(kota, 1)
else:
    show(root, 0)
