"""What the production deployment test needs from the machine: nginx, a PostgreSQL server and Chromium.

Each is skipped when missing — unless CI says it is required: ``MUSKEL_REQUIRE_BROWSER=1`` for nginx and
Chromium, ``MUSKEL_REQUIRE_POSTGRES=1`` for PostgreSQL; then a missing one fails the run (the pattern of
tests/browser/conftest.py and tests/conftest.py).
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tests.browser.conftest import CHROMIUM


def _missing(flag: str, reason: str) -> None:
    if os.environ.get(flag) == "1":
        pytest.fail(f"{flag}=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        _missing("MUSKEL_REQUIRE_BROWSER", "nginx tidak ada (pasang paket Debian 'nginx')")
    return found


@pytest.fixture(scope="session")
def deploy_chromium() -> str:
    if not CHROMIUM.exists():
        _missing("MUSKEL_REQUIRE_BROWSER", f"{CHROMIUM} tidak ada (pasang paket Debian 'chromium')")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("MUSKEL_REQUIRE_BROWSER", "paket Python 'playwright' tidak terpasang")
    return str(CHROMIUM)


@pytest.fixture
def deploy_database() -> Iterator[str]:
    """A database of this test's own on the server of MUSKEL_TEST_POSTGRES_URL, dropped afterwards. The URL's
    own database is never touched (other tests drop its schema)."""
    url = os.environ.get("MUSKEL_TEST_POSTGRES_URL")
    if not url:
        _missing("MUSKEL_REQUIRE_POSTGRES", "PostgreSQL tidak tersedia (set MUSKEL_TEST_POSTGRES_URL)")
    server = make_url(url)
    if server.drivername in ("postgresql", "postgres"):
        server = server.set(drivername="postgresql+psycopg")
    name = f"muskel_deploy_{secrets.token_hex(4)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        _missing("MUSKEL_REQUIRE_POSTGRES", f"PostgreSQL tidak dapat dihubungi: {exc.orig}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
