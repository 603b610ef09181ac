"""What a throttled login attempt costs compared with one that reaches argon2 (issue #9, 50 attempts a second).

A refused attempt is answered from the in-memory sliding windows (core.login_throttle) before argon2 and before
the database; the baseline is the argon2id verification every admitted attempt pays, measured in the same run.
Run: python -m bench.bench_login_throttle
"""

from __future__ import annotations

from bench.common import median_seconds, report
from core import passwords
from core.login_throttle import LoginThrottle


def main() -> None:
    stored = passwords.hash_password("kata-sandi-uji-coba")
    throttle = LoginThrottle(per_user=10, per_client=30)
    for i in range(10):
        throttle.check("lurah.x", f"10.0.0.{i}")  # the username's window is now full
    refused = median_seconds(lambda: throttle.check("lurah.x", "10.0.1.1"), repeat=201)
    argon = median_seconds(lambda: passwords.verify_password(stored, "kata-sandi-uji-coba"), repeat=9)
    assert not throttle.check("lurah.x", "10.0.1.1").allowed
    report("Login throttle", [("refused attempt (throttle only) vs argon2id verify", refused, argon,
                                f"refused: {refused * 1e6:.1f} µs")], "none")


if __name__ == "__main__":
    main()
