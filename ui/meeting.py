"""Shared pieces of the meeting screens: choosing the musyawarah and the always-visible tally."""

from __future__ import annotations

import streamlit as st

from core import db, meetings, proposals, tally
from core.access import Actor
from core.timefmt import tanggal
from ui import session as ui_session

CURRENT = "meeting_id"  # the selectbox (a widget: Streamlit forgets it on pages that do not show it)
CHOSEN = "_meeting_chosen"  # the user's choice, kept across the meeting screens


def pick(actor: Actor, *, drafts_only: bool = False) -> dict | None:
    """The musyawarah this screen works on (the open one by default); None when there is none yet."""
    ui_session.use_meeting_idle_limit()
    with db.session_scope() as s:
        found = [m for m in meetings.list_meetings(actor.wilayah_kode, actor=actor, session=s) if m["kind"] == "held"]
    if drafts_only:
        found = [m for m in found if m["status"] == "draft"] or found
    if not found:
        st.info("Belum ada musyawarah. Buka musyawarah baru di halaman **Musyawarah**.")
        return None
    ids = [m["id"] for m in found]
    chosen = st.session_state.get(CURRENT, st.session_state.get(CHOSEN))
    if chosen not in ids:
        chosen = next((m["id"] for m in found if m["status"] == "draft"), ids[0])
    st.session_state[CURRENT] = st.session_state[CHOSEN] = chosen
    by_id = {m["id"]: m for m in found}
    st.selectbox("Musyawarah", ids, key=CURRENT, format_func=lambda i: describe(by_id[i]),
                 on_change=lambda: st.session_state.__setitem__(CHOSEN, st.session_state[CURRENT]))
    return by_id[chosen]


def describe(m: dict) -> str:
    when = tanggal(m["tanggal"]) if m["tanggal"] else "tanggal belum diisi"
    state = "berlangsung" if m["status"] == "draft" else "ditutup"
    return f"Periode {m['periode']} · {when} · {state}"


def tally_panel(meeting_id: int, actor: Actor, *, large: bool = False, items: list[dict] | None = None) -> None:
    """KK and jiwa per type and decision (and per reason and programme), always in view.

    Pass ``items`` when the page already loaded them: the agenda of a big meeting is not read twice per run.
    """
    if items is None:
        with db.session_scope() as s:
            items = proposals.list_proposals(meeting_id, actor=actor, session=s)
    counts = tally.tally(items)
    total = counts.get("total", {}).get("semua", {"kk": 0, "jiwa": 0})
    headline = f"{len(items)} usulan · {total['kk']} KK · {total['jiwa']} jiwa"
    st.markdown(f"### {headline}" if large else f"**{headline}**")
    for dimension, title in (("jenis", "Jenis"), ("keputusan", "Keputusan"), ("alasan_nonaktif", "Alasan nonaktif"),
                             ("program", "Program")):
        values = counts.get(dimension)
        if not values:
            continue
        lines = [f"{tally.label(dimension, k)}: {v['kk']} KK / {v['jiwa']} jiwa" for k, v in values.items()]
        if large:
            st.markdown(f"#### {title}\n" + "\n".join(f"- {line}" for line in lines))
        else:
            st.caption(f"**{title}** · " + " · ".join(lines))
