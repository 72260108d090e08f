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

from challenges import privacy
from challenges.formats import format_of
from challenges.models import Challenge, Team
from challenges.participation.enrolment import effective_end, find_enrolment
from scoring import leaderboards, ledger, streaks, totals
from scoring.periods import current_key, period_key
from scoring.types import BoardRow, Period, Scope
from service.clock import utcnow
from service.errors import Invalid
from service.models import Organisation, User
from service.pagination import decode_cursor, encode_cursor


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


def _named(session: Session, scope: Scope, rows: list[BoardRow], me: int | None,
           viewer: privacy.Viewer) -> list[NamedRow]:
    """Groups by their names; people as the privacy policy shows them to this viewer (deleted people drop out)."""
    if scope is Scope.USER:
        found = privacy.people(session, (r.subject_id for r in rows))
        out = []
        for row in rows:
            if row.subject_id not in found:
                continue
            shown = privacy.shown_person(found[row.subject_id], viewer)
            out.append(NamedRow(rank=row.rank, id=shown.user_id, name=shown.name, points=row.points,
                                is_alias=shown.is_alias, is_me=row.subject_id == me))
        return out
    names = _names(session, scope, rows)
    return [NamedRow(rank=row.rank, id=row.subject_id, name=names.get(row.subject_id) or f"#{row.subject_id}",
                     points=row.points, is_alias=False, is_me=me is not None and row.subject_id == me) for row in rows]


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
    """A page of the board (or my neighbourhood on it), with users, teams and organisations named, as the
    challenge's visibility policy lets this viewer see it (challenges.privacy)."""
    who = privacy.viewer_of(session, challenge, viewer)
    if scope is Scope.USER:
        privacy.require_people(challenge, who)
    else:
        privacy.require_boards(challenge, who)
    if around_me and viewer is None:
        raise Invalid("around=me needs a signed-in participant.", code="around-needs-user")
    pkey = period_key(period, day) if day is not None and period is not Period.ALL else None
    # without a date, "today" of a finished (or not yet started) challenge is its last (or first) day
    at = max(challenge.starts_at, min(now or utcnow(), effective_end(challenge) - timedelta(seconds=1)))
    me = my_subject(session, challenge, viewer, scope)
    out: dict[str, Any] = {"scope": scope.value, "period": period.value, "min_group_size": None,
                           "hidden_groups": None}
    if scope is not Scope.USER and privacy.employer_view(challenge, who):
        floor = privacy.configured_floor()
        rows, page_key, next_cursor, hidden = _groups_board(session, challenge, scope, period, at, pkey, me, floor,
                                                            limit=limit, cursor=cursor, around_me=around_me, k=k)
        out.update(min_group_size=floor, hidden_groups=hidden)
    elif around_me:
        rows = [] if me is None else leaderboards.around(session, challenge.id, scope, period, me, k, at=at,
                                                         tz=challenge.timezone, period_key=pkey, labels=False)
        page_key, next_cursor = pkey or current_key(period, at, challenge.timezone), None
    else:
        page = leaderboards.board(session, challenge.id, scope, period, at=at, tz=challenge.timezone, limit=limit,
                                  cursor=cursor, period_key=pkey, labels=False)
        rows, page_key, next_cursor = page.rows, page.period_key, page.next_cursor
    return {**out, "period_key": page_key, "rows": _named(session, scope, rows, me, who), "next": next_cursor}


def _groups_board(session: Session, challenge: Challenge, scope: Scope, period: Period, at: datetime,
                  pkey: str | None, me: int | None, floor: int, *, limit: int, cursor: str | None, around_me: bool,
                  k: int) -> tuple[list[BoardRow], str, str | None, int]:
    """A group board as an employer sees it: groups below the minimum (and their complements) left out and the
    rest ranked among themselves. Read whole: a challenge has a few hundred groups, not a million people."""
    hidden = privacy.hidden_subjects(session, challenge, scope, floor)
    lines: list[BoardRow] = []
    page_cursor: str | None = None
    while True:
        page = leaderboards.board(session, challenge.id, scope, period, at=at, tz=challenge.timezone,
                                  limit=leaderboards.MAX_LIMIT, cursor=page_cursor, period_key=pkey, labels=False)
        lines.extend(page.rows)
        if page.next_cursor is None:
            break
        page_cursor = page.next_cursor
    shown = privacy.rerank([r for r in lines if r.subject_id not in hidden])
    n_hidden = sum(1 for r in lines if r.subject_id in hidden)
    if around_me:
        mine = next((i for i, r in enumerate(shown) if r.subject_id == me), None)
        rows = [] if mine is None else shown[max(0, mine - k):mine + k + 1]
        return rows, page.period_key, None, n_hidden
    try:
        offset = int(decode_cursor(cursor)["g"]) if cursor else 0
    except (KeyError, TypeError, ValueError):
        raise Invalid("malformed cursor", code="invalid-cursor") from None
    rows = shown[offset:offset + limit]
    more = offset + limit < len(shown)
    return rows, page.period_key, encode_cursor({"g": offset + limit}) if more else None, n_hidden


def collective_total(session: Session, challenge: Challenge) -> int:
    """All points of the challenge (every participant's), from its contest line (no sum over the ledger)."""
    return totals.contest_total(session, challenge.id)


def _fraction(value: int | None, goal: float | None) -> float | None:
    return None if not goal or value is None else round(min(1.0, value / goal), 4)


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
    who = privacy.viewer_of(session, challenge, user)
    totals = {p.value: ledger.user_total(session, challenge.id, user.id, p, at=now, tz=tz) for p in Period}
    rank = leaderboards.rank_of(session, challenge.id, Scope.USER, Period.ALL, user.id, at=now, tz=tz)
    streak = streaks.streak(session, challenge.id, user.id, 1, "day", tz)
    # an employer must not read a small challenge's total: it is a few people's figures
    small = privacy.employer_view(challenge, who) and privacy.everyone_small(session, challenge,
                                                                             privacy.configured_floor())
    everyone = None if small else collective_total(session, challenge)
    fmt = format_of(challenge)
    scope = fmt.goal_scope
    group = fmt.group_of(enrolment)
    employer = privacy.employer_view(challenge, who)
    if fmt.group_scope is not None and employer and (small or group in privacy.hidden_subjects(
            session, challenge, fmt.group_scope, privacy.configured_floor())):
        value: int | None = None  # an organiser in a small team would read a colleague's figures off its total
    elif fmt.group_scope is not None:
        value = _group_total(session, challenge, fmt.group_scope, group)
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
