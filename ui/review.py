"""Reviewing one batch (Camat and Walikota): the items with their flags and evidence, bulk returns over a filtered
selection with a required reason, the documents with their registry status, and the history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import db, evidence, workflow
from core.access import Actor
from core.proposals import JENIS
from core.screening import mask_nik as mask_kk  # reviewers recognise a family; the full KK is in the documents
from core.timefmt import waktu
from ui import photos as ui_photos

DECISION_LABEL = {"kembalikan": "Dikembalikan", "tolak": "Ditolak"}


def items_readonly(batch: dict) -> None:
    """The items of a batch the reviewer no longer acts on, with their states and reasons."""
    st.dataframe(pd.DataFrame([{"No KK": mask_kk(i["no_kk"]), "Kepala keluarga": i["nama_kepala"],
                                "Status": workflow.ITEM_STATES.get(i["status"], i["status"]),
                                "Alasan": i["status_reason"]} for i in batch["items"]]),
                 hide_index=True, width="stretch")


def note_view(batch_id: int, actor: Actor) -> None:
    """Audit the first opening of a batch's by-name list in this browser session (not every rerun)."""
    seen = st.session_state.setdefault("_batches_viewed", set())
    if batch_id in seen:
        return
    from core import batch_views

    with db.session_scope() as s:
        batch_views.record_view(batch_id, actor=actor, session=s)
    seen.add(batch_id)


def _slot(batch: dict) -> str:
    return f"review.{batch['id']}.{batch['version']}"


def decisions(batch: dict) -> dict[int, tuple[str, str]]:
    """The returns chosen so far on this screen for this batch (kept across reruns, never stored elsewhere)."""
    return st.session_state.setdefault(_slot(batch), {})


def items_table(batch: dict, *, actor: Actor, open_state: str, allowed: tuple[str, ...]) -> None:
    """The batch's open items; the reviewer filters, selects rows and returns (or rejects) them with a reason."""
    chosen = decisions(batch)
    open_items = [i for i in batch["items"] if i["status"] == open_state]
    c1, c2 = st.columns(2)
    jenis = c1.multiselect("Saring jenis usulan", list(JENIS), format_func=JENIS.get, key=f"f.jenis.{batch['id']}")
    only_flags = c2.checkbox("Hanya yang memiliki temuan", key=f"f.flags.{batch['id']}")
    shown = [i for i in open_items if (not jenis or i["jenis"] in jenis) and (not only_flags or i["temuan"])]
    table = pd.DataFrame([{
        "No KK": mask_kk(i["no_kk"]), "Kepala keluarga": i["nama_kepala"], "Jenis": JENIS[i["jenis"]],
        "RT/RW": f"{i['rt']}/{i['rw']}", "Desil": "–" if i["desil"] is None else str(i["desil"]),
        "Jiwa": len(i["anggota"]),
        "Temuan": "; ".join(f["judul"] for f in i["temuan"]),
        "Keputusan Anda": DECISION_LABEL[chosen[i["id"]][0]] + ": " + chosen[i["id"]][1] if i["id"] in chosen
        else "diteruskan"} for i in shown])
    st.caption(f"{len(open_items)} usulan terbuka · {len(chosen)} akan dikembalikan/ditolak · pilih baris lalu "
               "beri alasan. Usulan yang tidak dipilih diteruskan.")
    # The key follows the filter: row numbers of one filtered list never select rows of another.
    view = f"{batch['id']}.{batch['version']}.{'-'.join(sorted(jenis))}.{int(only_flags)}"
    picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun", selection_mode="multi-row",
                          key=f"items.{view}")
    rows = [shown[r] for r in (picked.selection.rows if picked else [])]
    if not rows:
        return
    st.markdown(f"**{len(rows)} usulan dipilih**")
    a, b, c = st.columns([1, 3, 1])
    what = a.selectbox("Tindakan", allowed, format_func=lambda w: {"kembalikan": "Kembalikan", "tolak": "Tolak"}[w],
                       key=f"what.{batch['id']}")
    why = b.text_input("Alasan (wajib, dibaca kelurahan)", key=f"why.{batch['id']}")
    if c.button("Terapkan", key=f"apply.{batch['id']}"):
        if len(why.strip()) < 5:
            st.error("Tulis alasan minimal 5 karakter.")
        else:
            for item in rows:
                chosen[item["id"]] = (what, why.strip())
            st.rerun()
    if any(i["id"] in chosen for i in rows) and st.button("Batalkan keputusan untuk yang dipilih",
                                                          key=f"undo.{batch['id']}"):
        for item in rows:
            chosen.pop(item["id"], None)
        st.rerun()
    if len(rows) == 1:
        item = rows[0]
        with st.expander(f"Bukti lapangan: {item['nama_kepala']}", expanded=True):
            for f in item["temuan"]:
                st.warning(f"{f['judul']}: {f['pesan']}")
            if item["family_id"]:
                with db.session_scope() as s:
                    ui_photos.gallery(evidence.family_gallery(item["family_id"], actor=actor, session=s), columns=3)
            else:
                st.caption("Keluarga baru (belum di DTSEN): belum ada foto tersimpan per keluarga.")


def batch_map(batch: dict, actor: Actor) -> None:
    """Where the batch's families live (those with a recorded location), coloured by the batch's state."""
    from streamlit_folium import st_folium

    from core import dashboard
    from ui import map as ui_map

    with db.session_scope() as s:
        points = [p for p in dashboard.proposal_points(batch["kelurahan_kode"], batch["periode"], actor=actor,
                                                       session=s)]
    st.caption(f"{len(points)} keluarga dengan lokasi tercatat (dari foto, peta atau koordinat yang diketik).")
    if points:
        st_folium(ui_map.build(points), key=f"batch_map.{batch['id']}", height=360, returned_objects=[],
                  use_container_width=True)


def documents_table(batch: dict) -> None:
    rows = [{"Dokumen": d["label"], "Nomor": d["nomor"], "Status": "final" if d["status"] == "final" else "digantikan",
             "Pindaian": "ada" if d["scan_sha256"] else "belum", "Kode verifikasi": d["kode"],
             "SHA-256": d["sha256"][:16] + "…"} for d in batch["documents"]]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def history(batch: dict) -> None:
    st.dataframe(pd.DataFrame([{"Waktu": waktu(e["waktu"]), "Revisi": e["revision"],
                                "Tindakan": workflow.EVENT_LABELS.get(e["action"], e["action"]), "Oleh": e["oleh"],
                                "Alasan": e["alasan"]} for e in batch["events"]]), hide_index=True, width="stretch")


def act(batch: dict, action: str, actor: Actor, *, reason: str = "", with_items: bool = False) -> bool:
    """Make the move; True when it succeeded (the caller reruns). Errors are shown, nothing half-done."""
    from ui import widgets

    done = False
    with widgets.user_errors():
        with db.session_scope() as s:
            workflow.act(batch["id"], action, actor=actor, session=s, reason=reason,
                         item_actions=decisions(batch) if with_items else None, expected_state=batch["state"])
        st.session_state.pop(_slot(batch), None)
        st.toast(f"{workflow.ACTIONS[action]}: berhasil.")
        done = True
    return done
