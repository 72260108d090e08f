"""Streaks and badges: criteria kinds, exactly-once awards (also under concurrency on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from scoring import badges, ledger, streaks
from scoring.models import BadgeAward, BadgeDefinition
from scoring.types import Metric, Subject
from tests.scoring.factories import T0, facts, rules

TZ = "Europe/Helsinki"


def log_days(session: Any, user_id: int, days: list[int], minutes: int = 30, contest: int = 1) -> None:
    for d in days:
        ledger.score(session, rules(contest), Subject(user_id, team_id=9), f"activity:{user_id}:{d}",
                     facts("walking_brisk", minutes, at=T0 + timedelta(days=d)))
    session.commit()


def test_daily_streak_counts_back_and_is_at_risk_until_today_is_met(session: Any, users: list[Any]) -> None:
    uid = users[0].id
    log_days(session, uid, [0, 2, 3, 4])
    today = date(2026, 3, 8)  # T0 is Tue 3 March; days 2..4 are 5..7 March
    s = streaks.streak(session, 1, uid, threshold=20, unit="day", tz=TZ, today=today)
    assert (s.length, s.at_risk, s.today_met, s.last_met) == (3, True, False, date(2026, 3, 7))
    log_days(session, uid, [5])
    s = streaks.streak(session, 1, uid, threshold=20, unit="day", tz=TZ, today=today)
    assert (s.length, s.at_risk, s.today_met) == (4, False, True)
    assert streaks.streak(session, 1, uid, threshold=45, tz=TZ, today=today).length == 0
    assert streaks.streak(session, 1, uid, tz=TZ, today=today + timedelta(days=2)).length == 0


def test_weekly_streak_uses_iso_weeks(session: Any, users: list[Any]) -> None:
    uid = users[0].id
    log_days(session, uid, [0, 7, 14], minutes=50)  # three Tuesdays
    s = streaks.streak(session, 1, uid, threshold=50, unit="week", tz=TZ, today=date(2026, 3, 22))  # Sunday wk 3
    assert (s.length, s.at_risk) == (3, False)
    s = streaks.streak(session, 1, uid, threshold=50, unit="week", tz=TZ, today=date(2026, 3, 23))  # next Monday
    assert (s.length, s.at_risk) == (3, True)


def codes(awards: list[BadgeAward]) -> set[str]:
    return {a.badge.code for a in awards}


def test_builtin_badges_are_awarded_once_when_earned(session: Any, users: list[Any]) -> None:
    badges.ensure_definitions(session)
    badges.ensure_definitions(session)  # idempotent
    session.commit()
    uid = users[0].id
    assert badges.evaluate(session, 1, [uid]) == []
    log_days(session, uid, list(range(7)), minutes=80)
    first = badges.evaluate(session, 1, [uid], {"tz": TZ, "today": date(2026, 3, 9), "goal": 500})
    session.commit()
    assert codes(first) == {"first-move", "points-500", "streak-7", "team-goal"}
    assert badges.evaluate(session, 1, [uid], {"tz": TZ, "today": date(2026, 3, 9), "goal": 500}) == []
    podium = badges.evaluate(session, 1, [uid, users[1].id], {"final": True})
    assert codes(podium) == {"podium"} and podium[0].user_id == uid
    assert podium[0].evidence["value"] == {"rank": 1}


def test_checkin_locations_badge_reads_distinct_locations_from_the_ledger(session: Any, users: list[Any]) -> None:
    badges.ensure_definitions(session)
    uid = users[0].id
    r = rules(metric=Metric.CHECKINS)
    for i, loc in enumerate([1, 2, 2, 3, 4]):
        ledger.score(session, r, Subject(uid), f"checkin:{loc}:{i}", facts("checkin", 0, at=T0 + timedelta(hours=i)))
    session.commit()
    assert "explorer-5" not in codes(badges.evaluate(session, 1, [uid]))
    ledger.score(session, r, Subject(uid), "checkin:5:9", facts("checkin", 0))
    ledger.reverse(session, r, "checkin:4:4")
    assert "explorer-5" not in codes(badges.evaluate(session, 1, [uid]))  # 4 live locations
    ledger.score(session, r, Subject(uid), "checkin:6:10", facts("checkin", 0))
    assert "explorer-5" in codes(badges.evaluate(session, 1, [uid]))
    assert "explorer-5" in codes(badges.evaluate(session, 2, [users[1].id], {"checkin_locations": {users[1].id: 5}}))


def test_who_weeks_badge_counts_weeks_reaching_the_weekly_goal(session: Any, users: list[Any]) -> None:
    session.add(BadgeDefinition(code="who-2", name="WHO twice", criteria={"kind": "who_weeks", "weeks": 2,
                                                                          "weekly_points": 150}))
    session.commit()
    uid = users[0].id
    log_days(session, uid, [0, 1, 2, 7, 8], minutes=50)  # week 1: 150, week 2: 100
    assert "who-2" not in codes(badges.evaluate(session, 1, [uid]))
    log_days(session, uid, [9], minutes=50)
    assert "who-2" in codes(badges.evaluate(session, 1, [uid]))


def test_streak_and_who_badges_are_checked_only_when_a_write_makes_a_day_or_week_reach_its_threshold(
        session: Any, users: list[Any]) -> None:
    """``totals.apply`` reports each user's day and week lines before and after; without a crossing the
    evaluation does not read the ledger at all, and with one it awards as a full evaluation would."""
    from sqlalchemy import event

    session.add(BadgeDefinition(code="who-1", name="WHO once", criteria={"kind": "who_weeks", "weeks": 1,
                                                                         "weekly_points": 150}))
    session.commit()
    uid = users[0].id
    log_days(session, uid, [0, 1])  # 30 points a day, 60 this week
    statements: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))

    def write(day: int, minutes: int, key: str) -> set[str]:
        lines: dict[int, list[tuple[str, int, int]]] = {}
        ledger.score_many(session, rules(), [(Subject(uid, team_id=9), key,
                                              facts("walking_brisk", minutes, at=T0 + timedelta(days=day)))],
                          lines=lines)
        statements.clear()
        got = codes(badges.evaluate(session, 1, [uid], {"tz": TZ, "today": date(2026, 3, 4), "lines": lines,
                                                        "skip": {"first_activity", "total_at_least",
                                                                 "checkin_locations", "collective_goal"}}))
        session.commit()
        return got

    assert write(1, 30, "activity:more") == set()  # the week at 90: nothing crossed
    assert len(statements) == 1  # the definitions and held badges; no ledger read
    assert write(1, 70, "activity:week") == {"who-1"}  # the week line crosses 150 (160)
    assert len(statements) > 2
    assert write(1, 40, "activity:again") == set()


@pytest.mark.postgres
def test_two_concurrent_evaluations_award_a_badge_exactly_once(app: Any, session: Any, users: list[Any]) -> None:
    from service.db import db

    session.add(BadgeDefinition(code="ten", name="Ten", criteria={"kind": "total_at_least", "points": 10}))
    session.commit()
    uid = users[0].id
    log_days(session, uid, [0])
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                own = db.session
                own.connection()  # open both transactions before either inserts
                barrier.wait(timeout=10)
                new = badges.evaluate(own, 1, [uid])
                own.commit()
                results.append(len(new))
                db.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(results) == [0, 1]
    assert session.execute(select(func.count()).select_from(BadgeAward)).scalar_one() == 1


def test_deleting_a_user_removes_their_badges_and_board_lines(session: Any, users: list[Any]) -> None:
    from scoring.models import LeaderboardTotal
    from service.accounts import delete_user

    badges.ensure_definitions(session)
    uid = users[0].id
    log_days(session, uid, [0])
    assert codes(badges.evaluate(session, 1, [uid])) == {"first-move"}
    session.commit()
    delete_user(session, users[0])
    session.commit()
    assert session.execute(select(func.count()).select_from(BadgeAward)).scalar_one() == 0
    left = session.execute(select(LeaderboardTotal.scope).where(LeaderboardTotal.subject_id == uid)).scalars().all()
    assert [str(s) for s in left if str(s) == "user"] == []
    assert session.execute(select(LeaderboardTotal.points).where(LeaderboardTotal.scope == "team",
                                                                 LeaderboardTotal.period_key == "all")).scalar() == 30


def test_a_contest_wide_collective_goal_is_awarded_to_every_contributor_once_reached(
        session: Any, users: list[Any]) -> None:
    session.add(BadgeDefinition(code="city-goal", name="City goal", description="The whole city reached its goal.",
                                criteria={"kind": "collective_goal", "goal": 40}))
    session.commit()
    log_days(session, users[0].id, [0], minutes=30)
    assert badges.evaluate(session, 1, [users[0].id]) == []  # 30 of 40
    log_days(session, users[1].id, [1], minutes=30)
    awarded = badges.evaluate(session, 1, [users[0].id, users[1].id])
    assert sorted(a.user_id for a in awarded) == sorted([users[0].id, users[1].id])
    assert all(a.evidence["value"] == {"total": 60, "goal": 40} for a in awarded)
    assert badges.evaluate(session, 1, [users[0].id, users[1].id]) == []
