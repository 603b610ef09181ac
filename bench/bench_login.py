"""Cost of a login: argon2 verification dominates by design (it is what makes stolen hashes expensive).

Baseline: a SHA-256 of the same password, measured in the same run. Run: python -m bench.bench_login
"""

from __future__ import annotations

import hashlib

from bench.common import median_seconds, report
from core import passwords


def main() -> None:
    stored = passwords.hash_password("kata-sandi-uji-coba")
    argon = median_seconds(lambda: passwords.verify_password(stored, "kata-sandi-uji-coba"), repeat=9)
    sha = median_seconds(lambda: hashlib.sha256(b"kata-sandi-uji-coba").hexdigest(), repeat=9)
    report("Login", [("argon2id verify (one login)", argon, sha)], "none")


if __name__ == "__main__":
    main()
