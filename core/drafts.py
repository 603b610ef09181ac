"""Unsaved input kept per user and form, so that a refresh, a crash or an idle timeout never loses work.

Pages name their draftable widgets ``f.<form>.<field>``; the web layer stores their values here as they are typed
and offers them again after the next login. Secrets (passwords) are never draftable.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlmodel import Session, select

from core.access import Actor
from core.models import Draft
from core.timefmt import utcnow

PREFIX = "f."


def form_of(key: str) -> str | None:
    """``f.akun.nama`` → ``akun``; any other key is not draftable."""
    if not key.startswith(PREFIX):
        return None
    parts = key.split(".", 2)
    return parts[1] if len(parts) == 3 and parts[1] else None


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (date, datetime)):
        return {"__date__": value.isoformat()}
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float, bool)) for v in value):
        return list(value)
    raise TypeError


def _restore(value):
    if isinstance(value, dict) and "__date__" in value:
        text = value["__date__"]
        return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    return value


def collect(values: dict) -> dict[str, dict]:
    """Group draftable widget values by form; values that cannot be stored as JSON are skipped."""
    forms: dict[str, dict] = {}
    for key, value in values.items():
        form = form_of(str(key))
        if form is None:
            continue
        try:
            forms.setdefault(form, {})[key] = _jsonable(value)
        except TypeError:
            continue
    return forms


def save(form_key: str, values: dict, *, actor: Actor, session: Session, reason: str = "autosave") -> None:
    payload = json.dumps(values, sort_keys=True, ensure_ascii=False)
    draft = session.exec(select(Draft).where(Draft.username == actor.username, Draft.form_key == form_key)).first()
    if draft is None:
        draft = Draft(username=actor.username, form_key=form_key, payload=payload, reason=reason)
    elif draft.payload == payload and draft.reason == reason:
        return
    else:
        draft.payload, draft.reason, draft.updated_at = payload, reason, utcnow()
    session.add(draft)


def load(form_key: str, *, actor: Actor, session: Session) -> dict | None:
    """{"values": {...}, "updated_at": datetime, "reason": str} or None."""
    draft = session.exec(select(Draft).where(Draft.username == actor.username, Draft.form_key == form_key)).first()
    if draft is None:
        return None
    values = {k: _restore(v) for k, v in json.loads(draft.payload).items()}
    return {"values": values, "updated_at": draft.updated_at, "reason": draft.reason}


def pending_forms(*, actor: Actor, session: Session) -> list[str]:
    return list(session.exec(select(Draft.form_key).where(Draft.username == actor.username)).all())


def discard(form_key: str, *, actor: Actor, session: Session) -> None:
    draft = session.exec(select(Draft).where(Draft.username == actor.username, Draft.form_key == form_key)).first()
    if draft is not None:
        session.delete(draft)
