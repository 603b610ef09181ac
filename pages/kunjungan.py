"""Kunjungan lapangan: the officer's assigned families, the visit form, photos with their flags, the location."""

import statistics
from datetime import date

import streamlit as st

from core import db, evidence, verification
from core.config import load_settings
from core.access import Role
from core.screening import mask_nik
from core.verification_codes import ASET, BPS_CRITERIA, HASIL, KONDISI, PHOTO_KINDS, REKOMENDASI
from ui import drafts, photos as ui_photos, widgets

actor = widgets.require_page("pages/kunjungan.py", Role.PETUGAS, Role.OPERATOR, Role.LURAH)
st.title("Kunjungan lapangan")
with db.session_scope() as s:
    mine = verification.list_assignments(actor=actor, session=s)
if actor.role != Role.PETUGAS:
    mine = [a for a in mine if a["petugas"] == actor.username] or mine
if not mine:
    st.info("Belum ada keluarga yang ditugaskan kepada Anda.")
    st.stop()
# How far each visit has come is said beside the list, not in it: Streamlit keeps a selectbox's choice by its
# label text, so a label that changes when the visit starts made the screen jump to another family.
PROGRESS = {None: "belum dikunjungi", "draft": "kunjungan berjalan", "selesai": "selesai"}
counts = {text: sum(PROGRESS.get(a["visit_status"]) == text for a in mine) for text in PROGRESS.values()}
st.caption(f"{len(mine)} keluarga ditugaskan: " + ", ".join(f"{n} {text}" for text, n in counts.items() if n) + ".")
labels = {a["id"]: f"{a['kepala']} · KK {mask_nik(a['no_kk'])} · RT {a['rt']}/RW {a['rw']}"
                   + (" · terkunci (sudah diajukan)" if a["terkunci"] else "") for a in mine}
# Start with the next family still to visit (not one whose batch has already left the kelurahan).
first_open = next((i for i, x in enumerate(mine) if x["visit_id"] is None and not x["terkunci"]), 0)
assignment_id = st.selectbox("Keluarga", list(labels), format_func=labels.get, key="visit_assignment",
                             index=first_open)
a = next(x for x in mine if x["id"] == assignment_id)
st.caption(f"Status kunjungan keluarga ini: **{PROGRESS.get(a['visit_status'], a['visit_status'])}**")
if a["terkunci"] and a["visit_id"] is None:
    st.info("Usulan keluarga ini sudah diajukan ke Camat: kunjungan tidak dapat dimulai lagi kecuali pengajuan "
            "dikembalikan dan dibuka revisi.")
    st.stop()
if a["visit_id"] is None:
    if st.button("Mulai kunjungan", key="visit_start", type="primary"):
        with widgets.user_errors():
            with db.session_scope() as s:
                verification.start_visit(assignment_id, actor=actor, session=s)
            st.rerun()
    st.stop()

with db.session_scope() as s:
    visit = verification.get_visit(a["visit_id"], actor=actor, session=s)
    pictures = evidence.visit_photos(visit["id"], actor=actor, session=s)
    evaluation = evidence.visit_flags(visit["id"], session=s)
done = visit["status"] != "draft" or a["terkunci"]  # a submitted batch's evidence is read-only
FORM = f"visit{visit['id']}"
k = visit["kondisi"]
drafts.restore(FORM, actor, {
    f"f.{FORM}.tanggal": visit["tanggal"], f"f.{FORM}.hasil": visit["hasil"], f"f.{FORM}.rekomendasi":
    visit["rekomendasi"], f"f.{FORM}.catatan": visit["catatan"], f"f.{FORM}.anggota_hadir": visit["anggota_hadir"],
    f"f.{FORM}.aset": k.get("aset", []), f"f.{FORM}.luas_lantai": float(k.get("luas_lantai") or 0),
    **{f"f.{FORM}.{key}": k.get(key, "") for key in KONDISI},
    **{f"f.{FORM}.bps{n}": n in visit["kriteria_bps"] for n in range(1, 15)}}, version=visit["version"])
drafts.notice(FORM, actor)

c1, c2, c3 = st.columns(3)
c1.date_input("Tanggal kunjungan", key=f"f.{FORM}.tanggal", max_value=date.today(), format="DD/MM/YYYY",
              disabled=done)
c2.selectbox("Hasil", ["", *HASIL], format_func=lambda x: HASIL.get(x, "—"), key=f"f.{FORM}.hasil", disabled=done)
c3.number_input("Anggota yang dijumpai", 0, 50, key=f"f.{FORM}.anggota_hadir", disabled=done)
with st.expander("Kondisi rumah dan aset (variabel DTSEN/Regsosek)", expanded=not done):
    cols = st.columns(2)
    for i, (key, (label, codes)) in enumerate(KONDISI.items()):
        cols[i % 2].selectbox(label, ["", *codes], format_func=lambda x, c=codes: c.get(x, "—"), key=f"f.{FORM}.{key}",
                              disabled=done)
    cols[0].number_input("Luas lantai (m²)", 0.0, 5000.0, step=1.0, key=f"f.{FORM}.luas_lantai", disabled=done)
    cols[1].multiselect("Aset", list(ASET), format_func=ASET.get, key=f"f.{FORM}.aset", disabled=done,
                        placeholder="Pilih aset yang dimiliki")
with st.expander("14 kriteria rumah tangga miskin BPS (alat bantu, bukan penentu kelayakan)", expanded=not done):
    for n, text in enumerate(BPS_CRITERIA, start=1):
        st.checkbox(f"{n}. {text}", key=f"f.{FORM}.bps{n}", disabled=done)
    met = sum(bool(st.session_state.get(f"f.{FORM}.bps{n}")) for n in range(1, 15))
    st.markdown(f"**{met} dari 14 kriteria terpenuhi**" + (" (≥ 9: tergolong miskin menurut BPS)" if met >= 9 else ""))
c1, c2 = st.columns([1, 2])
c1.selectbox("Rekomendasi petugas", ["", *REKOMENDASI], format_func=lambda x: REKOMENDASI.get(x, "—"),
             key=f"f.{FORM}.rekomendasi", disabled=done)
c2.text_input("Catatan", key=f"f.{FORM}.catatan", disabled=done)


def collected() -> dict:
    get = lambda name: st.session_state.get(f"f.{FORM}.{name}")  # noqa: E731
    kondisi = {key: get(key) for key in KONDISI if get(key)}
    kondisi.update({"aset": get("aset") or [], "luas_lantai": get("luas_lantai") or None})
    return {"tanggal": get("tanggal"), "hasil": get("hasil") or "", "rekomendasi": get("rekomendasi") or "",
            "catatan": get("catatan") or "", "anggota_hadir": int(get("anggota_hadir") or 0), "kondisi": kondisi,
            "kriteria_bps": [n for n in range(1, 15) if get(f"bps{n}")]}


if not done:
    b1, b2 = st.columns(2)
    if b1.button("Simpan kunjungan", key="visit_save", type="primary"):
        with widgets.user_errors():
            with db.session_scope() as s:
                verification.update_visit(visit["id"], collected(), expected_version=drafts.loaded_version(FORM),
                                          actor=actor, session=s)
            drafts.forget(FORM, actor)
            st.toast("Kunjungan tersimpan.")
            st.rerun()
    if b2.button("Selesaikan kunjungan", key="visit_finish"):
        with widgets.user_errors():
            with db.session_scope() as s:
                verification.update_visit(visit["id"], collected(), expected_version=drafts.loaded_version(FORM),
                                          actor=actor, session=s)
                verification.finish_visit(visit["id"], actor=actor, session=s)
            drafts.forget(FORM, actor)
            st.rerun()

st.subheader("Foto")
for item in evaluation:
    if item["photo_id"] is None:
        for message in item["flags"].values():
            st.warning(message, icon="📷")
if not done:
    c1, c2 = st.columns([3, 1])
    files = c1.file_uploader("Foto dari ponsel (JPEG, PNG, HEIC; beberapa sekaligus)", type=["jpg", "jpeg", "png",
                             "heic", "heif"], accept_multiple_files=True,
                             key=f"visit_files_{visit['id']}_{st.session_state.get('upload_round', 0)}",
                             max_upload_size=load_settings().photo_max_mb,
                             help=f"Paling besar {load_settings().photo_max_mb} MB per foto.")
    kind = c2.selectbox("Jenis foto", list(PHOTO_KINDS), format_func=PHOTO_KINDS.get, key="visit_kind")
    if files and c2.button("Unggah", key="visit_upload", type="primary"):
        with widgets.user_errors():
            with db.session_scope() as s:  # all photos of this upload, or none
                for f in files:
                    evidence.add_photo(visit["id"], f.getvalue(), f.name, kind, actor=actor, session=s)
            st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1  # empty the uploader
            st.rerun()


def explain(photo_id: int, note: str) -> None:
    with widgets.user_errors():
        with db.session_scope() as s:
            evidence.explain_photo(photo_id, note, actor=actor, session=s)
        st.rerun()


evaluated = {i["photo_id"]: i["flags"] for i in evaluation if i["photo_id"]}
ui_photos.gallery([p | {"flags": evaluated.get(p["id"], p["flags"])} for p in pictures], explain=explain)

if a["family_id"]:
    st.subheader("Lokasi keluarga")
    located = [(p["latitude"], p["longitude"]) for p in pictures if p["latitude"] is not None]
    c1, c2, c3 = st.columns(3)
    lat = c1.text_input("Lintang (mis. -6.2001)", key="loc_lat")
    lon = c2.text_input("Bujur (mis. 106.8602)", key="loc_lon")
    reason = c3.text_input("Alasan (wajib bila diketik)", key="loc_reason")
    b1, b2 = st.columns(2)
    with widgets.user_errors():
        if b1.button("Simpan koordinat yang diketik", key="loc_typed"):
            with db.session_scope() as s:
                evidence.set_family_location(a["family_id"], lat.replace(",", "."), lon.replace(",", "."), "typed",
                                             reason, actor=actor, session=s)
            st.success("Lokasi tersimpan (sumber: koordinat diketik).")
        if located and b2.button("Pakai GPS dari foto", key="loc_exif"):
            with db.session_scope() as s:
                evidence.set_family_location(a["family_id"], statistics.median(x for x, _ in located),
                                             statistics.median(y for _, y in located), "exif", "", actor=actor,
                                             session=s)
            st.success("Lokasi tersimpan (sumber: GPS foto).")
    with st.expander("Tetapkan lokasi dengan klik di peta (memerlukan internet)"):
        from streamlit_folium import st_folium

        from ui import map as ui_map

        picked = st_folium(ui_map.build([]), key="loc_map", height=320, returned_objects=["last_clicked"],
                           use_container_width=True)
        point = (picked or {}).get("last_clicked")
        if point:
            st.caption(f"Titik dipilih: {point['lat']:.6f}, {point['lng']:.6f}")
            if st.button("Simpan titik ini", key="loc_map_save"):
                with widgets.user_errors():
                    with db.session_scope() as s:
                        evidence.set_family_location(a["family_id"], point["lat"], point["lng"], "map", reason,
                                                     actor=actor, session=s)
                    st.success("Lokasi tersimpan (sumber: titik di peta).")
