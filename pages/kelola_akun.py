"""Kelola akun (admin): list accounts; create, reset password, unlock, disable/enable, change role or wilayah."""

import pandas as pd
import streamlit as st

from core import accounts, db
from core.access import ROLE_LABELS, Action, Role, require
from core.errors import InvalidInput
from core.timefmt import utcnow, waktu
from ui import drafts, widgets

actor = widgets.require_page("pages/kelola_akun.py", Role.ADMIN)
require(actor, Action.ACCOUNT_MANAGE, actor.wilayah_kode)
FORM = "akun_baru"
ROLES = [r.value for r in Role]

st.title("Kelola akun")
secret = st.session_state.pop("_temp_password", None)
if secret:
    st.success(f"Kata sandi sementara untuk **{secret[0]}**: `{secret[1]}`  \nSampaikan langsung kepada pemilik "
               "akun; kata sandi ini hanya ditampilkan sekali dan wajib diganti saat pertama masuk.", icon="🔑")

tab_list, tab_new = st.tabs(["Daftar akun", "Buat akun baru"])

with tab_list:
    with db.session_scope() as s:
        people = accounts.list_accounts(actor=actor, session=s)
    text = st.text_input("Cari (nama pengguna, nama, kode wilayah)", key="acc_search").strip().lower()
    shown = [p for p in people if not text or text in p["username"] or text in p["nama"].lower()
             or p["wilayah"].startswith(text)]
    now = utcnow()

    def status(p: dict) -> str:
        if not p["aktif"]:
            return "nonaktif"
        if p["terkunci_sampai"] and pd.Timestamp(p["terkunci_sampai"]) > now:
            return "terkunci"
        return "wajib ganti sandi" if p["wajib_ganti_sandi"] else "aktif"

    table = pd.DataFrame([{"Nama pengguna": p["username"], "Nama": p["nama"], "Peran": ROLE_LABELS[Role(p["role"])],
                           "Wilayah": widgets.wilayah_text(p["wilayah"]), "Status": status(p),
                           "Demo": "ya" if p["demo"] else ""} for p in shown])
    picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun",
                          selection_mode="single-row", key="acc_table")
    rows = picked.selection.rows if picked else []
    if not rows:
        st.caption("Pilih satu baris untuk mengelola akun itu.")
    else:
        p = shown[rows[0]]
        with st.container(border=True):
            st.markdown(f"**{p['nama']}** · `{p['username']}` · {status(p)}")
            if p["terkunci_sampai"]:
                st.caption(f"Terkunci sampai {waktu(pd.Timestamp(p['terkunci_sampai']).to_pydatetime())}")
            c1, c2, c3 = st.columns(3)
            action = None
            if c1.button("Atur ulang kata sandi", key="acc_reset"):
                action = "reset"
            if c2.button("Buka kunci", key="acc_unlock", disabled=status(p) != "terkunci"):
                action = "unlock"
            if c3.button("Nonaktifkan" if p["aktif"] else "Aktifkan kembali", key="acc_toggle"):
                action = "toggle"
            st.markdown("**Ubah peran atau wilayah**")
            c4, c5 = st.columns(2)
            new_role = c4.selectbox("Peran", ROLES, index=ROLES.index(p["role"]), key=f"acc_role_{p['username']}",
                                    format_func=lambda r: ROLE_LABELS[Role(r)])
            with c5:
                new_place = widgets.wilayah_picker("Wilayah", key=f"acc_place_{p['username']}")
            if st.button("Simpan peran/wilayah", key="acc_move"):
                action = "move"
            if action:
                with widgets.user_errors():
                    with db.session_scope() as s:
                        kwargs = {"actor": actor, "session": s, "expected_version": p["version"]}
                        if action == "reset":
                            st.session_state["_temp_password"] = (
                                p["username"], accounts.reset_password(p["username"], **kwargs))
                        elif action == "unlock":
                            accounts.unlock(p["username"], **kwargs)
                        elif action == "toggle":
                            accounts.set_active(p["username"], not p["aktif"], **kwargs)
                        else:
                            accounts.change_role(p["username"], new_role, new_place or p["wilayah"], **kwargs)
                    st.toast("Perubahan tersimpan dan tercatat di log audit.")
                    st.rerun()

with tab_new:
    drafts.restore(FORM, actor, {f"f.{FORM}.{k}": "" for k in ("username", "nama", "nip", "jabatan", "telepon")}
                   | {f"f.{FORM}.role": None, f"f.{FORM}.wilayah": None})
    drafts.notice(FORM, actor)
    st.caption("Akun baru mendapat kata sandi sementara yang wajib diganti saat pertama masuk.")
    c1, c2 = st.columns(2)
    c1.text_input("Nama pengguna (tanpa spasi, mis. operator.kayumanis)", key=f"f.{FORM}.username")
    c2.text_input("Nama lengkap", key=f"f.{FORM}.nama")
    c3, c4 = st.columns(2)
    c3.selectbox("Peran", ROLES, format_func=lambda r: ROLE_LABELS[Role(r)], key=f"f.{FORM}.role", index=None,
                 placeholder="Pilih peran…")
    with c4:
        widgets.wilayah_picker("Wilayah", key=f"f.{FORM}.wilayah")
    c5, c6, c7 = st.columns(3)
    c5.text_input("NIP", key=f"f.{FORM}.nip")
    c6.text_input("Jabatan", key=f"f.{FORM}.jabatan")
    c7.text_input("Telepon", key=f"f.{FORM}.telepon")
    if st.button("Buat akun", type="primary", key="acc_create"):
        values = {k.split(".")[-1]: v for k, v in st.session_state.items() if str(k).startswith(f"f.{FORM}.")}
        with widgets.user_errors():
            if not values.get("role"):
                raise InvalidInput("Pilih peran akun.", field="role")
            if not values.get("wilayah"):
                raise InvalidInput("Pilih wilayah akun.", field="wilayah")
            data = accounts.NewAccount(username=values["username"], nama=values["nama"], role=values["role"],
                                       wilayah_kode=values["wilayah"], nip=values["nip"], jabatan=values["jabatan"],
                                       telepon=values["telepon"])
            with db.session_scope() as s:
                created, temporary = accounts.create_account(data, actor=actor, session=s)
            drafts.forget(FORM, actor)
            st.session_state["_temp_password"] = (created["username"], temporary)
            st.rerun()
