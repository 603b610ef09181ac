"""Password hashing (argon2id through argon2-cffi), the password rule, and temporary passwords."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import InvalidInput

MIN_LENGTH = 10
_hasher = PasswordHasher()
# Unambiguous characters only: a temporary password is often read out over the phone.
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_rule(password: str, *, field: str = "kata_sandi") -> None:
    """At least 10 characters and not only spaces."""
    if not password or not password.strip():
        raise InvalidInput("Kata sandi wajib diisi.", code="password_empty", field=field)
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"Kata sandi terlalu pendek: minimal {MIN_LENGTH} karakter (sekarang {len(password)}).",
            code="password_too_short", field=field,
        )


def temporary_password() -> str:
    """Three groups of four, e.g. ``k7mr-x2pd-9tqa``: 14 characters, easy to dictate."""
    return "-".join("".join(secrets.choice(_TEMP_ALPHABET) for _ in range(4)) for _ in range(3))


# A fixed hash to verify against when the username is unknown, so both paths take the same time.
DUMMY_HASH = _hasher.hash("muskel-dummy-password")
