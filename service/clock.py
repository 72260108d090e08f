"""One place that says what time it is, so tests can travel in time (time-machine patches it)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
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
        zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name (a 500)
        return False
    return True


@cache
def zone(name: str) -> ZoneInfo:
    """The time zone called ``name``; every module asks here rather than calling ``ZoneInfo`` itself.

    ZoneInfo keeps only a few zones strongly cached; planning 100,000 nudges over a dozen zones reloaded the tz
    files thousands of times, so this keeps every zone it has seen (only valid names: a failed lookup is not
    cached). An unknown name raises what ``ZoneInfo`` raises (``ZoneInfoNotFoundError``, a ``KeyError``;
    ``ValueError`` for a malformed key): names from clients are checked first by ``is_valid_timezone``."""
    return ZoneInfo(name)
