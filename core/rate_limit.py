"""One sliding-window limiter for everything Muskel counts per client or per name (verification checks, logins).

In memory and per process: a replica behind nginx's ``ip_hash`` always sees the same client, so a per-client limit
holds for the whole deployment; a per-name limit (e.g. per username) holds per replica. Memory stays bounded:
keys idle for a whole window are forgotten once there are many of them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from typing import Callable

_FORGET_ABOVE = 10_000  # keys; beyond this, idle keys are dropped on the next hit


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds per key."""

    def __init__(self, limit: int = 20, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[str, deque] = {}
        self._lock = threading.RLock()

    def _live(self, key: str, now: float) -> deque:
        hits = self._hits.setdefault(key or "?", deque())
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        return hits

    def retry_after(self, key: str, now: float | None = None) -> float:
        """0 when ``key`` may hit now, otherwise the seconds until its oldest hit leaves the window."""
        now = self.clock() if now is None else now
        with self._lock:
            hits = self._live(key, now)
            return 0.0 if len(hits) < self.limit else max(0.0, hits[0] + self.window - now)

    def record(self, key: str, now: float | None = None) -> None:
        """Count a hit without asking (the caller checked ``retry_after`` under its own rule)."""
        now = self.clock() if now is None else now
        with self._lock:
            self._live(key, now).append(now)
            if len(self._hits) > _FORGET_ABOVE:
                for k in [k for k, v in self._hits.items() if not v or now - v[-1] >= self.window]:
                    del self._hits[k]

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count and allow the hit, or refuse it (a refused hit is not counted)."""
        now = self.clock() if now is None else now
        with self._lock:
            if self.retry_after(key, now) > 0:
                return False
            self.record(key, now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def __len__(self) -> int:
        return len(self._hits)


def whole_seconds(seconds: float) -> int:
    """A wait told to people: whole seconds, rounded up, at least one."""
    return max(1, math.ceil(seconds))
