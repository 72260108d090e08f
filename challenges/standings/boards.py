"""Standings of a challenge on top of scoring: named leaderboards, my progress, collective progress.

Points are the challenge's metric in whole units (scoring awards one point per unit, after the daily cap),
so goals, which are in metric units, compare directly with points. Ranks follow scoring's rule: standard
competition ranking (1, 2, 2, 4), ties in a stable order by subject id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.formats import format_of
from challenges.models import Challenge, Team
from challenges.participation.enrolment import effective_end, find_enrolment
from scoring import leaderboards, ledger, streaks, totals
from scoring.periods import current_key, period_key
from scoring.types import BoardRow, Period, Scope
from service.clock import utcnow
from service.errors import Invalid
from service.models import Organisation, User


@dataclass(frozen=True)
class NamedRow:
    rank: int
    id: int | None
    name: str
    points: int
    is_alias: bool
    is_me: bool


def _names(session: Session, scope: Scope, rows: list[BoardRow]) -> dict[int, str]:
    ids = [r.subject_id for r in rows]
    if not ids:
        return {}
    if scope is Scope.TEAM:
        return dict(session.execute(select(Team.id, Team.name).where(Team.id.in_(ids))).all())
    if scope is Scope.ORGANISATION:
        return dict(session.execute(select(Organisation.id, Organisation.name)
                                    .where(Organisation.id.in_(ids))).all())
    return {}


def _named(session: Session, scope: Scope, rows: list[BoardRow], me: int | None) -> list[NamedRow]:
    names = _names(session, scope, rows)
    out = []
    for row in rows:
        name = row.label if scope is Scope.USER else names.get(row.subject_id)
        mine = me is not None and row.subject_id == me
        out.append(NamedRow(rank=row.rank, id=None if row.is_alias and not mine else row.subject_id,
                            name=name or f"#{row.subject_id}", points=row.points, is_alias=row.is_alias,
                            is_me=mine))
    return out


def my_subject(session: Session, challenge: Challenge, user: User | None, scope: Scope) -> int | None:
    """The board line that is 'me' for this scope: my user id, my team, or my organisation."""
    if user is None:
        return None
    if scope is Scope.USER:
        return user.id
    enrolment = find_enrolment(session, challenge.id, user.id)
    if enrolment is None:
        return None
    return enrolment.team_id if scope is Scope.TEAM else enrolment.organisation_id


def leaderboard(session: Session, challenge: Challenge, viewer: User | None, *, scope: Scope, period: Period,
                day: date | None = None, limit: int = 20, cursor: str | None = None, around_me: bool = False,
                k: int = 5, now: datetime | None = None) -> dict[str, Any]:
    """A page of the board (or my neighbourhood on it), with users, teams and organisations named."""
    pkey = period_key(period, day) if day is not None and period is not Period.ALL else None
    # without a date, "today" of a finished (or not yet started) challenge is its last (or first) day
    at = max(challenge.starts_at, min(now or utcnow(), effective_end(challenge) - timedelta(seconds=1)))
    me = my_subject(session, challenge, viewer, scope)
    if around_me:
        if viewer is None:
            raise Invalid("around=me needs a signed-in participant.", code="around-needs-user")
        rows = [] if me is None else leaderboards.around(session, challenge.id, scope, period, me, k, at=at,
                                                         tz=challenge.timezone, period_key=pkey)
        page_key, next_cursor = pkey or current_key(period, at, challenge.timezone), None
    else:
        page = leaderboards.board(session, challenge.id, scope, period, at=at, tz=challenge.timezone, limit=limit,
                                  cursor=cursor, period_key=pkey)
        rows, page_key, next_cursor = page.rows, page.period_key, page.next_cursor
    return {"scope": scope.value, "period": period.value, "period_key": page_key,
            "rows": _named(session, scope, rows, me), "next": next_cursor}


def collective_total(session: Session, challenge: Challenge) -> int:
    """All points of the challenge (every participant's), from its contest line (no sum over the ledger)."""
    return totals.contest_total(session, challenge.id)


def _fraction(value: int, goal: float | None) -> float | None:
    return None if not goal else round(min(1.0, value / goal), 4)


def _group_total(session: Session, challenge: Challenge, scope: Scope, subject_id: int | None) -> int:
    if subject_id is None:
        return 0
    return totals.line_points(session, challenge.id, scope, subject_id) or 0


def progress(session: Session, challenge: Challenge, user: User, now: datetime | None = None) -> dict[str, Any]:
    """My totals (today, this week, all), rank, streak and the goal that fits the format.

    The goal is per participant in individual challenges, per team or organisation in those formats,
    and for everyone together in collective ones; collective progress is always reported.
    """
    now = now or utcnow()
    tz = challenge.timezone
    enrolment = find_enrolment(session, challenge.id, user.id)
    totals = {p.value: ledger.user_total(session, challenge.id, user.id, p, at=now, tz=tz) for p in Period}
    rank = leaderboards.rank_of(session, challenge.id, Scope.USER, Period.ALL, user.id, at=now, tz=tz)
    streak = streaks.streak(session, challenge.id, user.id, 1, "day", tz)
    everyone = collective_total(session, challenge)
    fmt = format_of(challenge)
    scope = fmt.goal_scope
    if fmt.group_scope is not None:
        value = _group_total(session, challenge, fmt.group_scope, fmt.group_of(enrolment))
    else:
        value = everyone if scope == "collective" else totals["all"]
    return {
        "challenge_id": challenge.id, "metric": challenge.metric.value, "phase": challenge.phase(now).value,
        "enrolled": bool(enrolment and enrolment.active),
        "team_id": enrolment.team_id if enrolment else None,
        "organisation_id": enrolment.organisation_id if enrolment else None,
        "points": totals, "rank": rank.rank if rank else None,
        "streak": {"days": streak.length, "today_met": streak.today_met, "at_risk": streak.at_risk},
        "goal": {"scope": scope, "value": value, "goal": challenge.goal, "fraction": _fraction(value, challenge.goal)},
        "collective": {"value": everyone,
                       "goal": challenge.goal if scope == "collective" else None,
                       "fraction": _fraction(everyone, challenge.goal) if scope == "collective" else None},
    }
