"""Autosave of draftable widgets (keys ``f.<form>.<field>``) so that nothing typed is lost.

Home.py saves the values on every rerun where they changed; a page restores its form's draft the first time
it renders in a browser session and drops the draft once the form is saved.
"""

from __future__ import annotations

import hashlib
import json

import streamlit as st

from core import db
from core import drafts as store
from core.access import Actor
from core.timefmt import waktu

_SAVED = "_draft_saved_hash"  # form -> hash of what is in the database
_BASELINE = "_draft_baseline"  # form -> values the form started with (nothing to save while unchanged)


def _digest(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def _changed_forms() -> dict[str, dict]:
    forms = store.collect({k: v for k, v in st.session_state.items()})
    baselines = st.session_state.get(_BASELINE, {})
    result = {}
    for form, values in forms.items():
        base = baselines.get(form)
        if base is not None and all(values.get(k) == base.get(k) for k in values):
            result[form] = None  # back to what was loaded: nothing to keep
        elif base is None and not any(v not in (None, "", False, [], 0) for v in values.values()):
            result[form] = None
        else:
            result[form] = values
    return result


def save_pending(*, actor: Actor, session, reason: str) -> int:
    """Store every changed draftable form; returns how many forms hold unsaved input."""
    saved_hashes = st.session_state.setdefault(_SAVED, {})
    kept = 0
    for form, values in _changed_forms().items():
        if values is None:
            if saved_hashes.pop(form, None) is not None:
                store.discard(form, actor=actor, session=session)
            continue
        kept += 1
        digest = _digest(values) + reason
        if saved_hashes.get(form) != digest:
            store.save(form, values, actor=actor, session=session, reason=reason)
            saved_hashes[form] = digest
    return kept


def autosave(actor: Actor) -> None:
    with db.session_scope() as session:
        save_pending(actor=actor, session=session, reason="autosave")


def version_key(form: str) -> str:
    """Where a form keeps the record version it was loaded at (saved with the draft, checked on save)."""
    return f"{store.PREFIX}{form}._version"


def restore(form: str, actor: Actor, baseline: dict, *, version: int | None = None) -> None:
    """Call before the form's widgets: set their start values, or the unsaved draft if there is one.

    ``version`` is the record's version now; the form keeps the version it was first loaded at, so that saving
    over somebody else's later change is refused instead of silently overwriting it.
    """
    if version is not None:
        baseline = {**baseline, version_key(form): version}
    st.session_state.setdefault(_BASELINE, {})[form] = baseline
    if any(key in st.session_state for key in baseline if key != version_key(form)):
        return  # the widgets are live in this browser session: their values are the truth
    with db.session_scope() as session:
        draft = store.load(form, actor=actor, session=session)
    values = dict(baseline)
    if draft:
        values.update({k: v for k, v in draft["values"].items() if store.form_of(k) == form})
        st.session_state.setdefault(_SAVED, {})[form] = _digest(draft["values"]) + draft["reason"]
        st.session_state.setdefault("_draft_notice", {})[form] = draft["updated_at"]
    for key, value in values.items():
        st.session_state[key] = value


def notice(form: str, actor: Actor) -> None:
    """Tell the user that unsaved input was brought back, with a way to drop it."""
    when = st.session_state.get("_draft_notice", {}).get(form)
    if when is None:
        return
    col1, col2 = st.columns([5, 1])
    col1.info(f"Isian yang belum disimpan dari {waktu(when)} telah dipulihkan. Periksa lalu simpan.", icon="📝")
    if col2.button("Buang isian ini", key=f"_discard_{form}"):
        forget(form, actor)
        st.rerun()


def loaded_version(form: str) -> int | None:
    return st.session_state.get(version_key(form))


def forget(form: str, actor: Actor) -> None:
    """After a successful save (or when the user discards): drop the draft and reset the widgets."""
    with db.session_scope() as session:
        store.discard(form, actor=actor, session=session)
    st.session_state.get(_SAVED, {}).pop(form, None)
    st.session_state.get("_draft_notice", {}).pop(form, None)
    for key in [k for k in st.session_state.keys() if store.form_of(str(k)) == form]:
        del st.session_state[key]
