"""Cost of the audit trail: one audited change vs the same transaction without the audit entry.

Every change in Muskel appends a hash-chained audit entry under a lock; this shows what that adds per user
action, and how long verifying a chain of 10,000 entries takes. Run: python -m bench.bench_audit [URL]
"""

from __future__ import annotations

import sys

import sqlalchemy as sa

from bench.common import median_seconds, report, scratch_engine
from core import audit, db
from core.access import SYSTEM_ACTOR


def main(url: str | None = None) -> None:
    engine = scratch_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS bench_change (id INTEGER PRIMARY KEY, note TEXT)"))
    counter = iter(range(1, 10_000_000))

    def plain_change():
        for _ in range(50):
            with db.session_scope(engine) as s:
                s.execute(sa.text("INSERT INTO bench_change (id, note) VALUES (:i, 'x')"), {"i": next(counter)})

    def audited_change():
        for _ in range(50):
            with db.session_scope(engine) as s:
                i = next(counter)
                s.execute(sa.text("INSERT INTO bench_change (id, note) VALUES (:i, 'x')"), {"i": i})
                audit.record(s, SYSTEM_ACTOR, "bench.change", object_type="bench", object_id=i,
                             before={"note": None}, after={"note": "x"})

    base = median_seconds(plain_change, repeat=5) / 50
    audited = median_seconds(audited_change, repeat=5) / 50
    with db.session_scope(engine) as s:
        for i in range(10_000 - audit.verify_chain(s).entries):
            audit.record(s, SYSTEM_ACTOR, "bench.fill", object_type="bench", object_id=i)

    def verify():
        with db.session_scope(engine) as s:
            assert audit.verify_chain(s).ok

    verify_time = median_seconds(verify, repeat=3)
    report("Audit trail", [("one change, audited (per transaction)", audited, base),
                           ("verify chain of 10,000 entries", verify_time, None)], engine.dialect.name)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
