"""Login floods (core.login_throttle through core.accounts.authenticate) on SQLite and PostgreSQL.

What an operator notices: 50 attempts a second neither reach argon2 nor the audit log more than the limits allow;
the refused see "Terlalu banyak percobaan masuk. Coba lagi dalam N detik."; other people keep logging in; the
window slides (an injected clock, no sleeping). Oracles: a counter around core.passwords.verify_password and plain
SQL on the audit and account tables.
"""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from core import accounts, passwords
from core.login_throttle import LoginThrottle
from core.rate_limit import RateLimiter

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
PASSWORD = "rahasia-sekali"
KAYU_MANIS = "31.75.01.1003"
THROTTLED = re.compile(r"^Terlalu banyak percobaan masuk\. Coba lagi dalam (\d+) detik\.$")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def argon2_calls(monkeypatch):
    """How many times a password was really verified (the expensive step the throttle must spare)."""
    calls = []
    real = passwords.verify_password

    def counting(stored, given):
        calls.append(stored)
        return real(stored, given)

    monkeypatch.setattr(passwords, "verify_password", counting)
    return calls


def _attempt(engine, throttle, username, password, client):
    from core import db

    with db.session_scope(engine) as session:
        return accounts.authenticate(username, password, session=session, throttle=throttle, client=client)


def _audit(engine, action: str, object_id: str | None = None) -> int:
    sql = "SELECT count(*) FROM auditentry WHERE action = :a" + (" AND object_id = :o" if object_id else "")
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), {"a": action, "o": object_id}).scalar_one()


def _failed_attempts(engine, username: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT failed_attempts FROM user_account WHERE username = :u"),
                            {"u": username}).scalar_one()


def test_fifty_attempts_a_second_on_one_username_mostly_refused_before_argon2(engine, make_account, argon2_calls):
    """Guards: a flood on one account (from many addresses) reaches argon2 at most the per-username limit, writes
    a bounded number of audit entries, and someone else from another client still logs in at once."""
    make_account(engine, "lurah.x", "lurah", KAYU_MANIS, password=PASSWORD)
    make_account(engine, "operator.y", "operator", KAYU_MANIS, password=PASSWORD)
    clock = Clock()
    throttle = LoginThrottle(per_user=10, per_client=30, clock=clock)
    argon2_calls.clear()
    outcomes = []
    for i in range(50):  # 50 attempts within one second, each from its own address
        clock.now += 0.02
        outcomes.append(_attempt(engine, throttle, "lurah.x", f"tebakan-{i:04d}", f"10.1.0.{i}"))

    throttled = [o for o in outcomes if o.error and o.error.code == "login_throttled"]
    assert len(throttled) == 40
    assert all(THROTTLED.match(o.error.message) for o in throttled)
    assert {int(THROTTLED.match(o.error.message).group(1)) for o in throttled} <= set(range(59, 61))
    assert all(o.actor is None for o in outcomes)
    # Five wrong passwords lock the account (argon2 five times); the next five meet the lock; the rest the throttle.
    assert len(argon2_calls) <= 10
    assert _failed_attempts(engine, "lurah.x") == 5
    assert _audit(engine, "auth.throttled", "lurah.x") == 1
    with engine.connect() as conn:
        entries = conn.execute(sa.text("SELECT count(*) FROM auditentry WHERE object_id = 'lurah.x' "
                                       "AND action LIKE 'auth.%'")).scalar_one()
    assert entries <= 10 + 1 + 1  # the ten let through, the lock, one for the whole run of refusals

    argon2_calls.clear()
    other = _attempt(engine, throttle, "operator.y", PASSWORD, "10.2.0.1")
    assert other.actor is not None and other.actor.username == "operator.y"
    assert len(argon2_calls) == 1


def test_right_password_over_the_username_limit_waits_too(engine, make_account, argon2_calls):
    """Guards: the throttle comes before the password check — even the right password is refused while the
    username's window is full (otherwise a guesser learns from which attempt succeeds)."""
    make_account(engine, "lurah.x", "lurah", KAYU_MANIS, password=PASSWORD)
    clock = Clock()
    throttle = LoginThrottle(per_user=3, per_client=30, clock=clock)
    for i in range(3):
        assert _attempt(engine, throttle, "lurah.x", PASSWORD, f"10.0.0.{i}").actor is not None
    argon2_calls.clear()
    refused = _attempt(engine, throttle, "Lurah.X ", PASSWORD, "10.0.0.9")  # spelling does not escape it
    assert refused.actor is None and refused.error.code == "login_throttled"
    assert argon2_calls == []


def test_one_client_trying_many_usernames_is_limited_per_client(engine, make_account, argon2_calls):
    """Guards: one address cycling through 50 usernames (none known) reaches argon2 only up to the per-client
    limit; the refused ones write nothing but one audit entry; another client is unaffected."""
    make_account(engine, "operator.y", "operator", KAYU_MANIS, password=PASSWORD)
    clock = Clock()
    throttle = LoginThrottle(per_user=10, per_client=30, clock=clock)
    argon2_calls.clear()
    codes = []
    for i in range(50):
        clock.now += 0.02
        codes.append(_attempt(engine, throttle, f"tamu{i:03d}", "apa-saja-123", "203.0.113.7").error.code)
    assert codes.count("login_throttled") == 20
    assert codes[:30] == ["bad_credentials"] * 30
    assert len(argon2_calls) == 30
    assert _audit(engine, "auth.login_failed") == 30
    assert _audit(engine, "auth.throttled") == 1
    with engine.connect() as conn:
        detail = conn.execute(sa.text("SELECT after FROM auditentry WHERE action = 'auth.throttled'")).scalar_one()
    assert json.loads(detail) == {"batas": "client", "klien": "203.0.113.7", "coba_lagi_detik": 60}

    ok = _attempt(engine, throttle, "operator.y", PASSWORD, "198.51.100.2")
    assert ok.actor is not None


def test_window_slides_and_each_run_of_refusals_is_recorded_once(engine, make_account, argon2_calls):
    """Guards: the wait told is the real one and counts down; after it the user logs in; a new flood later is a
    new run with its own single audit entry. No sleeping: the clock is injected."""
    make_account(engine, "lurah.x", "lurah", KAYU_MANIS, password=PASSWORD)
    clock = Clock()
    throttle = LoginThrottle(per_user=2, per_client=30, window=60, clock=clock)
    assert _attempt(engine, throttle, "lurah.x", PASSWORD, "a").actor
    clock.now += 10
    assert _attempt(engine, throttle, "lurah.x", PASSWORD, "b").actor
    clock.now += 5  # 15 s after the first attempt: 45 s until it leaves the window
    refused = _attempt(engine, throttle, "lurah.x", PASSWORD, "c")
    assert THROTTLED.match(refused.error.message).group(1) == "45"
    clock.now += 44.5
    assert THROTTLED.match(_attempt(engine, throttle, "lurah.x", PASSWORD, "c").error.message).group(1) == "1"
    clock.now += 0.5  # the first attempt has left the window
    assert _attempt(engine, throttle, "lurah.x", PASSWORD, "c").actor
    assert _audit(engine, "auth.throttled", "lurah.x") == 1

    assert _attempt(engine, throttle, "lurah.x", PASSWORD, "c").error.code == "login_throttled"  # a new run
    assert _attempt(engine, throttle, "lurah.x", PASSWORD, "c").error.code == "login_throttled"
    assert _audit(engine, "auth.throttled", "lurah.x") == 2


def test_limiter_counts_per_key_and_refused_hits_do_not_count():
    """Guards: the shared limiter (also the verification page's) counts keys apart, and refusing a hit does not
    push the wait further out."""
    clock = Clock()
    limiter = RateLimiter(limit=1, window=60, clock=clock)
    assert limiter.allow("x") and not limiter.allow("x") and limiter.allow("y")
    clock.now += 30
    assert not limiter.allow("x")
    assert limiter.retry_after("x") == 30
    clock.now += 30
    assert limiter.allow("x")


def test_limiter_memory_stays_bounded():
    """Guards: a flood of distinct keys (random usernames) does not keep memory once the keys are idle."""
    clock = Clock()
    limiter = RateLimiter(limit=5, window=60, clock=clock)
    for i in range(10_500):
        limiter.allow(f"nama{i}")
    assert len(limiter) == 10_500  # all still within their window
    clock.now += 61
    limiter.allow("terakhir")
    assert len(limiter) == 1
