"""Demo activity for `vcc seed-demo`: three weeks of varied, realistic activity through the real ingest path.

Every enrolled participant of the given challenges syncs what a phone or watch would have recorded: cyclists
their rides to work and back (Health Connect sessions), employees their step counts in a few buckets a day
(step records), and now and then a walk, a run or a gym session logged by hand. A week is synced at a time,
as an app would, through
``ingest.sync_batch`` with the week's end as "now" (so nothing counts as a late sync). A handful of entries
are implausible (a "ride" at car speed) so the organisers' review queue has something in it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.activities import ingest
from challenges.activities.models import ActivityIn, ActivitySource
from challenges.models import Challenge, Enrolment
from scoring import badges
from scoring.types import Metric
from service import clock
from service.clock import utcnow
from service.models import User

SEED = 20260501


def _at(day: Any, hour: float, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(int(hour), int(hour % 1 * 60)), zone)


def _cyclist_day(rng: random.Random, uid: int, day: Any, zone: ZoneInfo) -> list[dict[str, Any]]:
    if (day.weekday() >= 5 and rng.random() < 0.6) or rng.random() < 0.3:
        return []
    km = rng.uniform(3, 14)
    minutes = km / rng.uniform(13, 24) * 60
    return [{"source": "health_connect", "external_id": f"demo-{uid}-{day}-{leg}", "type": "cycling",
             "started_at": _at(day, hour, zone).isoformat(), "duration_s": round(minutes * 60),
             "distance_m": round(km * 1000, 1)}
            for leg, hour in (("am", rng.uniform(7, 9)), ("pm", rng.uniform(16, 18)))]


def _walker_day(rng: random.Random, uid: int, day: Any, zone: ZoneInfo) -> list[dict[str, Any]]:
    target = rng.gauss(8500 if day.weekday() < 5 else 7000, 2500)
    return [{"source": "health_connect", "external_id": f"demo-{uid}-{day}-s{n}", "type": "walking",
             "kind": "steps", "started_at": _at(day, start, zone).isoformat(), "duration_s": hours * 3600,
             "steps": max(0, round(target * share * rng.uniform(0.8, 1.2)))}
            for n, (start, hours, share) in enumerate(((7, 2, 0.25), (11.5, 2, 0.3), (16, 4, 0.45)))]


def _extras(rng: random.Random, uid: int, day: Any, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Sessions logged by hand now and then (they count where their type is allowed)."""
    if rng.random() > 0.25:
        return []
    kind = rng.choice(["walking", "running", "fitness_gym", "yoga", "swimming_slow"])
    minutes = rng.randint(20, 70)
    item: dict[str, Any] = {"source": "manual", "external_id": f"demo-{uid}-{day}-m", "type": kind,
                            "started_at": _at(day, rng.uniform(18.5, 20), zone).isoformat(),
                            "duration_s": minutes * 60}
    if kind == "running":
        item["distance_m"] = round(minutes / 60 * rng.uniform(8.5, 12.5) * 1000)
    elif kind == "walking":
        item["distance_m"] = round(minutes / 60 * rng.uniform(4, 5.5) * 1000)
    return [item]


def seed_activities(session: Session, challenge_ids: list[int]) -> list[str]:
    """Sync three weeks of activity for everyone enrolled in these challenges; returns lines to print."""
    rng = random.Random(SEED)
    now = utcnow()
    challenges = {c.id: c for c in session.scalars(select(Challenge).where(Challenge.id.in_(challenge_ids)))}
    metrics: dict[int, set[Metric]] = defaultdict(set)
    for challenge_id, user_id in session.execute(select(Enrolment.challenge_id, Enrolment.user_id).where(
            Enrolment.challenge_id.in_(list(challenges)), Enrolment.left_at.is_(None))):
        metrics[user_id].add(Metric(challenges[challenge_id].metric))
    if not metrics:
        return ["activities: nobody enrolled, nothing synced"]
    start = min(c.starts_at for c in challenges.values())
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(list(metrics))))}
    counts: dict[str, int] = defaultdict(int)
    flagged = 0
    for uid in sorted(metrics):
        user = users[uid]
        zone = clock.zone(user.timezone or "UTC")
        day = start.astimezone(zone).date()
        last = now.astimezone(zone).date() - timedelta(days=1)
        while day <= last:
            week_end = min(day + timedelta(days=6), last)
            synced: list[dict[str, Any]] = []
            d = day
            while d <= week_end:
                if Metric.DISTANCE_M in metrics[uid]:
                    synced += _cyclist_day(rng, uid, d, zone)
                if Metric.STEPS in metrics[uid]:
                    synced += _walker_day(rng, uid, d, zone)
                synced += _extras(rng, uid, d, zone)
                d += timedelta(days=1)
            sync_now = min(now, datetime.combine(week_end + timedelta(days=1), time(6), zone))
            for r in ingest.sync_batch(session, user, synced, now=sync_now, award=False):
                counts[r.status] += 1
            day = week_end + timedelta(days=1)
        if flagged < 3 and Metric.DISTANCE_M in metrics[uid] and uid % 7 == 0:
            flagged += 1
            begin = (now - timedelta(hours=20 + flagged)).replace(minute=0, second=0, microsecond=0)
            view, _ = ingest.record_activity(session, user, ActivityIn(
                "cycling", begin, 1800, ActivitySource.MANUAL, external_id=f"demo-{uid}-implausible",
                distance_m=38_000))
            counts[view["result"]] += 1
    badges.ensure_definitions(session)
    for challenge in challenges.values():
        badges.evaluate(session, challenge.id, sorted(metrics),
                        context={"goal": challenge.goal, "tz": challenge.timezone})
    session.flush()
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return [f"activities: {len(metrics)} participants synced three weeks ({summary}); "
            f"{flagged} implausible rides await review"]
