"""Cari keluarga: find a family in the DTSEN register within one's wilayah, then open its full record."""

import pandas as pd
import streamlit as st

from core import db, register_search, wilayah
from core.register_search import RegisterQuery
from core.timefmt import tanggal, waktu
from ui import widgets

actor = widgets.require_page("pages/cari_keluarga.py")
st.title("Cari keluarga")
st.caption("Cari menurut NIK atau No KK lengkap, atau bagian nama mana pun. Daftar hasil menyamarkan NIK; NIK "
           "lengkap hanya tampil di rincian keluarga.")

with db.session_scope() as s:
    kelurahan = [(w.kode, w.nama) for w in wilayah.kelurahan_in_scope(actor=actor, session=s)]
c1, c2, c3, c4, c5 = st.columns([4, 1, 1, 2, 2])
text = c1.text_input("NIK, No KK atau nama", key="reg_text", placeholder="mis. 3175… atau siti rahayu")
rt = c2.text_input("RT", key="reg_rt", max_chars=3)
rw = c3.text_input("RW", key="reg_rw", max_chars=3)
desil = c4.multiselect("Desil", list(range(1, 11)), key="reg_desil", placeholder="Semua desil")
place = None
if len(kelurahan) > 1:
    names = dict(kelurahan)
    place = c5.selectbox("Kelurahan", [None, *names], format_func=lambda k: "Semua" if k is None else names[k],
                         key="reg_place")
include_absent = st.checkbox("Sertakan keluarga/anggota yang tidak ada lagi di ekstrak terbaru", key="reg_absent")

results = []
if text.strip() or rt or rw or desil:
    with widgets.user_errors():
        with db.session_scope() as s:
            results = register_search.search(RegisterQuery(text=text, kelurahan_kode=place, rt=rt, rw=rw,
                                                           desil=tuple(desil), include_absent=include_absent),
                                             actor=actor, session=s)
        st.caption(f"{len(results)} orang ditemukan" + (" (dibatasi 50; persempit pencarian)" if len(results) == 50
                                                         else "") + ".")
if results:
    table = pd.DataFrame([{"Nama": r["nama"], "NIK": r["nik"], "No KK": r["no_kk"], "Hubungan": r["hubungan"],
                           "Kelurahan": r["kelurahan"], "RT/RW": f"{r['rt']}/{r['rw']}",
                           "Desil": r["desil"] if r["desil"] is not None else "–", "Status": r["status"]}
                          for r in results])
    picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                          key="reg_results")
    rows = picked.selection.rows if picked else []
    if rows:
        with widgets.user_errors():
            with db.session_scope() as s:
                family = register_search.family_view(results[rows[0]]["family_id"], actor=actor, session=s)
            with st.container(border=True):
                st.subheader(f"KK {family['no_kk']} · desil {family['desil'] or '–'}")
                st.markdown(f"{family['alamat']} · RT {family['rt']}/RW {family['rw']} · "
                            f"{widgets.wilayah_text(family['kelurahan_kode'])} · status **{family['status']}**  \n"
                            f"ID DTSEN {family['id_dtsen'] or '–'} · dari ekstrak *{family['ekstrak']['berkas']}* "
                            f"({waktu(family['ekstrak']['diimpor'])}, oleh {family['ekstrak']['oleh']})")
                st.dataframe(pd.DataFrame([{
                    "NIK": m["nik"], "Nama": m["nama"], "L/P": m["jenis_kelamin"],
                    "Tanggal lahir": tanggal(m["tanggal_lahir"]) if m["tanggal_lahir"] else "–",
                    "Hubungan": m["hubungan"], "Pekerjaan": m["pekerjaan"], "Status": m["status"]}
                    for m in family["anggota"]]), hide_index=True, width="stretch")
                if family["temuan"]:
                    st.markdown("**Temuan penyaringan**")
                    for f in family["temuan"]:
                        icon = "🛑" if f["severity"] == "blocking" else "⚠️"
                        closed = f" — ditutup: {f['catatan']}" if f["status"] != "open" else ""
                        st.markdown(f"{icon} **{f['judul']}** (`{f['code']}`): {f['pesan']}{closed}")
                if family["riwayat"]:
                    st.markdown("**Riwayat dalam register**")
                    st.dataframe(pd.DataFrame([{"Waktu": waktu(h["waktu"]), "Perubahan": h["perubahan"],
                                                "Berkas": h["berkas"]} for h in family["riwayat"]]),
                                 hide_index=True, width="stretch")
