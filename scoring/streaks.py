"""Streaks: consecutive contest-local days (or ISO weeks) whose points reach a threshold.

Today (or this week) not yet met does not break the streak: it is "at risk" until the period ends,
so the streak counts back from yesterday (last week) and ``at_risk`` says today still needs doing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy.orm import Session

from scoring.ledger import day_points
from scoring.periods import local_day, week_start
from scoring.types import Streak
from service.clock import utcnow


def streak_from(points_by_day: dict[date, int], threshold: int, unit: str, today: date) -> Streak:
    if unit not in {"day", "week"}:
        raise ValueError("unit must be 'day' or 'week'")
    if unit == "week":
        weeks: dict[date, int] = defaultdict(int)
        for d, p in points_by_day.items():
            weeks[week_start(d)] += p
        totals, current, step = dict(weeks), week_start(today), timedelta(days=7)
    else:
        totals, current, step = points_by_day, today, timedelta(days=1)
    met = lambda d: totals.get(d, 0) >= threshold  # noqa: E731
    today_met = met(current)
    cursor = current if today_met else current - step
    length, last = 0, None
    while met(cursor):
        last = last or cursor
        length += 1
        cursor -= step
    return Streak(length=length, at_risk=length > 0 and not today_met, today_met=today_met, unit=unit,
                  threshold=threshold, last_met=last)


def streak(session: Session, contest_id: int, user_id: int, threshold: int = 1, unit: str = "day",
           tz: str = "UTC", today: date | None = None) -> Streak:
    return streak_from(day_points(session, contest_id, user_id), max(1, threshold), unit,
                       today or local_day(utcnow(), tz))
