"""Muskel's entry point: page config, login gate, idle timeout, the role's pages, and st.navigation.

Run with ``streamlit run Home.py`` (see README for the one command that sets everything up).
"""

import streamlit as st

from ui import drafts, session, widgets
from ui.navigation import gate_pages, pages_for

st.set_page_config(page_title="Muskel", page_icon=":material/diversity_3:", layout="wide",
                   initial_sidebar_state="expanded")

session.ensure_database()
actor = session.enforce_idle_timeout()
if actor is not None:
    actor = session.revalidate(actor)

if actor is None:
    page = st.navigation(gate_pages("pages/masuk.py", "Masuk", ":material/login:"), position="hidden")
elif session.must_change_password():
    widgets.identity_panel(actor)
    page = st.navigation(gate_pages("pages/ganti_kata_sandi.py", "Ganti kata sandi", ":material/key:"),
                         position="hidden")
else:
    drafts.autosave(actor)
    widgets.identity_panel(actor)
    page = st.navigation(pages_for(actor.role), expanded=True)

session.show_flash()
try:
    page.run()
except Exception as exc:  # noqa: BLE001 - users never see a traceback; st.stop/st.rerun are not Exceptions
    widgets.show_unexpected(exc)
