"""The planner after an erasure: the erased person's lines (no user any more) in the planner's ledger window
break nothing, and nobody plans a nudge for the tombstone, whose enrolment stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.finalise import lifecycle_candidates
from notifications.models import Nudge, NudgeKind
from notifications.planner import plan
from notifications.rules import plan_activity_nudges
from scoring.models import PointsEntry
from service.accounts import delete_user
from tests.challenges.factories import enrol, make_challenge
from tests.factories import make_org, quick_user
from tests.notifications.test_rules import give

START = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


@time_machine.travel(START + timedelta(days=1), tick=False)
def test_the_planner_reads_past_erased_lines_and_never_plans_for_the_tombstone(session: Session) -> None:
    start = START
    challenge = make_challenge(session, make_org(session), starts_at=start, ends_at=start + timedelta(days=30),
                               goal=100)
    erased, leader, chaser = quick_user(session), quick_user(session), quick_user(session)
    for user in (erased, leader, chaser):
        enrol(session, challenge, user)
    give(session, challenge, leader, start + timedelta(hours=2), minutes=60)
    plan_activity_nudges(session)  # the planner's cursor is set
    give(session, challenge, erased, start + timedelta(hours=26), minutes=120)  # passes the leader, goal reached
    give(session, challenge, chaser, start + timedelta(hours=26), minutes=30)
    delete_user(session, erased)
    session.commit()
    assert session.scalar(select(PointsEntry.id).where(PointsEntry.user_id.is_(None))) is not None

    plan_activity_nudges(session)
    plan(session, list(lifecycle_candidates(session, start + timedelta(days=29))))
    session.commit()
    planned = {(n.user_id, n.kind) for n in session.scalars(select(Nudge))}
    assert erased.id not in {user_id for user_id, _ in planned}
    assert (leader.id, NudgeKind.MILESTONE) in planned and (leader.id, NudgeKind.OVERTAKEN) not in planned
    assert (chaser.id, NudgeKind.CHALLENGE_ENDING) in planned
