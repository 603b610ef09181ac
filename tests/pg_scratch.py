"""Databases of a test's own on the PostgreSQL server the suite was given (MUSKEL_TEST_POSTGRES_URL).

The URL's own database belongs to the parametrised ``engine`` fixture, which empties it between tests; tests that
need a whole installation (a fresh migration, a restore target, replicas, killed processes) create a database
next to it and drop it afterwards. Without a server the test is skipped — or fails under
``MUSKEL_REQUIRE_POSTGRES=1`` (CI), where a missing PostgreSQL half must never pass silently.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from typing import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url


def _missing(reason: str) -> None:
    if os.environ.get("MUSKEL_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"MUSKEL_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


def server_url() -> str:
    """The suite's PostgreSQL URL (psycopg 3 driver), or skip/fail when none is given."""
    url = os.environ.get("MUSKEL_TEST_POSTGRES_URL")
    if not url:
        _missing("PostgreSQL tidak tersedia (set MUSKEL_TEST_POSTGRES_URL)")
    server = make_url(url)
    if server.drivername in ("postgresql", "postgres"):
        server = server.set(drivername="postgresql+psycopg")
    return server.render_as_string(hide_password=False)


@contextmanager
def scratch_databases(prefix: str, count: int = 1, *, base_url: str | None = None) -> Iterator[list[str]]:
    """``count`` new empty databases named ``<prefix>_<random>[_<n>]``; their URLs; dropped (forcibly) after."""
    server = make_url(base_url or server_url())
    token = secrets.token_hex(4)
    names = [f"{prefix}_{token}" if count == 1 else f"{prefix}_{token}_{n}" for n in range(count)]
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    created: list[str] = []
    try:
        try:
            with admin.connect() as conn:
                for name in names:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                    created.append(name)
        except sa.exc.OperationalError as exc:
            _missing(f"PostgreSQL tidak dapat dihubungi: {exc.orig}")
        yield [server.set(database=name).render_as_string(hide_password=False) for name in names]
    finally:
        from core import db

        for name in created:  # Muskel's cached engines for these databases let go of their connections first
            db.get_engine(server.set(database=name).render_as_string(hide_password=False)).dispose()
        db.get_engine.cache_clear()
        if created:
            with admin.connect() as conn:
                for name in created:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def scratch_database(prefix: str, *, base_url: str | None = None) -> Iterator[str]:
    with scratch_databases(prefix, 1, base_url=base_url) as urls:
        yield urls[0]
