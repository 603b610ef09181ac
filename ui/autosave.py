"""Widgets that store their value the moment it changes (no save button to forget).

Each widget remembers the value it last saw in the database; a change is saved as compare-and-set from that
value, so a change made on top of somebody else's newer value is refused with a message instead of
overwriting it. When another user changed a field this user has not touched, the widget shows the new value.
"""

from __future__ import annotations

from typing import Callable

import streamlit as st

from core import db
from core.errors import MuskelError
from ui import session as ui_session

MESSAGES = "_autosave_messages"


def _seen(key: str) -> str:
    return f"_seen.{key}"


def field(widget: Callable, label: str, *, key: str, value, save: Callable, **kwargs):
    """Render ``widget`` (e.g. st.text_input) bound to ``value``; ``save(session, actor, old, new)`` stores it."""
    seen = _seen(key)
    untouched = key in st.session_state and st.session_state[key] == st.session_state.get(seen)
    if key not in st.session_state or seen not in st.session_state or untouched:
        # First show, or a field this user has not touched: show what is stored (perhaps by someone else).
        st.session_state[key] = value
        st.session_state[seen] = value
    return widget(label, key=key, on_change=_store, args=(key, save), **kwargs)


def _store(key: str, save: Callable) -> None:
    actor = ui_session.current_actor()
    if actor is None:
        return
    old, new = st.session_state.get(_seen(key)), st.session_state.get(key)
    try:
        with db.session_scope() as s:
            save(s, actor, old, new)
        st.session_state[_seen(key)] = new
        st.session_state.setdefault(MESSAGES, []).append(("success", "Tersimpan."))
    except MuskelError as exc:
        st.session_state.setdefault(MESSAGES, []).append(("error", exc.message))
        st.session_state.pop(_seen(key), None)
        st.session_state.pop(key, None)  # show what is stored now on the next run


def show_messages() -> None:
    """Errors stay on screen; a success shows as a short toast."""
    for kind, message in st.session_state.pop(MESSAGES, []):
        if kind == "success":
            st.toast(message, icon=":material/check:")
        else:
            st.error(message)
