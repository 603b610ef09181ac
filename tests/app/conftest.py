"""Helpers for AppTest page tests: a fresh app, a seeded login, the real login form, and the text on screen.

The pages run against the SQLite test database of tests/conftest.py (``sqlite_only`` empties it).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.access import Actor

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOME = str(PROJECT_ROOT / "Home.py")
ALL_PAGES = sorted(f"pages/{p.name}" for p in (PROJECT_ROOT / "pages").glob("*.py"))


@pytest.fixture(autouse=True)
def _navigation_as_in_a_running_server(monkeypatch):
    """Run Home.py on every AppTest run, as a running server does.

    Streamlit decides per process whether an app uses the legacy ``pages/`` directory (multipage v1): it assumes
    so when a ``pages/`` folder exists, until the first ``st.navigation`` call switches that off for good. AppTest
    resets the flag before every run, so without this each run after the first would execute the page file
    directly — skipping Home.py's login gate, idle timeout, revalidation and autosave, and making
    ``switch_page`` bypass the role's registry. Here the flag is held at "no pages directory", the state a server
    is in from the first page view on.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
    yield
    PagesManager.uses_pages_directory = None


@pytest.fixture(autouse=True)
def _fresh_login_throttle():
    """Every AppTest login comes from the same "client": the process-wide login throttle starts empty per test."""
    from core import login_throttle

    login_throttle.THROTTLE.reset()
    yield


@pytest.fixture
def new_app():
    """``new_app()`` → a not yet run AppTest of Home.py (a new browser tab)."""
    return lambda: AppTest.from_file(HOME, default_timeout=30)


def seed_login(at: AppTest, actor: Actor, *, must_change: bool = False) -> AppTest:
    """Put an existing account's login into the tab's session state, as ui.session.log_in does."""
    at.session_state["_auth"] = {"username": actor.username, "nama": actor.nama, "role": str(actor.role),
                                 "wilayah_kode": actor.wilayah_kode, "must_change": must_change,
                                 "last_seen": time.time()}
    return at


@pytest.fixture
def logged_in(new_app):
    """``logged_in(actor)`` → an AppTest already run once with ``actor`` logged in (on the role's home)."""

    def make(actor: Actor) -> AppTest:
        at = seed_login(new_app(), actor)
        at.run()
        assert not at.exception, at.exception
        return at

    return make


def submit_login(at: AppTest, username: str, password: str) -> AppTest:
    """Fill the login form and press "Masuk" (one run)."""
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    [submit] = [b for b in at.button if b.label == "Masuk"]
    submit.click().run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> list[str]:
    """Every message, heading, caption, label and value the last run put on screen (main area and sidebar)."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        for attr in ("value", "label", "body"):
            try:
                value = getattr(node, attr)
            except Exception:  # noqa: BLE001 - not every element has every attribute
                continue
            if isinstance(value, str):
                out.append(value)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


def screen_text(at: AppTest) -> str:
    return "\n".join(texts(at))


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]
