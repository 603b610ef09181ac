"""Login throttling: many attempts per username or per client are refused before argon2 and before the database.

Why: argon2 is deliberately expensive (tens of milliseconds of CPU per check), so 50 attempts a second would eat a
replica's CPU and starve everybody else; and each failed attempt writes an audit entry, so a flood would flood the
audit chain. The account lockout (five wrong passwords) protects one account's password but still pays argon2 and an
audit entry per attempt. This throttle sits in front of it:

- per username: at most ``MUSKEL_LOGIN_MAX_PER_USER`` attempts per minute (default 10) — someone guessing one
  account's password, from many addresses;
- per client address: at most ``MUSKEL_LOGIN_MAX_PER_CLIENT`` attempts per minute (default 30) — one machine trying
  many usernames. An office behind one NAT address shares this budget; 30 a minute is far above what a morning's
  logins of one office need.

Only attempts that were let through count, so a client that keeps hammering still gets at most the limit through
per minute (sliding window), and a refused attempt costs neither argon2 nor a database write. The first refusal
of a run of refusals (per username or per client) is recorded once as ``auth.throttled``; the rest are not.

State lives in memory, per process (``core.rate_limit``). Behind nginx with ``ip_hash`` a client always reaches
the same replica, so the per-client limit holds for the deployment; the per-username limit holds per replica
(N replicas allow at most N × the limit for one username across many addresses). The account lockout, which is
in the database, still applies on top.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from core.config import load_settings
from core.rate_limit import RateLimiter, whole_seconds

WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds to wait when refused
    limit: str = ""  # "username" or "client" when refused
    first_refusal: bool = False  # the first refusal since this username/client was last let through

    @property
    def message(self) -> str:
        return f"Terlalu banyak percobaan masuk. Coba lagi dalam {self.retry_after} detik."


class LoginThrottle:
    """Per-username and per-client sliding windows, checked and counted together under one lock."""

    def __init__(self, per_user: int, per_client: int, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.by_user = RateLimiter(per_user, window, clock)
        self.by_client = RateLimiter(per_client, window, clock)
        self._refusing: set[tuple[str, str]] = set()  # (limit, key) currently in a run of refusals
        self._lock = threading.Lock()

    def check(self, username: str, client: str) -> Verdict:
        """Let the attempt through (and count it), or refuse it with how long to wait."""
        username = (username or "").strip().lower() or "-"
        client = client or "?"
        now = self.clock()
        with self._lock:
            for limit, limiter, key in (("client", self.by_client, client), ("username", self.by_user, username)):
                wait = limiter.retry_after(key, now)
                if wait > 0:
                    first = (limit, key) not in self._refusing
                    self._refusing.add((limit, key))
                    if len(self._refusing) > 10_000:  # bounded; losing it only means one more audit entry
                        self._refusing.clear()
                    return Verdict(False, whole_seconds(wait), limit, first)
            self.by_client.record(client, now)
            self.by_user.record(username, now)
            self._refusing.discard(("client", client))
            self._refusing.discard(("username", username))
            return Verdict(True)

    def reset(self) -> None:
        with self._lock:
            self.by_user.reset()
            self.by_client.reset()
            self._refusing.clear()


def from_settings() -> LoginThrottle:
    settings = load_settings()
    return LoginThrottle(settings.login_max_per_user, settings.login_max_per_client)


THROTTLE = from_settings()  # the web app's, one per process
