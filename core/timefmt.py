"""Time in UTC for storage, and Indonesian formats (WIB) for people.

Stored timestamps are always timezone-aware UTC; what people read is Asia/Jakarta time written the Indonesian way.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

WIB = ZoneInfo("Asia/Jakarta")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """A naive value read back from SQLite is UTC by construction."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def tanggal(value: date | datetime) -> str:
    """``28 November 2026``"""
    if isinstance(value, datetime):
        value = as_utc(value).astimezone(WIB).date()
    return format_date(value, "d MMMM y", locale="id")


def tanggal_hari(value: date | datetime) -> str:
    """``Sabtu, 28 November 2026``"""
    if isinstance(value, datetime):
        value = as_utc(value).astimezone(WIB).date()
    return format_date(value, "EEEE, d MMMM y", locale="id")


def waktu(value: datetime | None) -> str:
    """``28 November 2026 15.45 WIB``; an empty value reads as a dash."""
    if value is None:
        return "–"
    local = as_utc(value).astimezone(WIB)
    return format_datetime(local, "d MMMM y HH.mm", locale="id") + " WIB"


def jam(value: datetime) -> str:
    """``15.45 WIB``"""
    return as_utc(value).astimezone(WIB).strftime("%H.%M") + " WIB"


def angka(n: int | float) -> str:
    """``2033`` → ``2.033`` (Indonesian digit grouping)."""
    from babel.numbers import format_decimal

    return format_decimal(n, locale="id")
