"""A copy of the audit chain's length and last hash kept outside the database, in the data directory.

Someone with write access to the database can drop the guard trigger, delete the newest entries and fix the head
row, or recompute the whole chain from scratch; neither is visible from inside the database alone. After every
commit that appended audit entries, the new (length, hash) is written here — only ever forward — so
``muskel verify-audit`` can tell that entries were removed from the end or that the chain was rebuilt.
One file per database (keyed by its URL without the password), written atomically under a file lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path

from core.config import load_settings


def _key(url: str) -> str:
    from sqlalchemy.engine import make_url

    safe = make_url(url).render_as_string(hide_password=True)
    return hashlib.sha256(safe.encode()).hexdigest()[:16]


def path_for(url: str) -> Path:
    return load_settings().data_dir / "audit" / f"checkpoint-{_key(url)}.json"


def read(url: str) -> dict | None:
    try:
        return json.loads(path_for(url).read_text())
    except (OSError, ValueError):
        return None


def advance(url: str, seq: int, last_hash: str) -> None:
    """Record (seq, hash) unless the checkpoint already holds a later entry (another process got there first)."""
    path = path_for(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = read(url)
        if current and current.get("seq", 0) >= seq:
            return
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"seq": seq, "hash": last_hash}))
        os.replace(tmp, path)


def forget(url: str) -> None:
    """Only for an installation whose database is emptied on purpose (tests, a restore into a new database)."""
    try:
        path_for(url).unlink()
    except FileNotFoundError:
        pass
