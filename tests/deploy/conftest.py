"""What the production deployment test needs from the machine: nginx, a PostgreSQL server and Chromium.

Each is skipped when missing — unless CI says it is required: ``MUSKEL_REQUIRE_BROWSER=1`` for nginx and
Chromium, ``MUSKEL_REQUIRE_POSTGRES=1`` for PostgreSQL; then a missing one fails the run (the pattern of
tests/browser/conftest.py and tests/conftest.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser.conftest import CHROMIUM
from tests.pg_scratch import scratch_database


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
    """A database of this test's own on the suite's PostgreSQL server, dropped afterwards."""
    with scratch_database("muskel_deploy") as url:
        yield url
