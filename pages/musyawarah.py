"""Musyawarah: open the period's meeting (or state that none was held), fill in its record, photos, closing."""

from datetime import datetime

import streamlit as st

from core import bnba, db, filestore, meetings
from core.access import Role
from core.timefmt import WIB, waktu
from ui import autosave, meeting as ui_meeting, widgets

actor = widgets.require_page("pages/musyawarah.py", Role.OPERATOR, Role.LURAH)
kel = actor.wilayah_kode
st.title("Musyawarah kelurahan")
autosave.show_messages()

with st.expander("Buka musyawarah baru atau nyatakan tidak diadakan", expanded=False):
    c1, c2 = st.columns([1, 3])
    periode = c1.text_input("Periode (YYYY-MM)", value=datetime.now(WIB).strftime("%Y-%m"), key="new_period")
    if c2.button("Buka musyawarah", key="meeting_new", icon=":material/add:"):
        with widgets.user_errors():
            with db.session_scope() as s:
                created = meetings.create_meeting(kel, periode, actor=actor, session=s)
            st.session_state[ui_meeting.CURRENT] = st.session_state[ui_meeting.CHOSEN] = created["id"]
            st.rerun()
    if actor.role == Role.LURAH:
        reason = st.text_area("Alasan musyawarah tidak diadakan periode ini", key="not_held_reason")
        if st.button("Nyatakan tidak diadakan", key="meeting_not_held"):
            with widgets.user_errors():
                with db.session_scope() as s:
                    meetings.record_not_held(kel, periode, reason, actor=actor, session=s)
                st.success(f"Tercatat: periode {periode} tanpa musyawarah. SPTJM varian 'tidak diadakan' dapat dibuat.")

if actor.role == Role.LURAH:
    with st.expander("Pengaturan musyawarah kelurahan (unsur, program, kuorum)"):
        with db.session_scope() as s:
            conf = meetings.settings_for(kel, session=s)
        unsur = st.text_area("Daftar unsur peserta (satu per baris)", "\n".join(conf["unsur"]), key="set_unsur")
        programs = st.text_area("Daftar program (satu per baris)", "\n".join(conf["programs"]), key="set_programs")
        c1, c2, c3 = st.columns(3)
        chair = c1.checkbox("Pimpinan rapat wajib hadir", conf["quorum"]["chair"], key="set_chair")
        min_rw = c2.number_input("Minimal Ketua RW", 0, 30, conf["quorum"]["min_rw"], key="set_rw")
        min_lmk = c3.number_input("Minimal anggota LMK", 0, 30, conf["quorum"]["min_lmk"], key="set_lmk")
        if st.button("Simpan pengaturan", key="settings_save"):
            with widgets.user_errors():
                with db.session_scope() as s:
                    meetings.update_settings(kel, unsur=unsur.splitlines(), programs=programs.splitlines(),
                                             quorum={"chair": chair, "min_rw": min_rw, "min_lmk": min_lmk},
                                             expected_version=conf["version"], actor=actor, session=s)
                st.success("Pengaturan tersimpan.")

m = ui_meeting.pick(actor)
if m is None:
    st.stop()
closed = m["status"] == "closed"
if closed:
    st.info(f"Ditutup oleh {m['closed_by']} pada {waktu(m['closed_at'])}"
            + (" **tanpa kuorum (dikonfirmasi)**" if m["closed_without_quorum"] else "")
            + ". Hanya koreksi data (nomor, tempat, NIP, notulen) yang masih dapat diubah; semua tercatat.")
if m["follow_up_of"]:
    st.caption("Musyawarah lanjutan dari musyawarah sebelumnya pada periode yang sama.")


def saver(fieldname):
    return lambda s, a, old, new: meetings.update_meeting_field(m["id"], fieldname, old, new, actor=a, session=s)


locked = {f: closed and f not in ("nomor", "tempat", "ketua_nip", "notulen") for f in meetings.MEETING_FIELDS}
c1, c2, c3, c4 = st.columns([2, 2, 1, 1])
autosave.field(c1.text_input, "Nomor berita acara", key=f"mt{m['id']}.nomor", value=m["nomor"],
               save=saver("nomor"), disabled=locked["nomor"])
autosave.field(c2.date_input, "Tanggal", key=f"mt{m['id']}.tanggal", value=m["tanggal"] or None,
               save=saver("tanggal"), format="DD/MM/YYYY", disabled=locked["tanggal"])
autosave.field(c3.text_input, "Mulai (JJ.MM)", key=f"mt{m['id']}.jam_mulai",
               value=m["jam_mulai"].replace(":", "."), save=saver("jam_mulai"), disabled=locked["jam_mulai"])
autosave.field(c4.text_input, "Selesai (JJ.MM)", key=f"mt{m['id']}.jam_selesai",
               value=m["jam_selesai"].replace(":", "."), save=saver("jam_selesai"), disabled=locked["jam_selesai"])
autosave.field(st.text_input, "Tempat", key=f"mt{m['id']}.tempat", value=m["tempat"], save=saver("tempat"),
               disabled=locked["tempat"])
c1, c2, c3 = st.columns(3)
autosave.field(c1.text_input, "Pimpinan rapat (Lurah)", key=f"mt{m['id']}.ketua", value=m["ketua"],
               save=saver("ketua"), disabled=locked["ketua"])
autosave.field(c2.text_input, "NIP pimpinan", key=f"mt{m['id']}.ketua_nip", value=m["ketua_nip"],
               save=saver("ketua_nip"), disabled=locked["ketua_nip"])
autosave.field(c3.text_input, "Notulis", key=f"mt{m['id']}.notulis", value=m["notulis"], save=saver("notulis"),
               disabled=locked["notulis"])
autosave.field(st.text_area, "Agenda", key=f"mt{m['id']}.agenda", value=m["agenda"], save=saver("agenda"),
               disabled=locked["agenda"], height=80)
autosave.field(st.text_area, "Notulen", key=f"mt{m['id']}.notulen", value=m["notulen"], save=saver("notulen"),
               height=200, help="Tersimpan otomatis setiap kali Anda keluar dari kotak ini (Ctrl+Enter).")
st.caption("Setiap isian tersimpan otomatis. Bila dua orang mengubah isian yang sama, yang kedua diberi tahu.")

st.subheader("Dokumentasi")
with db.session_scope() as s:
    gallery = meetings.photos(m["id"], actor=actor, session=s)
if gallery:
    store = filestore.default_store()
    cols = st.columns(4)
    for i, photo in enumerate(gallery):
        cols[i % 4].image(store.get(photo["display_sha256"]), caption=photo["caption"] or None)
upload = st.file_uploader("Tambah foto kegiatan (JPEG, PNG, HEIC)", type=["jpg", "jpeg", "png", "heic", "heif"],
                          accept_multiple_files=True, key=f"mt{m['id']}.photos", max_upload_size=20,
                          help="Paling besar 20 MB per foto.")
if upload and st.button("Simpan foto", key="meeting_photo_save"):
    with widgets.user_errors():
        with db.session_scope() as s:
            for f in upload:
                meetings.add_photo(m["id"], f.getvalue(), f.name, "", actor=actor, session=s)
        st.rerun()

st.subheader("Ekspor dan penutupan")
with widgets.user_errors():
    if st.button("Siapkan daftar usulan BNBA (XLSX)", key="bnba_prepare"):
        with db.session_scope() as s:
            st.session_state["bnba_file"] = (m["id"], bnba.xlsx(m["id"], actor=actor, session=s))
    prepared = st.session_state.get("bnba_file")
    if prepared and prepared[0] == m["id"]:
        st.download_button("Unduh BNBA", prepared[1], file_name=f"bnba_{m['periode']}_{kel}.xlsx", on_click="ignore",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="bnba_dl")
    if not closed and actor.role == Role.LURAH:
        with db.session_scope() as s:
            q = meetings.quorum(m["id"], actor=actor, session=s)
        (st.success if q.met else st.warning)(q.explain())
        confirm = False if q.met else st.checkbox("Saya menutup musyawarah tanpa kuorum (tercatat di log audit)",
                                                  key="close_without_quorum")
        if st.button("Tutup musyawarah", key="meeting_close", type="primary"):
            with db.session_scope() as s:
                meetings.close_meeting(m["id"], confirm_without_quorum=confirm, actor=actor, session=s)
            st.rerun()
    elif not closed:
        st.caption("Musyawarah ditutup oleh Lurah.")
