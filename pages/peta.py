"""Peta verifikasi: families with their visit result on a map, and the clicked family's photos and flags beside it."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from core import db, evidence, wilayah
from core.verification_codes import HASIL
from ui import map as ui_map, photos as ui_photos, widgets

actor = widgets.require_page("pages/peta.py")
st.title("Peta dan galeri verifikasi")
with db.session_scope() as s:
    places = [(w.kode, w.nama) for w in wilayah.kelurahan_in_scope(actor=actor, session=s)]
names = dict(places)
kel = st.selectbox("Kelurahan", list(names), format_func=names.get, key="map_kel") if len(places) > 1 \
    else actor.wilayah_kode
with widgets.user_errors():
    with db.session_scope() as s:
        points = evidence.map_points(kel, actor=actor, session=s)
    st.caption(f"{len(points)} keluarga dengan lokasi · hijau: ditemukan tanpa temuan · oranye: ada temuan foto · "
               "merah: tidak ditemukan/pindah/menolak · abu-abu: belum dikunjungi. Peta memerlukan internet; tanpa "
               "internet gunakan tabel di bawah.")
    left, right = st.columns([3, 2])
    with left:
        clicked = st_folium(ui_map.build(points), key="verif_map", height=480, returned_objects=["last_object_clicked"],
                            use_container_width=True)
    chosen = None
    spot = (clicked or {}).get("last_object_clicked")
    if spot:
        chosen = ui_map.nearest(points, spot["lat"], spot["lng"])
    table = pd.DataFrame([{"Keluarga": f"#{p['family_id']}", "RT/RW": f"{p['rt']}/{p['rw']}", "Desil": p["desil"],
                           "Hasil": HASIL.get(p["hasil"], "belum dikunjungi"), "Temuan": ", ".join(p["flags"]),
                           "Koordinat": f"{p['lat']:.5f}, {p['lon']:.5f}"} for p in points])
    picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                          key="map_table")
    if picked and picked.selection.rows:
        chosen = points[picked.selection.rows[0]]
    with right:
        if chosen is None:
            st.caption("Klik penanda di peta atau pilih baris tabel untuk melihat foto dan temuannya.")
        else:
            st.markdown(f"**Keluarga #{chosen['family_id']}** · RT {chosen['rt']}/RW {chosen['rw']} · "
                        f"{HASIL.get(chosen['hasil'], 'belum dikunjungi')}")
            with db.session_scope() as s:
                ui_photos.gallery(evidence.family_gallery(chosen["family_id"], actor=actor, session=s), columns=2)
