"""Shared widgets: the identity panel, page guards and error display."""

from __future__ import annotations

import logging
from contextlib import contextmanager

import streamlit as st

from core import db, wilayah
from core.access import Actor, Role, role_label
from core.errors import AccessDenied, MuskelError
from ui import session as ui_session
from ui.navigation import allowed_paths

log = logging.getLogger("muskel")


@st.cache_data(ttl=3600, show_spinner=False)
def _wilayah_text(kode: str) -> tuple[str, str | None]:
    """(description, kota level) of a wilayah code: public reference data, safe to share between users."""
    with db.session_scope() as session:
        return wilayah.describe(session, kode), wilayah.kota_tingkat(session, kode)


def wilayah_text(kode: str) -> str:
    return _wilayah_text(kode)[0]


def actor_role_label(actor: Actor) -> str:
    return role_label(actor.role, _wilayah_text(actor.wilayah_kode)[1])


def identity_panel(actor: Actor) -> None:
    """Name, role and wilayah of the logged-in user, always visible (sidebar and page top), and the logout button."""
    st.caption(f":material/badge: {actor.nama} · {actor_role_label(actor)} · {wilayah_text(actor.wilayah_kode)}")
    with st.sidebar:
        st.markdown(f"**{actor.nama}**")
        st.caption(f"{actor_role_label(actor)} · {actor.username}")
        st.caption(wilayah_text(actor.wilayah_kode))
        if st.button("Keluar", icon=":material/logout:", key="_logout", width="stretch"):
            ui_session.log_out()
            st.rerun()
        st.caption(f"Sesi berakhir otomatis setelah {ui_session.idle_timeout_seconds() // 60} menit tidak aktif.")


def require_page(path: str, *roles: Role) -> Actor:
    """Every page re-checks who is looking: the navigation is not the only guard."""
    ui_session.leave_legacy_pages_mode()
    actor = ui_session.current_actor()
    if actor is None or path not in allowed_paths(actor.role) or (roles and actor.role not in roles):
        st.error("Halaman ini tidak tersedia untuk peran Anda.")
        st.stop()
    from ui import page_help

    page_help.show(path)
    return actor


@contextmanager
def user_errors():
    """Show Muskel's named errors as clear Indonesian messages; anything else as a calm generic one."""
    try:
        yield
    except AccessDenied as exc:
        st.error(exc.message, icon="🔒")
    except MuskelError as exc:
        st.error(exc.message, icon="⚠️")
    except Exception as exc:
        if not db.connection_lost(exc):
            raise
        log.warning("database connection lost: %s", exc)
        st.error(db.CONNECTION_LOST_MESSAGE, icon="🔌")


def show_unexpected(exc: Exception) -> None:
    if db.connection_lost(exc):
        log.warning("database connection lost: %s", exc)
        st.error(db.CONNECTION_LOST_MESSAGE, icon="🔌")
        return
    log.exception("unexpected error", exc_info=exc)
    st.error("Terjadi kesalahan yang tidak terduga. Tidak ada data yang berubah sebagian; silakan coba lagi. "
             "Bila terus terjadi, hubungi administrator Muskel.", icon="🛑")


@st.cache_data(ttl=3600, show_spinner=False)
def _wilayah_options() -> list[tuple[str, str, str]]:
    with db.session_scope() as session:
        return wilayah.options(session)


def wilayah_picker(label: str, *, key: str, levels: set[str] | None = None) -> str | None:
    """A searchable select of wilayah (public reference data), optionally limited to some levels."""
    options = [(k, t) for k, t, level in _wilayah_options() if not levels or level in levels]
    labels = dict(options)
    return st.selectbox(label, [k for k, _ in options], format_func=lambda k: labels.get(k, k), key=key,
                        index=None, placeholder="Ketik nama atau kode wilayah…")
