"""Inserting tens of thousands of rows inside the current transaction, at the database's own speed.

Why: a DTSEN import writes ~30,000 families and ~100,000 persons in one transaction. Through SQLAlchemy's
per-row parameter handling that costs several seconds of Python; here the rows go to the driver as plain tuples —
PostgreSQL's COPY, SQLite's ``executemany`` — on the connection of the caller's transaction, so all-or-nothing
still holds. Values pass through the columns' own bind processors (dates and UTC timestamps are stored exactly as
the ORM stores them).
"""

from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa


def insert_columns(conn: sa.Connection, table: sa.Table, columns: dict[str, Sequence]) -> None:
    """Insert rows given column-wise (``{column: values}``, all of one length) into ``table``."""
    names = list(columns)
    if not names:
        return
    values = []
    for name in names:
        process = table.c[name].type.bind_processor(conn.dialect)
        column = columns[name]
        values.append([None if v is None else process(v) for v in column] if process else column)
    rows = list(zip(*values))
    if not rows:
        return
    quote = conn.dialect.identifier_preparer
    target = f"{quote.format_table(table)} ({', '.join(quote.quote(n) for n in names)})"
    cursor = conn.connection.driver_connection.cursor()
    try:
        if conn.dialect.name == "postgresql":
            with cursor.copy(f"COPY {target} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {target} VALUES ({', '.join('?' * len(names))})", rows)
    finally:
        cursor.close()
