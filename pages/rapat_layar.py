"""Layar proyektor: the current item and the running tally in large type, refreshed every few seconds."""

import streamlit as st

from core import db, proposals
from core.access import Role
from core.proposals import JENIS, KEPUTUSAN, NONAKTIF_REASONS
from ui import meeting as ui_meeting, widgets

actor = widgets.require_page("pages/rapat_layar.py", Role.OPERATOR, Role.LURAH)
m = ui_meeting.pick(actor)
if m is None:
    st.stop()


@st.fragment(run_every=5)
def screen() -> None:
    with db.session_scope() as s:
        items = proposals.list_proposals(m["id"], actor=actor, session=s)
    current = next((i for i in items if i["id"] == st.session_state.get("projector_item")), None)
    left, right = st.columns([3, 2])
    with left:
        if current is None:
            st.markdown("## Pilih usulan di halaman Agenda usulan")
        else:
            reason = f" — {NONAKTIF_REASONS.get(current['alasan_nonaktif'], '')}" if current["alasan_nonaktif"] else ""
            st.markdown(f"# No. {current['urutan']} · {current['nama_kepala']}")
            st.markdown(f"## {JENIS[current['jenis']]}{reason}")
            st.markdown(f"### RT {current['rt']} / RW {current['rw']} · desil {current['desil'] or '–'} · "
                        f"{len(current['anggota'])} jiwa")
            if current["programs"]:
                st.markdown("### Program: " + ", ".join(current["programs"]))
            for f in current["temuan"]:
                st.markdown(f"### ⚠️ {f['judul']}")
            st.markdown(f"## Keputusan: **{KEPUTUSAN.get(current['keputusan'], 'belum diputuskan')}**")
    with right:
        ui_meeting.tally_panel(m["id"], actor, large=True, items=items)


screen()
