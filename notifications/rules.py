"""Nudge rules that read challenge and scoring data (read-only) and yield ``Candidate`` nudges.

Each rule names the event in its dedupe key, so running every five minutes is harmless: an event plans
one nudge, ever. Per-user local times (evening for a streak at risk, daytime for an inactivity reminder,
Monday morning for the weekly summary) are checked in the user's own zone at each run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from challenges.formats import format_of
from challenges.models import Challenge, ChallengeStatus, Enrolment
from challenges.standings.boards import collective_total
from notifications.finalise import challenge_params, new_participants
from notifications.models import Announcement, Nudge, NudgeKind
from notifications.overtaken import board_totals, ledger_window, overtaken_candidates
from notifications.planner import Candidate, PlanResult, plan
from scoring import leaderboards, streaks
from scoring.models import BadgeAward, PointsEntry
from scoring.models import LeaderboardTotal as LT
from scoring.periods import local_day
from scoring.types import Scope
from service import consent
from service.clock import utcnow, zone
from service.db_dialect import one_of
from service.models import User

INACTIVE_DAYS = 3
DAYTIME = (time(10), time(20))
EVENING = (time(18), time(21))
WEEKLY_AT = time(9)
MILESTONES = (50, 100)
BADGE_LOOKBACK = timedelta(days=1)
STREAK_LOOKBACK_DAYS = 400  # longer than any challenge: a streak is counted back at most this far


def _local_between(now: datetime, tz: str, window: tuple[time, time]) -> bool:
    local = now.astimezone(zone(tz)).time()
    return window[0] <= local < window[1]


def _running(session: Session, now: datetime) -> list[Challenge]:
    return list(session.scalars(select(Challenge).where(
        Challenge.status == ChallengeStatus.PUBLISHED, Challenge.starts_at <= now, Challenge.ends_at > now)))


def _members(session: Session, challenge_id: int, *, about_activity: bool = False) -> list[tuple[Enrolment, str]]:
    """Live members and their time zones; ``about_activity``: without those who withdrew consent to processing
    their health data, since nudges read from their activity (quiet days, streaks, goals, weekly sums) would
    go on processing it."""
    query = select(Enrolment, User.timezone).join(User, User.id == Enrolment.user_id).where(
        Enrolment.challenge_id == challenge_id, Enrolment.left_at.is_(None), User.deleted_at.is_(None))
    if about_activity:
        query = query.where(~consent.WITHDREW)
    return [(e, tz or "UTC") for e, tz in session.execute(query)]


def inactive(session: Session, challenge: Challenge, members: list[tuple[Enrolment, str]],
             now: datetime) -> Iterator[Candidate]:
    """No points for INACTIVE_DAYS local days while enrolled (and enrolled that long): once per quiet spell.

    A day counts as active when its net points are positive, so an activity that was deleted (reversed)
    does not count. Only members in their local daytime and enrolled long enough are looked at."""
    due = [(e, tz) for e, tz in members
           if now - max(challenge.starts_at, e.joined_at) >= timedelta(days=INACTIVE_DAYS)
           and _local_between(now, tz, DAYTIME)]
    if not due:
        return
    days = (select(PointsEntry.user_id.label("user_id"), PointsEntry.local_day.label("day"))
            .where(PointsEntry.contest_id == challenge.id).group_by(PointsEntry.user_id, PointsEntry.local_day)
            .having(func.sum(PointsEntry.points) > 0).subquery())
    last = dict(session.execute(select(days.c.user_id, func.max(days.c.day)).group_by(days.c.user_id)).all())
    today = local_day(now, challenge.timezone)
    for enrolment, _tz in due:
        since = max(challenge.starts_at, enrolment.joined_at)
        seen = last.get(enrolment.user_id)
        if seen is not None and (today - seen).days <= INACTIVE_DAYS:
            continue
        days_quiet = (today - seen).days if seen else (now - since).days
        yield Candidate(enrolment.user_id, NudgeKind.INACTIVE,
                        f"inactive:{challenge.id}:{enrolment.user_id}:{seen or 'never'}",
                        {**challenge_params(challenge), "days": days_quiet}, challenge_id=challenge.id)


def _day_points(session: Session, challenge_id: int, user_ids: list[int], since: date
                ) -> dict[int, dict[date, int]]:
    """Points per contest-local day from ``since`` on, for many users at once (one query per 1,000 users)."""
    out: dict[int, dict[date, int]] = defaultdict(dict)
    for start in range(0, len(user_ids), 1000):
        rows = session.execute(
            select(PointsEntry.user_id, PointsEntry.local_day, func.sum(PointsEntry.points))
            .where(PointsEntry.contest_id == challenge_id,
                   one_of(session, PointsEntry.user_id, user_ids[start:start + 1000]),
                   PointsEntry.local_day >= since)
            .group_by(PointsEntry.user_id, PointsEntry.local_day))
        for uid, day, points in rows:
            out[uid][day] = int(points or 0)
    return out


def streak_at_risk(session: Session, challenge: Challenge, members: list[tuple[Enrolment, str]],
                   now: datetime) -> Iterator[Candidate]:
    """In the user's local evening, a streak of 2+ days whose today is not met yet; gone at local midnight.

    Set-based: the members in their evening are picked in memory, then one query (per 1,000 of them) reads
    their points per day since the challenge started."""
    evening = [(e, tz) for e, tz in members if _local_between(now, tz, EVENING)]
    if not evening:
        return
    today = local_day(now, challenge.timezone)
    since = max(local_day(challenge.starts_at, challenge.timezone), today - timedelta(days=STREAK_LOOKBACK_DAYS))
    days = _day_points(session, challenge.id, sorted({e.user_id for e, _ in evening}), since)
    for enrolment, tz in evening:
        result = streaks.streak_from(days.get(enrolment.user_id, {}), 1, "day", today)
        if not result.at_risk or result.length < 2:
            continue
        local = now.astimezone(zone(tz))
        midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone(tz))
        yield Candidate(enrolment.user_id, NudgeKind.STREAK_AT_RISK,
                        f"streak:{challenge.id}:{enrolment.user_id}:{local.date().isoformat()}",
                        {**challenge_params(challenge), "streak": result.length}, challenge_id=challenge.id,
                        expires_at=min(midnight, challenge.ends_at))


def _board_points(session: Session, challenge_id: int, scope: Scope,
                  subject_ids: list[int] | None = None) -> dict[int, int]:
    """All-time board points per subject (capped, the totals progress and the leaderboard show), of
    ``subject_ids`` only (chunked index reads) or of every line in the scope."""
    if subject_ids is not None:
        return board_totals(session, challenge_id, scope, subject_ids)
    return {int(s): int(p) for s, p in session.execute(select(LT.subject_id, LT.points).where(
        LT.contest_id == challenge_id, LT.scope == scope, LT.period_key == "all"))}


def goals(session: Session, challenge: Challenge, members: list[tuple[Enrolment, str]],
          now: datetime, movers: set[int] | None = None) -> Iterator[Candidate]:
    """Individual goal milestones (50 %, 100 %); team, organisation or collective goal reached.

    Progress is measured in capped points, the same totals GET .../progress shows, so a day over the
    daily cap never makes a nudge claim more than the participant sees.

    Only what changed is looked at: milestones for the users who scored since the last run (``movers``;
    None means unknown, look at everyone), and a reached group goal is told to each participant once
    (an enrolment cursor per goal), not re-planned for every member at every run."""
    if not challenge.goal or challenge.goal <= 0 or (movers is not None and not movers):
        return
    params = challenge_params(challenge)
    fmt = format_of(challenge)
    if fmt.goal_scope == "participant":
        progress = _board_points(session, challenge.id, Scope.USER, None if movers is None else sorted(movers))
        for enrolment, _tz in members:
            if enrolment.user_id not in progress:
                continue
            pct = 100 * progress[enrolment.user_id] / challenge.goal
            reached = [m for m in MILESTONES if pct >= m]
            for level in reached:
                yield Candidate(enrolment.user_id, NudgeKind.MILESTONE,
                                f"milestone:{challenge.id}:{enrolment.user_id}:{level}", {**params, "percent": level},
                                challenge_id=challenge.id,
                                skip_reason="superseded" if level != reached[-1] else None)
        return
    if fmt.goal_scope == "collective":
        if collective_total(session, challenge) >= challenge.goal:
            for enrolment in new_participants(session, challenge.id, f"goal:{challenge.id}:all"):
                yield Candidate(enrolment.user_id, NudgeKind.GOAL_REACHED,
                                f"goal:{challenge.id}:all:{enrolment.user_id}", {**params, "collective": True},
                                challenge_id=challenge.id)
        return
    team = fmt.group_scope is Scope.TEAM
    totals = _board_points(session, challenge.id, fmt.group_scope)
    for group, total in sorted(totals.items()):
        if total < challenge.goal:
            continue
        where = fmt.group_column() == group
        for enrolment in new_participants(session, challenge.id, f"goal:{challenge.id}:group{group}", where):
            name = enrolment.team.name if team and enrolment.team else None
            yield Candidate(enrolment.user_id, NudgeKind.GOAL_REACHED,
                            f"goal:{challenge.id}:group{group}:{enrolment.user_id}", {**params, "team": name},
                            challenge_id=challenge.id)


def badges_earned(session: Session, now: datetime) -> Iterator[Candidate]:
    titles = {}
    for award in session.scalars(select(BadgeAward).where(BadgeAward.awarded_at >= now - BADGE_LOOKBACK)):
        if award.contest_id and award.contest_id not in titles:
            titles[award.contest_id] = session.scalar(select(Challenge.title).where(Challenge.id == award.contest_id))
        yield Candidate(award.user_id, NudgeKind.BADGE_EARNED, f"badge:{award.id}",
                        {"badge": award.badge.name, "challenge": titles.get(award.contest_id)},
                        challenge_id=award.contest_id or None)


def announcements(session: Session, now: datetime) -> Iterator[Candidate]:
    """Fan out announcements whose time has come to the challenge's participants at that moment."""
    due = list(session.scalars(select(Announcement).where(Announcement.scheduled_at <= now,
                                                          Announcement.fanned_out_at.is_(None))))
    for item in due:
        claimed = session.execute(update(Announcement).where(Announcement.id == item.id,
                                                             Announcement.fanned_out_at.is_(None))
                                  .values(fanned_out_at=now).execution_options(synchronize_session=False))
        if not claimed.rowcount:  # type: ignore[attr-defined]
            continue
        challenge = session.get(Challenge, item.challenge_id)
        params: dict[str, Any] = {**challenge_params(challenge), "headline": item.title, "text": item.body}
        for enrolment, _tz in _members(session, item.challenge_id):
            yield Candidate(enrolment.user_id, NudgeKind.ANNOUNCEMENT, f"announcement:{item.id}:{enrolment.user_id}",
                            params, challenge_id=item.challenge_id, announcement_id=item.id)


def activity_candidates(session: Session, now: datetime) -> Iterator[Candidate]:
    running = _running(session, now)
    window = ledger_window(session, running, now)
    for challenge in running:
        members = _members(session, challenge.id, about_activity=True)
        yield from inactive(session, challenge, members, now)
        yield from streak_at_risk(session, challenge, members, now)
        yield from goals(session, challenge, members, now, window.movers(challenge.id))
    yield from overtaken_candidates(session, running, window, now)
    yield from badges_earned(session, now)
    yield from announcements(session, now)


def plan_activity_nudges(session: Session, holder: str = "") -> PlanResult:
    now = utcnow()
    result = plan(session, list(activity_candidates(session, now)), now)
    session.commit()
    return result


def _already_planned(session: Session, challenge_id: int, kind: NudgeKind, since: datetime) -> set[int]:
    return set(session.scalars(select(Nudge.user_id).where(Nudge.challenge_id == challenge_id, Nudge.kind == kind,
                                                           Nudge.created_at >= since)))


def _user_ranks(session: Session, challenge_id: int, user_ids: list[int]) -> dict[int, int]:
    """All-time rank of each user on the board, set-based: their totals, then one rank per distinct total."""
    totals = {u: p for u, p in _board_points(session, challenge_id, Scope.USER, user_ids).items() if p > 0}
    if not totals:
        return {}
    ranks = leaderboards.ranks_of_points(session, challenge_id, Scope.USER, "all", set(totals.values()))
    return {uid: ranks[points] for uid, points in totals.items()}


def weekly_candidates(session: Session, now: datetime) -> Iterator[Candidate]:
    """From Monday 09:00 in the user's own zone: their last week (Monday to Sunday, their calendar), points,
    active days and rank, for challenges live last week. Members already told this week are not looked at
    again, and the rest are read set-based (one query for the days, a few for the ranks)."""
    challenges = session.scalars(select(Challenge).where(
        Challenge.status != ChallengeStatus.DRAFT, Challenge.starts_at <= now - timedelta(days=1),
        Challenge.ends_at > now - timedelta(days=8)))
    for challenge in challenges:
        due: list[tuple[Enrolment, datetime]] = []
        told = _already_planned(session, challenge.id, NudgeKind.WEEKLY_SUMMARY, now - timedelta(days=2))
        for enrolment, tz in _members(session, challenge.id, about_activity=True):
            local = now.astimezone(zone(tz))
            if local.weekday() != 0 or local.time() < WEEKLY_AT or enrolment.user_id in told:
                continue
            if challenge.starts_at >= datetime.combine(local.date(), time(0), tzinfo=zone(tz)):
                continue  # nothing happened last week
            due.append((enrolment, local))
        if not due:
            continue
        first = min(local.date() for _, local in due) - timedelta(days=7)
        days = _day_points(session, challenge.id, sorted({e.user_id for e, _ in due}), first)
        ranks = _user_ranks(session, challenge.id, sorted({e.user_id for e, _ in due}))
        for enrolment, local in due:
            monday = local.date() - timedelta(days=7)
            week_days = {d: p for d, p in days.get(enrolment.user_id, {}).items()
                         if monday <= d < monday + timedelta(days=7)}
            week = monday.isocalendar()
            yield Candidate(enrolment.user_id, NudgeKind.WEEKLY_SUMMARY,
                            f"weekly:{challenge.id}:{enrolment.user_id}:{week.year}-W{week.week:02d}",
                            {**challenge_params(challenge), "points": sum(week_days.values()),
                             "active_days": sum(1 for p in week_days.values() if p > 0),
                             "rank": ranks.get(enrolment.user_id, "-")},
                            challenge_id=challenge.id,
                            expires_at=datetime.combine(local.date() + timedelta(days=1), time(0),
                                                        tzinfo=local.tzinfo))


def plan_weekly_summaries(session: Session, holder: str = "") -> PlanResult:
    now = utcnow()
    result = plan(session, list(weekly_candidates(session, now)), now)
    session.commit()
    return result


__all__ = ["activity_candidates", "plan_activity_nudges", "plan_weekly_summaries", "weekly_candidates"]
