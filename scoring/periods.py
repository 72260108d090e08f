"""Local days and ISO weeks of a contest's time zone, and the keys boards are stored under.

DST-safe because every conversion goes through zoneinfo: a local day is the calendar date of the
instant in the contest zone (23 or 25 hours long on change days), a week is the ISO week of that date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from scoring.types import Period
from service.clock import zone


def local_day(at: datetime, tz: str) -> date:
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    return at.astimezone(zone(tz)).date()


def period_key(period: Period | str, day: date | None = None) -> str:
    period = Period(period)
    if period is Period.ALL:
        return "all"
    if day is None:
        raise ValueError("day needed for day and week periods")
    if period is Period.DAY:
        return f"d{day.isoformat()}"
    year, week, _ = day.isocalendar()
    return f"w{year}-W{week:02d}"


def period_of(key: str) -> Period:
    """The period a key made by ``period_key`` belongs to."""
    return Period.ALL if key == "all" else Period.DAY if key.startswith("d") else Period.WEEK


def keys_for_day(day: date) -> dict[Period, str]:
    return {p: period_key(p, day) for p in Period}


def current_key(period: Period | str, at: datetime, tz: str) -> str:
    return period_key(period, local_day(at, tz))


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def period_end_utc(period: Period | str, day: date, tz: str) -> datetime | None:
    """The UTC instant at which the day/week containing ``day`` ends locally (None for ALL)."""
    period = Period(period)
    if period is Period.ALL:
        return None
    last = day if period is Period.DAY else week_start(day) + timedelta(days=6)
    end_local = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone(tz))
    return end_local.astimezone(UTC)
