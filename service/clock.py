"""One place that says what time it is, so tests can travel in time (time-machine patches it)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def utcnow() -> datetime:
    return datetime.now(UTC)


_KNOWN: set[str] | None = None


def is_valid_timezone(name: str) -> bool:
    global _KNOWN
    if _KNOWN is None:
        _KNOWN = available_timezones()
    if name in _KNOWN:
        return True
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name (a 500)
        return False
    return True


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
