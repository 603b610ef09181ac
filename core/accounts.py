"""Accounts: login with lockout, password changes, and the admin's account management — each step audited.

Rules: passwords of at least 10 characters, hashed with argon2; accounts created or reset by an admin get a
temporary password that must be changed at first login; five wrong passwords lock an account for 15 minutes
(an admin may unlock it earlier); a disabled account cannot log in. Floods of attempts are throttled before any of
this (``core.login_throttle``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from core import audit, passwords, wilayah
from core.access import ROLE_LABELS, ROLE_LEVELS, Action, Actor, Role, require, scope_filter
from core.errors import InvalidInput, MuskelError, NotFound, StaleEdit
from core.login_throttle import LoginThrottle
from core.models import User
from core.timefmt import jam, utcnow

MAX_FAILED_ATTEMPTS = 5
LOCK_DURATION = timedelta(minutes=15)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
PROFILE_FIELDS = ("nama", "nip", "jabatan", "telepon")


class LoginRefused(MuskelError):
    code = "login_failed"


def actor_for(user: User, channel: str = "web") -> Actor:
    return Actor(username=user.username, nama=user.nama, role=Role(user.role), wilayah_kode=user.wilayah_kode,
                 channel=channel)


def public_view(user: User) -> dict:
    """What an account looks like to people and to the audit log (never the hash)."""
    return {
        "username": user.username, "nama": user.nama, "role": user.role, "wilayah": user.wilayah_kode,
        "nip": user.nip, "jabatan": user.jabatan, "telepon": user.telepon, "aktif": user.is_active,
        "wajib_ganti_sandi": user.must_change_password,
        "terkunci_sampai": user.locked_until.isoformat() if user.locked_until else None,
        "demo": user.is_demo, "version": user.version,
    }


def _touch(user: User) -> None:
    user.updated_at = utcnow()
    user.version += 1


def get_user(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"Akun {username!r} tidak ditemukan.", code="unknown_account", field="username")
    return user


# --- login ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    """The result of a login attempt; failures are recorded, so the caller must commit either way."""

    actor: Actor | None
    must_change_password: bool = False
    error: LoginRefused | None = None


def authenticate(username: str, password: str, *, session: Session, channel: str = "web",
                 throttle: LoginThrottle | None = None, client: str = "") -> LoginOutcome:
    """Check a login. With a ``throttle`` (the web app's), an attempt over the per-username or per-client limit is
    refused first — without argon2 and without a database write, except one ``auth.throttled`` entry per run of
    refusals."""
    username = (username or "").strip().lower()
    if throttle is not None:
        verdict = throttle.check(username, client)
        if not verdict.allowed:
            if verdict.first_refusal:
                audit.record(session, _anonymous(username, channel), "auth.throttled", object_type="user",
                             object_id=username or "-", after={"batas": verdict.limit, "klien": client or "?",
                                                               "coba_lagi_detik": verdict.retry_after})
            return LoginOutcome(None, error=LoginRefused(verdict.message, code="login_throttled"))
    user = session.exec(select(User).where(User.username == username)).first() if username else None
    if user is None:
        passwords.verify_password(passwords.DUMMY_HASH, password or "")  # same cost as a real check
        audit.record(session, _anonymous(username, channel), "auth.login_failed", object_type="user",
                     object_id=username or "-", after={"alasan": "unknown_account"})
        return LoginOutcome(None, error=LoginRefused("Nama pengguna atau kata sandi salah.", code="bad_credentials"))

    now = utcnow()
    if not user.is_active:
        # Only someone who knows the password learns that the account exists and is disabled.
        if not passwords.verify_password(user.password_hash, password or ""):
            audit.record(session, actor_for(user, channel), "auth.login_failed", object_type="user",
                         object_id=user.username, wilayah_kode=user.wilayah_kode,
                         after={"alasan": "account_disabled"})
            return LoginOutcome(None, error=LoginRefused("Nama pengguna atau kata sandi salah.",
                                                         code="bad_credentials"))
        audit.record(session, actor_for(user, channel), "auth.login_failed", object_type="user",
                     object_id=user.username, wilayah_kode=user.wilayah_kode, after={"alasan": "account_disabled"})
        return LoginOutcome(None, error=LoginRefused(
            "Akun ini dinonaktifkan. Hubungi administrator Muskel di kantor Anda.", code="account_disabled"))
    if user.locked_until and user.locked_until > now:
        audit.record(session, actor_for(user, channel), "auth.login_failed", object_type="user",
                     object_id=user.username, wilayah_kode=user.wilayah_kode, after={"alasan": "account_locked"})
        return LoginOutcome(None, error=LoginRefused(
            f"Akun terkunci karena {MAX_FAILED_ATTEMPTS} kali salah kata sandi. Coba lagi setelah pukul "
            f"{jam(user.locked_until)}, atau minta administrator membukanya.", code="account_locked"))

    if not passwords.verify_password(user.password_hash, password or ""):
        if user.locked_until and user.locked_until <= now:
            user.failed_attempts = 0  # the previous lock has run out: count afresh
            user.locked_until = None
        user.failed_attempts += 1
        locked = user.failed_attempts >= MAX_FAILED_ATTEMPTS
        if locked:
            user.locked_until = now + LOCK_DURATION
        session.add(user)
        audit.record(session, actor_for(user, channel), "auth.login_failed", object_type="user",
                     object_id=user.username, wilayah_kode=user.wilayah_kode,
                     after={"alasan": "wrong_password", "percobaan": user.failed_attempts})
        if locked:
            audit.record(session, actor_for(user, channel), "auth.locked", object_type="user",
                         object_id=user.username, wilayah_kode=user.wilayah_kode,
                         after={"terkunci_sampai": user.locked_until.isoformat()})
            return LoginOutcome(None, error=LoginRefused(
                f"Kata sandi salah {MAX_FAILED_ATTEMPTS} kali: akun dikunci sampai pukul {jam(user.locked_until)}.",
                code="account_locked"))
        left = MAX_FAILED_ATTEMPTS - user.failed_attempts
        return LoginOutcome(None, error=LoginRefused(
            f"Nama pengguna atau kata sandi salah. Sisa percobaan sebelum akun dikunci: {left}.",
            code="bad_credentials"))

    user.failed_attempts = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(user)
    audit.record(session, actor_for(user, channel), "auth.login", object_type="user", object_id=user.username,
                 wilayah_kode=user.wilayah_kode)
    return LoginOutcome(actor_for(user, channel), must_change_password=user.must_change_password)


def _anonymous(username: str, channel: str) -> Actor:
    """Whoever typed an unknown username: recorded under that name, with no role."""
    return Actor(username=username or "-", nama="", role="-", wilayah_kode="31", channel=channel)  # type: ignore[arg-type]


def logout(*, actor: Actor, session: Session, reason: str = "logout") -> None:
    """``reason`` is ``logout`` (the user's choice) or ``idle_timeout``."""
    audit.record(session, actor, "auth.logout", object_type="user", object_id=actor.username,
                 wilayah_kode=actor.wilayah_kode, after={"alasan": reason})


def still_allowed(username: str, *, session: Session) -> Actor | None:
    """The current actor for a logged-in session, or None when the account was disabled or changed meanwhile."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.is_active:
        return None
    return actor_for(user)


# --- own account -------------------------------------------------------------------------------------------


def change_own_password(old: str, new: str, confirm: str, *, actor: Actor, session: Session) -> None:
    user = get_user(session, actor.username)
    if not passwords.verify_password(user.password_hash, old or ""):
        raise InvalidInput("Kata sandi lama salah.", code="wrong_old_password", field="kata_sandi_lama")
    passwords.check_rule(new, field="kata_sandi_baru")
    if new != confirm:
        raise InvalidInput("Ulangan kata sandi baru tidak sama.", code="password_mismatch", field="ulangi_kata_sandi")
    if new == old:
        raise InvalidInput("Kata sandi baru harus berbeda dari yang lama.", code="password_unchanged",
                           field="kata_sandi_baru")
    user.password_hash = passwords.hash_password(new)
    user.must_change_password = False
    _touch(user)
    session.add(user)
    audit.record(session, actor, "auth.password_changed", object_type="user", object_id=user.username,
                 wilayah_kode=user.wilayah_kode)


def own_profile(*, actor: Actor, session: Session) -> dict:
    return public_view(get_user(session, actor.username))


def update_own_profile(changes: dict, *, expected_version: int, actor: Actor, session: Session) -> dict:
    """Change name, NIP, jabatan and phone; refuses when the account changed since it was loaded."""
    user = get_user(session, actor.username)
    session.refresh(user, with_for_update=True)
    if user.version != expected_version:
        raise StaleEdit("Profil Anda diubah di tempat lain sejak halaman ini dibuka. Muat ulang lalu ulangi.")
    before = public_view(user)
    _apply_profile(user, changes)
    _touch(user)
    session.add(user)
    old, new = audit.diff(before, public_view(user), PROFILE_FIELDS)
    audit.record(session, actor, "account.profile_updated", object_type="user", object_id=user.username,
                 wilayah_kode=user.wilayah_kode, before=old, after=new)
    return public_view(user)


def _apply_profile(user: User, changes: dict) -> None:
    nama = (changes.get("nama", user.nama) or "").strip()
    if not nama:
        raise InvalidInput("Nama lengkap wajib diisi.", code="name_empty", field="nama")
    nip = (changes.get("nip", user.nip) or "").replace(" ", "")
    if nip and not re.fullmatch(r"\d{18}", nip):
        raise InvalidInput("NIP harus 18 angka tanpa spasi (atau kosongkan bila bukan ASN).", code="nip_invalid",
                           field="nip")
    telepon = (changes.get("telepon", user.telepon) or "").strip()
    if telepon and not re.fullmatch(r"\+?[0-9 ()-]{6,20}", telepon):
        raise InvalidInput("Nomor telepon hanya boleh berisi angka, spasi, +, - dan tanda kurung.",
                           code="phone_invalid", field="telepon")
    user.nama = nama
    user.nip = nip
    user.jabatan = (changes.get("jabatan", user.jabatan) or "").strip()
    user.telepon = telepon


# --- administration ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAccount:
    username: str
    nama: str
    role: str
    wilayah_kode: str
    nip: str = ""
    jabatan: str = ""
    telepon: str = ""


def validate_new_account(data: NewAccount, *, session: Session) -> None:
    username = data.username or ""
    if not username.strip():
        raise InvalidInput("Nama pengguna wajib diisi.", code="username_empty", field="username")
    if any(ch.isspace() for ch in username):
        raise InvalidInput("Nama pengguna tidak boleh mengandung spasi; gunakan titik, misalnya lurah.kayumanis.",
                           code="username_has_space", field="username")
    if not USERNAME_RE.fullmatch(username):
        raise InvalidInput("Nama pengguna 3–64 karakter: huruf kecil, angka, titik, garis bawah atau tanda hubung.",
                           code="username_invalid", field="username")
    if session.exec(select(User).where(User.username == username)).first():
        raise InvalidInput(f"Nama pengguna {username!r} sudah dipakai.", code="username_taken", field="username")
    if data.role not in {r.value for r in Role}:
        raise InvalidInput(f"Peran {data.role!r} tidak dikenal. Pilihan: {', '.join(r.value for r in Role)}.",
                           code="unknown_role", field="role")
    check_role_level(data.role, data.wilayah_kode, session=session)


def check_role_level(role: str, wilayah_kode: str, *, session: Session) -> None:
    place = wilayah.require_known(session, wilayah_kode)
    allowed = ROLE_LEVELS[Role(role)]
    if place.tingkat not in allowed:
        levels = " atau ".join(sorted(allowed))
        raise InvalidInput(
            f"Peran {ROLE_LABELS[Role(role)]} ditempatkan di tingkat {levels}, sedangkan {wilayah.full_name(place)} "
            f"adalah {place.tingkat}.", code="role_level_mismatch", field="wilayah")


def create_account(data: NewAccount, *, actor: Actor, session: Session, password: str | None = None,
                   must_change: bool = True, demo: bool = False) -> tuple[dict, str | None]:
    """Create an account; without ``password`` a temporary one is generated and returned (shown once)."""
    require(actor, Action.ACCOUNT_MANAGE, actor.wilayah_kode)
    data = NewAccount(**{k: (v.strip() if isinstance(v, str) else v) for k, v in data.__dict__.items()})
    validate_new_account(data, session=session)
    require(actor, Action.ACCOUNT_MANAGE, data.wilayah_kode)
    temporary = None
    if password is None:
        temporary = password = passwords.temporary_password()
        must_change = True
    passwords.check_rule(password)
    user = User(username=data.username, nama="?", role=data.role, wilayah_kode=data.wilayah_kode,
                password_hash=passwords.hash_password(password), must_change_password=must_change, is_demo=demo)
    _apply_profile(user, {"nama": data.nama, "nip": data.nip, "jabatan": data.jabatan, "telepon": data.telepon})
    session.add(user)
    session.flush()
    audit.record(session, actor, "account.created", object_type="user", object_id=user.username,
                 wilayah_kode=user.wilayah_kode, after=public_view(user))
    return public_view(user), temporary


def list_accounts(*, actor: Actor, session: Session, wilayah_kode: str | None = None) -> list[dict]:
    """Accounts within the actor's scope (the admin's scope is the province)."""
    scope = wilayah_kode or actor.wilayah_kode
    require(actor, Action.WILAYAH_VIEW, scope)
    users = session.exec(select(User).where(scope_filter(User.wilayah_kode, scope)).order_by(User.username)).all()
    return [public_view(u) for u in users]


def _managed_user(username: str, *, actor: Actor, session: Session, expected_version: int | None) -> User:
    user = get_user(session, username)
    session.refresh(user, with_for_update=True)  # the version check must see the committed row
    require(actor, Action.ACCOUNT_MANAGE, user.wilayah_kode)
    if expected_version is not None and user.version != expected_version:
        raise StaleEdit(f"Akun {username} telah diubah orang lain sejak daftar dimuat. Muat ulang lalu ulangi.")
    return user


def reset_password(username: str, *, actor: Actor, session: Session, expected_version: int | None = None) -> str:
    """Give the account a new temporary password (returned once) and force a change at next login."""
    user = _managed_user(username, actor=actor, session=session, expected_version=expected_version)
    temporary = passwords.temporary_password()
    user.password_hash = passwords.hash_password(temporary)
    user.must_change_password = True
    user.failed_attempts = 0
    user.locked_until = None
    _touch(user)
    session.add(user)
    audit.record(session, actor, "account.password_reset", object_type="user", object_id=user.username,
                 wilayah_kode=user.wilayah_kode)
    return temporary


def unlock(username: str, *, actor: Actor, session: Session, expected_version: int | None = None) -> dict:
    user = _managed_user(username, actor=actor, session=session, expected_version=expected_version)
    before = public_view(user)
    user.failed_attempts = 0
    user.locked_until = None
    _touch(user)
    session.add(user)
    audit.record(session, actor, "account.unlocked", object_type="user", object_id=user.username,
                 wilayah_kode=user.wilayah_kode, before={"terkunci_sampai": before["terkunci_sampai"]},
                 after={"terkunci_sampai": None})
    return public_view(user)


def set_active(username: str, active: bool, *, actor: Actor, session: Session,
               expected_version: int | None = None) -> dict:
    user = _managed_user(username, actor=actor, session=session, expected_version=expected_version)
    if user.username == actor.username and not active:
        raise InvalidInput("Anda tidak dapat menonaktifkan akun Anda sendiri.", code="self_disable", field="username")
    before = user.is_active
    user.is_active = active
    _touch(user)
    session.add(user)
    audit.record(session, actor, "account.enabled" if active else "account.disabled", object_type="user",
                 object_id=user.username, wilayah_kode=user.wilayah_kode, before={"aktif": before},
                 after={"aktif": active})
    return public_view(user)


def change_role(username: str, role: str, wilayah_kode: str, *, actor: Actor, session: Session,
                expected_version: int | None = None) -> dict:
    user = _managed_user(username, actor=actor, session=session, expected_version=expected_version)
    if role not in {r.value for r in Role}:
        raise InvalidInput(f"Peran {role!r} tidak dikenal.", code="unknown_role", field="role")
    check_role_level(role, wilayah_kode, session=session)
    require(actor, Action.ACCOUNT_MANAGE, wilayah_kode)
    if user.username == actor.username and role != user.role:
        raise InvalidInput("Anda tidak dapat mengubah peran akun Anda sendiri.", code="self_role_change",
                           field="role")
    before = {"role": user.role, "wilayah": user.wilayah_kode}
    user.role = role
    user.wilayah_kode = wilayah_kode
    _touch(user)
    session.add(user)
    audit.record(session, actor, "account.role_changed", object_type="user", object_id=user.username,
                 wilayah_kode=wilayah_kode, before=before, after={"role": role, "wilayah": wilayah_kode})
    return public_view(user)
