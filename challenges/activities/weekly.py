"""A participant's own weeks against the WHO guideline, across every challenge and none.

The WHO recommends at least 150 minutes of moderate, or 75 of vigorous, activity a week (a vigorous minute
counts as two). This is what the app shows on its home screen whatever challenges the person is in, so it is
computed from their activities, not from any challenge's ledger: every accepted activity counts once (the
same record from two sources was already resolved to one; flagged ones count once an organiser approves
them), with the same MET rules the challenges use (``scoring.rules.explain`` for active minutes, vigorous
doubled). Weeks are ISO weeks in the person's own time zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.activities.models import Activity, ActivityKind, ActivityStatus
from scoring import rules
from scoring.periods import week_start
from scoring.types import ActivityFacts, Metric, ScoringRules
from service import clock
from service.clock import utcnow
from service.models import User

WHO_WEEKLY_MINUTES = 150


def weekly_summary(session: Session, user: User, weeks: int = 8, now: datetime | None = None) -> dict[str, Any]:
    """The last ``weeks`` ISO weeks (this one first), each with its minutes, steps, distance and sessions."""
    tz = user.timezone or "UTC"
    zone = clock.zone(tz)
    now = now or utcnow()
    this_week = week_start(now.astimezone(zone).date())
    first = this_week - timedelta(weeks=weeks - 1)
    since = datetime.combine(first, time(), zone)
    plain = ScoringRules(contest_id=0, metric=Metric.ACTIVE_MINUTES, timezone=tz)
    who = ScoringRules(contest_id=0, metric=Metric.ACTIVE_MINUTES, timezone=tz, vigorous_counts_double=True)
    totals: dict[date, dict[str, Any]] = {first + timedelta(weeks=i): _empty() for i in range(weeks)}
    rows = session.execute(select(Activity.type_code, Activity.kind, Activity.started_at, Activity.duration_s,
                                  Activity.distance_m, Activity.steps)
                           .where(Activity.user_id == user.id, Activity.status == ActivityStatus.ACCEPTED,
                                  Activity.deleted_at.is_(None), Activity.started_at >= since))
    for type_code, kind, started_at, duration_s, distance_m, steps in rows:
        week = totals.get(week_start(started_at.astimezone(zone).date()))
        if week is None:  # starts after this week (a clock ahead by minutes): not a past week
            continue
        if kind == ActivityKind.STEPS:
            week["steps"] += steps or 0
            continue
        week["sessions"] += 1
        week["distance_m"] += distance_m or 0.0
        facts = ActivityFacts(type_code=type_code, started_at=started_at, duration_s=duration_s, distance_m=distance_m)
        counted, _ = rules.explain(plain, facts)  # moderate and vigorous minutes (light ones are not counted)
        doubled, _ = rules.explain(who, facts)  # the same, vigorous ones twice
        week["vigorous_minutes"] += doubled - counted
        week["moderate_minutes"] += 2 * counted - doubled
        week["active_minutes"] += doubled
    out = []
    for start in sorted(totals, reverse=True):
        week = totals[start]
        year, number, _ = start.isocalendar()
        out.append({"week": f"{year}-W{number:02d}", "starts_on": start,
                    **{k: round(v, 1) if isinstance(v, float) else v for k, v in week.items()},
                    "goal_met": week["active_minutes"] >= WHO_WEEKLY_MINUTES})
    return {"timezone": tz, "weekly_goal_minutes": WHO_WEEKLY_MINUTES, "weeks": out}


def _empty() -> dict[str, Any]:
    return {"active_minutes": 0.0, "moderate_minutes": 0.0, "vigorous_minutes": 0.0, "steps": 0,
            "distance_m": 0.0, "sessions": 0}
