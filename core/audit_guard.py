"""The database refuses to change or remove audit entries: UPDATE and DELETE on ``auditentry`` raise.

This makes tampering evident rather than merely unlikely: an attacker must first drop the trigger, and a chain
recomputed after that is still caught by the checkpoint kept outside the database (``core.audit_checkpoint``).
The same statements are used by the migration that installs the guard and by tests that must empty the table.
"""

from __future__ import annotations

import sqlalchemy as sa

MESSAGE = "Log audit tidak dapat diubah atau dihapus."

SQLITE_INSTALL = [
    f"CREATE TRIGGER IF NOT EXISTS auditentry_no_update BEFORE UPDATE ON auditentry "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS auditentry_no_delete BEFORE DELETE ON auditentry "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
SQLITE_REMOVE = ["DROP TRIGGER IF EXISTS auditentry_no_update", "DROP TRIGGER IF EXISTS auditentry_no_delete"]

POSTGRES_INSTALL = [
    "CREATE OR REPLACE FUNCTION auditentry_refuse_change() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$",
    "DROP TRIGGER IF EXISTS auditentry_no_change ON auditentry",
    "CREATE TRIGGER auditentry_no_change BEFORE UPDATE OR DELETE ON auditentry "
    "FOR EACH ROW EXECUTE FUNCTION auditentry_refuse_change()",
    "DROP TRIGGER IF EXISTS auditentry_no_truncate ON auditentry",
    "CREATE TRIGGER auditentry_no_truncate BEFORE TRUNCATE ON auditentry "
    "FOR EACH STATEMENT EXECUTE FUNCTION auditentry_refuse_change()",
]
POSTGRES_REMOVE = ["DROP TRIGGER IF EXISTS auditentry_no_change ON auditentry",
                   "DROP TRIGGER IF EXISTS auditentry_no_truncate ON auditentry",
                   "DROP FUNCTION IF EXISTS auditentry_refuse_change()"]


def statements(dialect: str, *, install: bool) -> list[str]:
    if dialect == "postgresql":
        return POSTGRES_INSTALL if install else POSTGRES_REMOVE
    return SQLITE_INSTALL if install else SQLITE_REMOVE


def install(conn: sa.Connection) -> None:
    for statement in statements(conn.dialect.name, install=True):
        conn.execute(sa.text(statement))


def remove(conn: sa.Connection) -> None:
    for statement in statements(conn.dialect.name, install=False):
        conn.execute(sa.text(statement))
