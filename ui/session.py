"""Login state, idle timeout and the database for the web app.

Session state holds plain data only (the actor and timestamps), never ORM rows or database sessions.
"""

from __future__ import annotations

import logging
import threading
import time

import streamlit as st

from core import accounts, db, filestore, login_throttle, setup
from core.access import Actor, Role
from core.config import load_settings
from core.errors import EnvironmentProblem
from ui import drafts
from ui.client import client_id

log = logging.getLogger("muskel")
AUTH_KEY = "_auth"
FLASH_KEY = "_flash"
_GC_INTERVAL_SECONDS = 3600
_gc_lock = threading.Lock()
_gc_last_run = 0.0


@st.cache_resource(show_spinner="Menyiapkan basis data…")
def _prepare(database_url: str) -> bool:
    setup.ensure_ready()
    return True


def ensure_database() -> None:
    """Migrate (SQLite) or check (PostgreSQL) once per process; stop with a clear message when impossible."""
    settings = load_settings()
    try:
        _prepare(settings.database_url)
    except EnvironmentProblem as exc:
        st.error(exc.message, icon="🛑")
        st.stop()
    _sweep_orphan_files()


def _sweep_orphan_files() -> None:
    """On start and then hourly: remove stored files that no row references (older than an hour)."""
    global _gc_last_run
    if time.time() - _gc_last_run < _GC_INTERVAL_SECONDS or not _gc_lock.acquire(blocking=False):
        return
    try:
        _gc_last_run = time.time()
        with db.session_scope() as session:
            removed = filestore.collect_garbage(session)
        if removed:
            log.info("file store: %d unreferenced files removed", len(removed))
    except Exception:  # noqa: BLE001 - housekeeping must never block a user
        log.exception("file store sweep failed")
    finally:
        _gc_lock.release()


def current_actor() -> Actor | None:
    auth = st.session_state.get(AUTH_KEY)
    if not auth:
        return None
    return Actor(username=auth["username"], nama=auth["nama"], role=Role(auth["role"]),
                 wilayah_kode=auth["wilayah_kode"])


def must_change_password() -> bool:
    return bool(st.session_state.get(AUTH_KEY, {}).get("must_change"))


def flash(message: str, kind: str = "info") -> None:
    """A message shown once on the next page (e.g. after logout)."""
    st.session_state[FLASH_KEY] = (kind, message)


def show_flash() -> None:
    item = st.session_state.pop(FLASH_KEY, None)
    if item:
        kind, message = item
        getattr(st, kind)(message)


MEETING_IDLE_MINUTES = 120


def idle_timeout_seconds() -> int:
    """The default limit, or a longer one while the user works on a musyawarah (long silences at a meeting)."""
    if st.session_state.get(AUTH_KEY, {}).get("meeting_screen"):
        return max(MEETING_IDLE_MINUTES, load_settings().idle_timeout_minutes) * 60
    return load_settings().idle_timeout_minutes * 60


def use_meeting_idle_limit() -> None:
    """Called by the meeting screens; any other page switches back to the default limit."""
    if AUTH_KEY in st.session_state:
        st.session_state[AUTH_KEY]["meeting_screen"] = True


def enforce_idle_timeout() -> Actor | None:
    """End an idle session — after saving whatever input arrived with this very rerun as the user's draft."""
    actor = current_actor()
    if actor is None:
        return None
    now = time.time()
    last_seen = st.session_state[AUTH_KEY].get("last_seen", now)
    if now - last_seen <= idle_timeout_seconds():
        st.session_state[AUTH_KEY]["last_seen"] = now
        st.session_state[AUTH_KEY]["meeting_screen"] = False  # the page sets it again if it is a meeting screen
        return actor
    minutes = idle_timeout_seconds() // 60
    with db.session_scope() as session:
        saved = drafts.save_pending(actor=actor, session=session, reason="timeout")
        accounts.logout(actor=actor, session=session, reason="idle_timeout")
    end_session()
    message = f"Sesi Anda berakhir karena tidak aktif selama {minutes} menit. Silakan masuk kembali."
    if saved:
        message += " Isian yang belum disimpan telah diamankan dan akan dipulihkan setelah Anda masuk."
    flash(message, "warning")
    return None


def revalidate(actor: Actor) -> Actor | None:
    """An account disabled or moved by the admin loses its session on the next click."""
    with db.session_scope() as session:
        fresh = accounts.still_allowed(actor.username, session=session)
    if fresh is None or fresh.role != actor.role or fresh.wilayah_kode != actor.wilayah_kode:
        end_session()
        flash("Akun Anda diubah atau dinonaktifkan oleh administrator. Silakan masuk kembali.", "warning")
        return None
    return actor


def log_in(username: str, password: str) -> str | None:
    """Returns None on success, otherwise the Indonesian message to show."""
    with db.session_scope() as session:
        outcome = accounts.authenticate(username, password, session=session, channel="web",
                                        throttle=login_throttle.THROTTLE, client=client_id())
    if outcome.actor is None:
        return outcome.error.message
    a = outcome.actor
    st.session_state[AUTH_KEY] = {"username": a.username, "nama": a.nama, "role": str(a.role),
                                  "wilayah_kode": a.wilayah_kode, "must_change": outcome.must_change_password,
                                  "last_seen": time.time()}
    return None


def password_changed() -> None:
    st.session_state[AUTH_KEY]["must_change"] = False


def log_out() -> None:
    actor = current_actor()
    if actor is not None:
        with db.session_scope() as session:
            drafts.save_pending(actor=actor, session=session, reason="autosave")
            accounts.logout(actor=actor, session=session)
    end_session()
    flash("Anda telah keluar dari Muskel.", "success")


def end_session() -> None:
    """Forget everything of the logged-in user in this browser tab."""
    for key in list(st.session_state.keys()):
        if key != FLASH_KEY:
            del st.session_state[key]


def leave_legacy_pages_mode() -> None:
    """Make sure Home.py (login gate, idle timeout, role pages) runs, even on a freshly started server.

    Streamlit treats an app with a ``pages/`` folder as a legacy multipage app until the first ``st.navigation``
    call in the process; until then a request for a page address (``/kelola_akun``) runs that page script
    directly and lists every page file in the sidebar. A page that finds itself run that way switches the mode
    off and reruns, so the request goes through Home.py like every other.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a future Streamlit without the legacy mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
