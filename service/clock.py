"""One place that says what time it is, so tests can travel in time (time-machine patches it)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

EARLIEST = datetime(1900, 1, 1)
LATEST = datetime(9000, 1, 1)
NOT_PLACES = frozenset({"Factory", "localtime"})
"""Names zoneinfo loads that are no place's time: ``localtime`` is the server's own zone (a file Debian ships
beside the others, so ``available_timezones`` lists it), ``Factory`` tzdata's placeholder (abbreviation "-00")."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def unsupported_time(value: date) -> str | None:
    """Why ``value`` lies outside the years this service computes with (None when it is inside): year 1 east of
    UTC, or 9999 west of it, overflows the conversion to UTC or to a local day (an ``OverflowError``, a 500)."""
    wall = value.replace(tzinfo=None) if isinstance(value, datetime) else datetime(value.year, value.month, value.day)
    if not EARLIEST <= wall < LATEST:
        return f"Dates must fall between {EARLIEST.year} and {LATEST.year - 1}."
    return None


_KNOWN: frozenset[str] | None = None


def is_valid_timezone(name: str) -> bool:
    """A real IANA zone: a name of the IANA database (tzdata's list, which ``available_timezones`` reads), not a
    file that merely loads (``posix/...``, ``right/...``, ``localtime``) nor the ``Factory`` placeholder."""
    global _KNOWN
    if _KNOWN is None:
        _KNOWN = frozenset(available_timezones() - NOT_PLACES)
    return name in _KNOWN


@cache
def zone(name: str) -> ZoneInfo:
    """The time zone called ``name``; every module asks here rather than calling ``ZoneInfo`` itself.

    ZoneInfo keeps only a few zones strongly cached; planning 100,000 nudges over a dozen zones reloaded the tz
    files thousands of times, so this keeps every zone it has seen (only valid names: a failed lookup is not
    cached). An unknown name raises what ``ZoneInfo`` raises (``ZoneInfoNotFoundError``, a ``KeyError``;
    ``ValueError`` for a malformed key): names from clients are checked first by ``is_valid_timezone``."""
    return ZoneInfo(name)
