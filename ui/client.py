"""The address of the browser behind the current session, for per-client limits (verification page, login).

X-Forwarded-For is believed only with ``MUSKEL_BEHIND_PROXY=1``, i.e. behind Muskel's own reverse proxy, which
overwrites the header: otherwise a client could send a new value with every request and escape any limit. Behind a
proxy *without* that setting, every client has the proxy's address and shares one budget.
"""

from __future__ import annotations

import os

import streamlit as st


def client_id() -> str:
    if os.environ.get("MUSKEL_BEHIND_PROXY") == "1":
        forwarded = (st.context.headers.get("X-Forwarded-For") or "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return st.context.ip_address or "lokal"
