"""Where a stored activity counts: its entries in the user's challenges, and its points in the ledger.

For each challenge the user is enrolled in (not left, published or ended) an activity gets an
``ActivityEntry`` when it is relevant there: a session whose type the challenge allows (step records only in
steps challenges, where sessions do not count: steps come from step records, which dedupe across devices),
starting inside the window. The entry is

- ``counted`` (scored through ``scoring.ledger.score_many`` under ``activity:<id>``) when the activity is
  accepted and arrived within the late-sync grace period;
- ``flagged`` (no points until an organiser approves) when the activity itself is flagged, when it breaks the
  challenge's own plausibility limits (``Challenge.plausibility``), when it arrived later than ``grace_days``
  after it ended (or after the challenge ended), or when it began before the challenge window but reaches
  into it.

Withdrawal (edit, delete, a richer record superseding this one) reverses the points of every counted entry.
Every function works on a whole list so a batch of 1,000 costs a handful of statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from challenges.activities import bulk_rows, plausibility
from challenges.activities.models import Activity, ActivityEntry, ActivityKind, ActivityStatus, EntryStatus
from challenges.lifecycle import rules_for
from challenges.limits import ChallengeLimits, challenge_limits
from challenges.models import Challenge, ChallengeStatus, Enrolment
from challenges.participation.enrolment import effective_end, subject_for
from scoring import badges, ledger
from scoring.types import ActivityFacts, Metric, ScoringRules, Subject
from service import clock


class Countable(Protocol):
    id: int
    user_id: int
    type_code: str
    kind: ActivityKind
    started_at: datetime
    ended_at: datetime
    duration_s: int
    distance_m: float | None
    steps: int | None
    moving_time_s: int | None
    status: ActivityStatus
    reason: str | None


@dataclass
class Enrolled:
    """A challenge the user takes part in, with what counting reads of it copied out of the ORM object once
    (a batch asks for them per activity: plain attributes, not instrumented ones)."""

    challenge: Challenge
    rules: ScoringRules
    subject: Subject
    limits: ChallengeLimits | None = field(init=False)
    challenge_id: int = field(init=False)
    metric: Metric = field(init=False)
    starts_at: datetime = field(init=False)
    ends_at: datetime = field(init=False)  # the effective end: an early end counts
    grace: timedelta = field(init=False)

    def __post_init__(self) -> None:
        c = self.challenge
        self.limits = challenge_limits(c.plausibility)
        self.challenge_id, self.metric, self.starts_at, self.ends_at = c.id, c.metric, c.starts_at, effective_end(c)
        self.grace = timedelta(days=c.grace_days)


_ENROLLED = (select(Challenge, Enrolment).join(Enrolment, Enrolment.challenge_id == Challenge.id)
             .where(Enrolment.user_id.in_(bindparam("users", expanding=True)), Enrolment.left_at.is_(None),
                    Challenge.status != ChallengeStatus.DRAFT)
             .order_by(Challenge.id))
"""Built once (ingest runs it on every request); the user ids are bound at execution."""


def enrolled(session: Session, user_ids: Iterable[int]) -> dict[int, list[Enrolled]]:
    """Each user's current enrolments in non-draft challenges, with rules and subject resolved once."""
    rows = session.execute(_ENROLLED, {"users": list(user_ids)}).all()
    out: dict[int, list[Enrolled]] = defaultdict(list)
    for challenge, enrolment in rows:
        out[enrolment.user_id].append(Enrolled(challenge, rules_for(challenge), subject_for(challenge, enrolment)))
    return out


def relevant(act: Countable, e: Enrolled) -> bool:
    metric = e.metric
    if act.kind == ActivityKind.STEPS:
        if metric != Metric.STEPS:
            return False
    elif metric == Metric.STEPS or metric == Metric.CHECKINS:
        return False
    if e.rules.allowed_types is not None and act.type_code not in e.rules.allowed_types:
        return False
    return act.ended_at > e.starts_at and act.started_at < e.ends_at


def placement(act: Countable, e: Enrolled, now: datetime, day_steps_before: int = 0) -> tuple[EntryStatus, str | None]:
    """Counted or flagged in this challenge, and why; the challenge's own plausibility limits apply, and
    ``day_steps_before`` is the participant's other live steps of the activity's day in its time zone."""
    if act.status == ActivityStatus.FLAGGED:
        return EntryStatus.FLAGGED, act.reason
    limits = e.limits
    if limits is not None:
        breaches = plausibility.challenge_flags(
            limits, type_code=act.type_code, kind=act.kind, duration_s=act.duration_s,
            moving_time_s=act.moving_time_s, distance_m=act.distance_m, steps=act.steps,
            day_steps_before=day_steps_before)
        if breaches:
            return EntryStatus.FLAGGED, "; ".join(breaches)
    if act.started_at < e.starts_at:
        return EntryStatus.FLAGGED, "outside-window: the activity began before the challenge started"
    deadline = min(act.ended_at, e.ends_at) + e.grace
    if now > deadline:
        return EntryStatus.FLAGGED, (f"late-sync: received more than {e.grace.days} days after the activity "
                                     "(the challenge's grace period)")
    return EntryStatus.COUNTED, None


def facts_of(act: Countable, weight_kg: float | None = None) -> ActivityFacts:
    return ActivityFacts(type_code=act.type_code, started_at=act.started_at, duration_s=act.duration_s,
                         distance_m=act.distance_m,
                         steps=act.steps if act.kind == ActivityKind.STEPS else None, weight_kg=weight_kg)


@dataclass
class Counted:
    """What counting produced: entry rows by activity id and points by (activity id, challenge id)."""

    entries: dict[int, list[dict[str, Any]]]
    points: dict[tuple[int, int], int]


def count(session: Session, acts: Sequence[Countable], now: datetime,
          enrolments: dict[int, list[Enrolled]] | None = None, weights: dict[int, float | None] | None = None,
          *, award: bool = True, fresh: bool = False, first: list[tuple[Table, list[dict]]] | None = None
          ) -> Counted:
    """Create the entries of live activities (accepted or flagged) and score the counted ones.

    ``award=False`` leaves badges to the caller (a bulk load evaluates them once at the end). ``fresh``: the
    activities were inserted in this transaction, so the ledger holds nothing of them yet (no state read).
    ``first``: rows the entries depend on that are not written yet (a new activity whose id was drawn
    beforehand); they ride in the ledger's statement with the entries when there is one, else go in first.
    """
    live = [a for a in acts if a.status in (ActivityStatus.ACCEPTED, ActivityStatus.FLAGGED)]
    result = Counted(defaultdict(list), {})
    first = [(t, r) for t, r in first or () if r]
    if not live:
        _write(session, first)
        return result
    if enrolments is None:
        enrolments = enrolled(session, {a.user_id for a in live})
    weights = weights or {}
    rows: list[dict[str, Any]] = []
    to_score: dict[int, tuple[Enrolled, list]] = {}
    day_steps = DaySteps.for_call(session, live, enrolments)
    for act in live:
        for e in enrolments.get(act.user_id, ()):
            if not relevant(act, e):
                continue
            before = day_steps.before(act, e.challenge.timezone) if day_steps and e.limits else 0
            status, reason = placement(act, e, now, before)
            row = {"activity_id": act.id, "challenge_id": e.challenge_id, "status": status, "reason": reason,
                   "created_at": now}
            rows.append(row)
            result.entries[act.id].append(row)
            if status == EntryStatus.COUNTED:
                bucket = to_score.setdefault(e.challenge_id, (e, []))[1]
                bucket.append((e.subject, f"activity:{act.id}", facts_of(act, weights.get(act.user_id))))
        if day_steps:
            day_steps.add(act)
    also: list | None = None
    if fresh and to_score and len(rows) < bulk_rows.COPY_FROM:
        also = [*first, (ActivityEntry.__table__, rows)]  # a few rows: in the ledger's statement, one round trip
    else:
        _write(session, [*first, (ActivityEntry.__table__, rows)])
    for challenge_id, (e, items) in to_score.items():
        user_totals: dict[int, int] = {}
        lines: dict[int, list[tuple[str, int, int]]] = {}
        active: set[int] = set()
        scored = ledger.score_many(session, e.rules, items, user_totals, fresh=fresh, also=also, lines=lines)
        also = None
        for res, (subject, _, _) in zip(scored, items, strict=True):
            result.points[(int(res.source_key.split(":", 1)[1]), challenge_id)] = res.points
            if res.created:
                active.add(subject.user_id)
        if award:
            award_badges(session, e.challenge, sorted({subject.user_id for subject, _, _ in items}),
                         totals=user_totals, active=active, lines=lines)
    return result


def _write(session: Session, tables: list[tuple[Table, list[dict]]]) -> None:
    for table, rows in tables:
        bulk_rows.write(session, table, rows)


_DAY_MARGIN = timedelta(days=2)
"""A local day lies within a day and a bit of any instant in it, whatever the time zone (DST included)."""


class DaySteps:
    """The participants' live step records per local day, for challenges with a day-steps limit of their own.

    Read with one query per ``count`` call, and only when some activity of the call is a step record falling
    in such a challenge; the activities of the call itself are left out of what was read and added in call
    order, so (as in the activity's own verdict) the record that takes the day over the limit is flagged and
    the ones before it are not.
    """

    def __init__(self, stored: dict[int, list[tuple[datetime, int]]], zones: set[str]) -> None:
        self._stored = stored
        self._zones = zones
        self._totals: dict[tuple[int, str], dict[date, int]] = {}
        self._added: dict[tuple[int, str, date], int] = defaultdict(int)

    @classmethod
    def for_call(cls, session: Session, live: Sequence[Countable],
                 enrolments: dict[int, list[Enrolled]]) -> DaySteps | None:
        users: set[int] = set()
        zones: set[str] = set()
        starts: list[datetime] = []
        for act in live:
            if act.kind != ActivityKind.STEPS:
                continue
            for e in enrolments.get(act.user_id, ()):
                if e.limits and e.limits.steps_flag_per_day is not None and relevant(act, e):
                    users.add(act.user_id)
                    zones.add(e.challenge.timezone)
                    starts.append(act.started_at)
        if not users:
            return None
        mine = {act.id for act in live}
        stored: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
        for user_id, aid, started_at, steps in session.execute(
                select(Activity.user_id, Activity.id, Activity.started_at, Activity.steps).where(
                    Activity.user_id.in_(sorted(users)), Activity.kind == ActivityKind.STEPS,
                    Activity.started_at >= min(starts) - _DAY_MARGIN, Activity.started_at < max(starts) + _DAY_MARGIN,
                    Activity.status.in_((ActivityStatus.ACCEPTED, ActivityStatus.FLAGGED)),
                    Activity.deleted_at.is_(None))):
            if aid not in mine:
                stored[user_id].append((started_at, steps or 0))
        return cls(stored, zones)

    def _day_totals(self, user_id: int, tz: str) -> dict[date, int]:
        key = (user_id, tz)
        if key not in self._totals:
            zone, totals = clock.zone(tz), defaultdict(int)
            for started_at, steps in self._stored.get(user_id, ()):
                totals[started_at.astimezone(zone).date()] += steps
            self._totals[key] = totals
        return self._totals[key]

    def before(self, act: Countable, tz: str) -> int:
        """The participant's steps of the activity's day (in ``tz``) apart from this activity and later ones."""
        if act.kind != ActivityKind.STEPS:
            return 0
        day = act.started_at.astimezone(clock.zone(tz)).date()
        return self._day_totals(act.user_id, tz).get(day, 0) + self._added.get((act.user_id, tz, day), 0)

    def add(self, act: Countable) -> None:
        """Count this activity towards its day, for the activities after it in the call."""
        if act.kind != ActivityKind.STEPS or not act.steps:
            return
        for tz in self._zones:
            self._added[(act.user_id, tz, act.started_at.astimezone(clock.zone(tz)).date())] += act.steps


def award_badges(session: Session, challenge: Challenge, user_ids: list[int], *,
                 totals: dict[int, int] | None = None, active: set[int] | None = None,
                 lines: dict[int, list[tuple[str, int, int]]] | None = None) -> None:
    """Badges are earned by points, so they are checked where points are made (new awards only).

    An activity is never a check-in, so check-in badges are left to the check-in path; ``totals`` (new
    all-time totals from the board upsert), ``active`` (users who just got a live activity entry) and
    ``lines`` (their day and week lines before and after) spare the badge checks their ledger reads.
    """
    context: dict[str, Any] = {"goal": challenge.goal, "tz": challenge.timezone, "skip": {"checkin_locations"},
                               "totals": totals or {}, "active": active or set()}
    if lines is not None:
        context["lines"] = lines
    badges.evaluate(session, challenge.id, user_ids, context=context, load=False)


def score_entries(session: Session, entries: Sequence[ActivityEntry], act: Countable, reviewer_id: int | None,
                  now: datetime, weight_kg: float | None = None) -> dict[int, int]:
    """Count flagged entries of one activity after an organiser's approval; points by challenge id."""
    points: dict[int, int] = {}
    enrolments = {e.challenge.id: e for e in enrolled(session, [act.user_id]).get(act.user_id, [])}
    for entry in entries:
        e = enrolments.get(entry.challenge_id)
        if e is None:  # the participant left meanwhile: nothing to count for
            continue
        res = ledger.score(session, e.rules, e.subject, f"activity:{act.id}", facts_of(act, weight_kg))
        entry.status, entry.reviewed_by_id, entry.reviewed_at = EntryStatus.COUNTED, reviewer_id, now
        points[entry.challenge_id] = res.points
        award_badges(session, e.challenge, [act.user_id])
    return points


def withdraw(session: Session, activity_ids: Sequence[int], reason: str, *, drop: bool = False) -> int:
    """Reverse the points of these activities everywhere they counted; returns the points removed.

    With ``drop`` the entries are deleted (an edit counts the activity afresh); otherwise they are kept as
    ``withdrawn`` with the reason, as the trail of what happened.
    """
    if not activity_ids:
        return 0
    entries = session.execute(
        select(ActivityEntry.id, ActivityEntry.activity_id, ActivityEntry.status, Challenge)
        .join(Challenge, Challenge.id == ActivityEntry.challenge_id)
        .where(ActivityEntry.activity_id.in_(list(activity_ids)))).all()
    removed = 0
    for _, activity_id, status, challenge in entries:
        if status == EntryStatus.COUNTED:
            removed += ledger.reverse(session, rules_for(challenge), f"activity:{activity_id}")
    ids = [row[0] for row in entries]
    if ids and drop:
        session.execute(delete(ActivityEntry).where(ActivityEntry.id.in_(ids)))
    elif ids:
        session.execute(update(ActivityEntry).where(ActivityEntry.id.in_(ids))
                        .values(status=EntryStatus.WITHDRAWN, reason=reason))
    return removed
