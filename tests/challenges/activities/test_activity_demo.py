"""The demo's three weeks of activity go through the real ingest path and count exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from challenges.activities.demo import seed_activities
from challenges.activities.models import Activity, ActivityKind
from scoring.models import PointsEntry
from service.clock import utcnow
from tests.challenges.factories import enrol, make_challenge
from tests.factories import make_org, quick_user


def test_demo_activity_scores_every_participant_and_a_second_run_stores_nothing_twice(app, session):
    org = make_org(session)
    start = utcnow() - timedelta(days=5)
    rides = make_challenge(session, org, metric="distance_m", starts_at=start,
                           allowed_types=["cycling", "cycling_commute"])
    steps = make_challenge(session, org, metric="steps", starts_at=start)
    people = [quick_user(session) for _ in range(4)]
    for person in people[:2]:
        enrol(session, rides, person)
    for person in people[1:]:
        enrol(session, steps, person)
    session.commit()

    lines = seed_activities(session, [rides.id, steps.id])
    session.commit()
    assert "4 participants" in lines[0]
    stored = session.scalar(select(func.count()).select_from(Activity))
    step_records = session.scalar(select(func.count()).where(Activity.kind == ActivityKind.STEPS))
    assert step_records == 3 * 3 * 5  # three people, three buckets a day, five days
    totals = dict(session.execute(select(PointsEntry.user_id, func.sum(PointsEntry.points))
                                  .group_by(PointsEntry.user_id)).all())
    assert set(totals) == {p.id for p in people} and min(totals.values()) > 0

    seed_activities(session, [rides.id, steps.id])
    session.commit()
    assert session.scalar(select(func.count()).select_from(Activity)) == stored
    assert dict(session.execute(select(PointsEntry.user_id, func.sum(PointsEntry.points))
                                .group_by(PointsEntry.user_id)).all()) == totals
