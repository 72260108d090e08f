"""Local day and ISO week boundaries across DST changes (Europe/Helsinki and Europe/Madrid)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from scoring import leaderboards, ledger
from scoring.periods import local_day, period_end_utc, period_key
from scoring.types import Period, Scope, Subject
from tests.scoring.factories import facts, rules


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("tz", "at", "day"), [
    # spring forward on Sun 29 Mar 2026: after the change the offset is +3 (Helsinki) / +2 (Madrid)
    ("Europe/Helsinki", utc(2026, 3, 28, 21, 59), date(2026, 3, 28)),
    ("Europe/Helsinki", utc(2026, 3, 28, 22, 0), date(2026, 3, 29)),
    ("Europe/Helsinki", utc(2026, 3, 29, 20, 59), date(2026, 3, 29)),
    ("Europe/Helsinki", utc(2026, 3, 29, 21, 30), date(2026, 3, 30)),
    ("Europe/Madrid", utc(2026, 3, 29, 21, 59), date(2026, 3, 29)),
    ("Europe/Madrid", utc(2026, 3, 29, 22, 30), date(2026, 3, 30)),
    # fall back on Sun 25 Oct 2026: afterwards +2 (Helsinki) / +1 (Madrid)
    ("Europe/Helsinki", utc(2026, 10, 25, 21, 30), date(2026, 10, 25)),
    ("Europe/Helsinki", utc(2026, 10, 25, 22, 0), date(2026, 10, 26)),
    ("Europe/Madrid", utc(2026, 10, 25, 22, 30), date(2026, 10, 25)),
    ("Europe/Madrid", utc(2026, 10, 25, 23, 0), date(2026, 10, 26)),
])
def test_local_day_uses_the_offset_in_force(tz: str, at: datetime, day: date) -> None:
    assert local_day(at, tz) == day


def test_change_days_are_23_and_25_hours_long() -> None:
    spring = period_end_utc(Period.DAY, date(2026, 3, 29), "Europe/Helsinki")
    before = period_end_utc(Period.DAY, date(2026, 3, 28), "Europe/Helsinki")
    autumn = period_end_utc(Period.DAY, date(2026, 10, 25), "Europe/Madrid")
    autumn_before = period_end_utc(Period.DAY, date(2026, 10, 24), "Europe/Madrid")
    assert spring is not None and before is not None and autumn is not None and autumn_before is not None
    assert (spring - before).total_seconds() == 23 * 3600
    assert (autumn - autumn_before).total_seconds() == 25 * 3600
    assert period_end_utc(Period.WEEK, date(2026, 3, 29), "Europe/Helsinki") == utc(2026, 3, 29, 21, 0)


@pytest.mark.parametrize(("tz", "before", "after"), [
    ("Europe/Helsinki", utc(2026, 3, 29, 20, 30), utc(2026, 3, 29, 21, 30)),
    ("Europe/Madrid", utc(2026, 3, 29, 21, 30), utc(2026, 3, 29, 22, 30)),
    ("Europe/Helsinki", utc(2026, 10, 25, 21, 30), utc(2026, 10, 25, 22, 30)),
    ("Europe/Madrid", utc(2026, 10, 25, 22, 30), utc(2026, 10, 25, 23, 30)),
])
def test_day_and_week_boards_split_at_local_midnight_after_a_dst_change(
        session: Any, users: list[Any], tz: str, before: datetime, after: datetime) -> None:
    r = rules(tz=tz)
    u = Subject(users[0].id)
    ledger.score(session, r, u, "activity:sunday", facts("walking_brisk", 30, at=before))
    ledger.score(session, r, u, "activity:monday", facts("walking_brisk", 20, at=after))
    session.commit()
    sunday, monday = local_day(before, tz), local_day(after, tz)
    assert (monday - sunday).days == 1 and monday.isoweekday() == 1
    for period, at, expected in [(Period.DAY, before, 30), (Period.DAY, after, 20), (Period.WEEK, before, 30),
                                 (Period.WEEK, after, 20), (Period.ALL, after, 50)]:
        page = leaderboards.board(session, 1, Scope.USER, period, at=at, tz=tz)
        assert [(row.subject_id, row.points) for row in page.rows] == [(u.user_id, expected)], (period, at)
    assert page.period_key == "all"
    assert period_key(Period.WEEK, monday) == f"w{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
