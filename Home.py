"""Muskel's entry point: page config, login gate, idle timeout, the role's pages, and st.navigation.

Run with ``streamlit run Home.py`` (see README for the one command that sets everything up).
"""

import streamlit as st

from core import db
from ui import drafts, session, widgets
from ui.navigation import gate_pages, pages_for

st.set_page_config(page_title="Muskel", page_icon=":material/diversity_3:", layout="wide",
                   initial_sidebar_state="expanded")

session.ensure_database()
database_answers = True
try:
    actor = session.enforce_idle_timeout()
    if actor is not None:
        actor = session.revalidate(actor)
except Exception as exc:  # noqa: BLE001 - a database that went away is a message to retry, never a traceback
    if not db.connection_lost(exc):
        raise
    widgets.show_unexpected(exc)
    database_answers = False
    actor = session.current_actor()  # checked again on the next click, once the database answers

if actor is None:
    page = st.navigation(gate_pages("pages/masuk.py", "Masuk", ":material/login:"), position="hidden")
elif session.must_change_password():
    widgets.identity_panel(actor)
    page = st.navigation(gate_pages("pages/ganti_kata_sandi.py", "Ganti kata sandi", ":material/key:"),
                         position="hidden")
else:
    if database_answers:
        drafts.autosave(actor)
    widgets.identity_panel(actor)
    page = st.navigation(pages_for(actor.role), expanded=True)

session.show_flash()
try:
    page.run()  # always: st.navigation expects its page to run (a page's own database errors show as below)
except Exception as exc:  # noqa: BLE001 - users never see a traceback; st.stop/st.rerun are not Exceptions
    if database_answers or not db.connection_lost(exc):  # the lost connection was already said once
        widgets.show_unexpected(exc)
