"""Badges: data-driven definitions (scoring.badge_catalogue), evaluated per user, awarded exactly once.

``evaluate`` may run twice or concurrently for the same user (two ingests, the scheduler): the award row
is unique per (user, badge, contest) and inserted with ON CONFLICT DO NOTHING, so only one evaluation
returns the new award (the one to announce) and the other returns nothing.

``context`` (all optional): ``final`` (the contest is over: top-N badges may be given), ``goal`` (the
contest's collective goal), ``checkin_locations`` {user_id: distinct locations} (otherwise read from the
ledger's ``checkin:<location_id>:...`` source keys), ``tz`` and ``today`` for streaks, ``ranks`` {user_id:
(rank, points)} of the whole final board (``leaderboards.final_ranks``) for top-N finishes. Facts the caller
already holds spare a query each: ``totals`` {user_id: all-time points in the contest} (the board upsert
returns them), ``active`` (users who just got a live, non check-in activity entry), ``skip`` (criteria kinds
the triggering write cannot change, e.g. ``{"checkin_locations"}`` for an activity that is not a check-in),
``lines`` (each user's day and week board lines before and after the write, from ``totals.apply``: a streak
or WHO-week badge is only looked at when a line just reached its threshold).

Definitions and the badges already held come in one query; streak and WHO-week checks share one read of the
user's points per day. What is not given is read from the ledger, so the result never depends on the hints.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from scoring import leaderboards, streaks, totals
from scoring.badge_catalogue import BUILTIN
from scoring.ledger import day_points
from scoring.models import BadgeAward, BadgeDefinition, EntryKind, PointsEntry
from scoring.periods import local_day, period_of, week_start
from scoring.types import Period, Scope
from service.clock import utcnow
from service.db_dialect import insert_for

Check = Callable[[Session, int, int, dict[str, Any], dict[str, Any]], tuple[bool, Any]]


def ensure_definitions(session: Session) -> list[BadgeDefinition]:
    """Insert the built-in definitions that are missing (idempotent) and return them."""
    stmt = insert_for(session, BadgeDefinition.__table__).on_conflict_do_nothing(index_elements=["code"])
    now = utcnow()
    session.execute(stmt, [{**b, "created_at": now} for b in BUILTIN])
    codes = [b["code"] for b in BUILTIN]
    return list(session.scalars(select(BadgeDefinition).where(BadgeDefinition.code.in_(codes))))


def _live_activity(session: Session, contest_id: int, user_id: int, like: str | None = None) -> list[PointsEntry]:
    q = select(PointsEntry).where(PointsEntry.contest_id == contest_id, PointsEntry.user_id == user_id,
                                  PointsEntry.kind.in_([EntryKind.ACTIVITY, EntryKind.REVERSAL]))
    if like:
        q = q.where(PointsEntry.source_key.like(like))
    entries = list(session.scalars(q))
    reversed_ = {(e.source_key, e.generation) for e in entries if e.kind is EntryKind.REVERSAL}
    return [e for e in entries if e.kind is EntryKind.ACTIVITY and (e.source_key, e.generation) not in reversed_]


def _days(session: Session, contest_id: int, user_id: int, ctx: dict) -> dict[date, int]:
    """Points per local day, read once per (contest, user) and evaluation (streak and WHO weeks share it)."""
    memo = ctx.setdefault("_days", {})
    if (contest_id, user_id) not in memo:
        memo[(contest_id, user_id)] = day_points(session, contest_id, user_id)
    return memo[(contest_id, user_id)]


def _total(session: Session, contest_id: int, user_id: int, crit: dict, ctx: dict) -> tuple[bool, Any]:
    known = (ctx.get("totals") or {}).get(user_id)
    if known is not None:
        return int(known) >= int(crit["points"]), {"total": int(known)}
    total = int(session.execute(select(func.coalesce(func.sum(PointsEntry.points), 0)).where(
        PointsEntry.contest_id == contest_id, PointsEntry.user_id == user_id)).scalar_one())
    return total >= int(crit["points"]), {"total": total}


def _reached(ctx: dict, user_id: int, period: Period, threshold: int) -> bool | None:
    """Whether one of the user's day (week) lines just reached ``threshold``; None when the caller gave no
    ``lines`` hint. Day and week counts only grow when a line crosses, so without a crossing a streak or WHO
    badge not held before cannot be earned by this write (and needs no read of the ledger)."""
    lines = ctx.get("lines")
    if lines is None:
        return None
    return any(period_of(key) is period and old < threshold <= new for key, old, new in lines.get(user_id, ()))


def _streak(session: Session, contest_id: int, user_id: int, crit: dict, ctx: dict) -> tuple[bool, Any]:
    unit = Period.WEEK if crit.get("unit") == "week" else Period.DAY
    if _reached(ctx, user_id, unit, max(1, int(crit.get("threshold", 1)))) is False:
        return False, None
    s = streaks.streak_from(_days(session, contest_id, user_id, ctx), max(1, int(crit.get("threshold", 1))),
                            crit.get("unit", "day"), ctx.get("today") or local_day(utcnow(), ctx.get("tz", "UTC")))
    return s.length >= int(crit["length"]), {"streak": s.length, "unit": s.unit}


_REVERSAL = PointsEntry.__table__.alias("reversal")


def _first(session: Session, contest_id: int, user_id: int, crit: dict, ctx: dict) -> tuple[bool, Any]:
    """A live (not reversed) activity entry that is not a check-in: one EXISTS, not the user's whole ledger."""
    if user_id in (ctx.get("active") or ()):
        return True, {"activities": 1}
    rev = _REVERSAL.c
    reversed_ = exists().where(rev.contest_id == PointsEntry.contest_id, rev.source_key == PointsEntry.source_key,
                               rev.generation == PointsEntry.generation, rev.kind == EntryKind.REVERSAL)
    found = session.execute(select(PointsEntry.id).where(
        PointsEntry.contest_id == contest_id, PointsEntry.user_id == user_id,
        PointsEntry.kind == EntryKind.ACTIVITY, ~PointsEntry.source_key.startswith("checkin:"),
        ~reversed_).limit(1)).first()
    return found is not None, {"activities": 1 if found is not None else 0}


def _checkins(session: Session, contest_id: int, user_id: int, crit: dict, ctx: dict) -> tuple[bool, Any]:
    given = (ctx.get("checkin_locations") or {}).get(user_id)
    if given is None:
        locations = {e.source_key.split(":")[1] for e in _live_activity(session, contest_id, user_id, "checkin:%")}
        given = len(locations)
    return int(given) >= int(crit["count"]), {"locations": int(given)}


def _top_n(session: Session, contest_id: int, user_id: int, crit: dict, ctx: dict) -> tuple[bool, Any]:
    if not ctx.get("final"):
        return False, None
    if "ranks" in ctx:  # the caller ranked the whole board in one pass: {user: (rank, points)}
        rank, points = ctx["ranks"].get(user_id, (None, 0))
        return rank is not None and points > 0 and rank <= int(crit["n"]), {"rank": rank}
    row = leaderboards.rank_of(session, contest_id, Scope.USER, Period.ALL, user_id)
    return row is not None and row.points > 0 and row.rank <= int(crit["n"]), {"rank": row.rank if row else None}


def _collective(session: Session, contest_id: int, user_id: int, crit: dict, ctx: dict) -> tuple[bool, Any]:
    goal = crit.get("goal", ctx.get("goal"))
    if goal is None:
        return False, None
    if crit.get("scope", "contest") == "team":
        team_id = session.execute(select(PointsEntry.team_id).where(
            PointsEntry.contest_id == contest_id, PointsEntry.user_id == user_id, PointsEntry.team_id.is_not(None))
            .order_by(PointsEntry.id.desc()).limit(1)).scalar()
        if team_id is None:
            return False, None
        total = totals.line_points(session, contest_id, Scope.TEAM, team_id) or 0
        return total >= int(goal), {"team_id": team_id, "total": total, "goal": int(goal)}
    if "_contest_total" not in ctx:  # the same for every user: one read of the contest line per evaluation
        ctx["_contest_total"] = totals.contest_total(session, contest_id)
    total = ctx["_contest_total"]
    return total >= int(goal), {"total": total, "goal": int(goal)}


def _who_weeks(session: Session, contest_id: int, user_id: int, crit: dict, ctx: dict) -> tuple[bool, Any]:
    weekly = int(crit.get("weekly_points", 150))
    if _reached(ctx, user_id, Period.WEEK, weekly) is False:
        return False, None
    weeks: dict[date, int] = {}
    for d, p in _days(session, contest_id, user_id, ctx).items():
        ws = week_start(d)
        weeks[ws] = weeks.get(ws, 0) + p
    met = sorted(w.isoformat() for w, p in weeks.items() if p >= weekly)
    return len(met) >= int(crit["weeks"]), {"weeks_met": met}


CHECKS: dict[str, Check] = {
    "total_at_least": _total, "streak": _streak, "first_activity": _first, "checkin_locations": _checkins,
    "top_n_finish": _top_n, "collective_goal": _collective, "who_weeks": _who_weeks,
}


def applies_to(contest: Any) -> Any:
    """The definitions that count in a contest: the catalogue's (no contest) and the contest's own."""
    return or_(BadgeDefinition.contest_id.is_(None), BadgeDefinition.contest_id == contest)


_AWARD = BadgeAward.__table__.c
_DEFINITIONS_AND_HELD = (
    select(BadgeDefinition.id, BadgeDefinition.criteria, _AWARD.user_id)
    .outerjoin(BadgeAward.__table__, and_(_AWARD.badge_id == BadgeDefinition.id,
                                          _AWARD.contest_id == bindparam("contest"),
                                          _AWARD.user_id.in_(bindparam("users", expanding=True))))
    .where(applies_to(bindparam("contest")))
    .order_by(BadgeDefinition.id))
"""Every definition that applies to the contest, with the users (of those asked) already holding it; built once."""


def evaluate(session: Session, contest_id: int, user_ids: list[int],
             context: dict[str, Any] | None = None, *, load: bool = True) -> list[BadgeAward]:
    """Award every earned badge not yet held; returns only the awards this call created.

    ``load=False``: the caller does not use the new awards (nothing to announce), so they are not read back.
    """
    ctx = dict(context or {})
    skip = set(ctx.get("skip") or ())
    definitions: dict[int, dict] = {}
    held: set[tuple[int, int]] = set()
    for badge_id, criteria, holder in session.execute(_DEFINITIONS_AND_HELD,
                                                      {"contest": contest_id, "users": list(user_ids)}):
        definitions[badge_id] = criteria
        if holder is not None:
            held.add((holder, badge_id))
    rows = []
    now = utcnow()
    for user_id in user_ids:
        for badge_id, criteria in definitions.items():
            kind = str(criteria.get("kind"))
            check = CHECKS.get(kind)
            if check is None or kind in skip or (user_id, badge_id) in held:
                continue
            earned, evidence = check(session, contest_id, user_id, criteria, ctx)
            if earned:
                rows.append({"user_id": user_id, "badge_id": badge_id, "contest_id": contest_id,
                             "evidence": {"criteria": criteria, "value": evidence}, "awarded_at": now})
    if not rows:
        return []
    stmt = (insert_for(session, BadgeAward.__table__)
            .on_conflict_do_nothing(index_elements=["user_id", "badge_id", "contest_id"])
            .returning(BadgeAward.__table__.c.id))
    ids = [i for row in rows for i in session.execute(stmt, [row]).scalars()]
    if not ids or not load:
        return []
    return list(session.scalars(select(BadgeAward).where(BadgeAward.id.in_(ids)).order_by(BadgeAward.id)))
