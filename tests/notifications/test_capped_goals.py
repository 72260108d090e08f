"""Goal nudges count the same capped points as the progress endpoint, not raw (uncapped) minutes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges.lifecycle import rules_for
from challenges.models import Challenge, ChallengeFormat
from challenges.participation.enrolment import find_enrolment, subject_for
from challenges.standings.boards import progress
from notifications.models import Nudge, NudgeKind
from notifications.rules import plan_activity_nudges
from scoring import ledger
from scoring.types import ActivityFacts
from service.models import Role, User
from tests.challenges.factories import enrol, make_challenge, make_team
from tests.factories import make_org, quick_user

START = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(START + timedelta(days=3), tick=False):
        yield


def give(session: Session, challenge: Challenge, user: User, when: datetime, minutes: int, key: str) -> None:
    enrolment = find_enrolment(session, challenge.id, user.id)
    ledger.score(session, rules_for(challenge), subject_for(challenge, enrolment), key,
                 ActivityFacts("walking", when, minutes * 60))
    session.commit()


def milestones(session: Session, user: User) -> list[int]:
    return sorted(n.params["percent"] for n in session.scalars(
        select(Nudge).where(Nudge.kind == NudgeKind.MILESTONE, Nudge.user_id == user.id)))


def test_half_goal_milestone_waits_for_capped_points_not_uncapped_minutes(session: Session, frozen: None) -> None:
    challenge = make_challenge(session, make_org(session), starts_at=START, ends_at=START + timedelta(days=30),
                               goal=100, daily_cap=30)
    walker = quick_user(session)
    enrol(session, challenge, walker)
    give(session, challenge, walker, START + timedelta(hours=2), 80, "a")  # 80 minutes, capped to 30 points
    plan_activity_nudges(session)
    assert progress(session, challenge, walker)["goal"]["value"] == 30
    assert milestones(session, walker) == []  # 80 % uncapped, 30 % as progress shows it

    give(session, challenge, walker, START + timedelta(days=1, hours=2), 15, "b")  # 45 points
    plan_activity_nudges(session)
    assert milestones(session, walker) == []

    give(session, challenge, walker, START + timedelta(days=1, hours=3), 10, "c")  # 25 that day, under the cap: 55
    plan_activity_nudges(session)
    assert progress(session, challenge, walker)["goal"]["value"] == 55
    assert milestones(session, walker) == [50]
    plan_activity_nudges(session)
    assert milestones(session, walker) == [50]


@pytest.mark.parametrize("fmt", [ChallengeFormat.TEAM, ChallengeFormat.COLLECTIVE])
def test_group_goal_reached_counts_capped_points(session: Session, frozen: None, fmt: ChallengeFormat) -> None:
    organiser = quick_user(session)
    org = make_org(session, members={organiser: Role.ORGANISER})
    challenge = make_challenge(session, org, starts_at=START, ends_at=START + timedelta(days=30),
                               goal=100, daily_cap=40, format=fmt)
    people = [quick_user(session) for _ in range(2)]
    team = make_team(session, challenge, organiser, "Red") if fmt == ChallengeFormat.TEAM else None
    for person in people:
        enrol(session, challenge, person, **({"team_code": team.code} if team else {}))
    for i, person in enumerate(people):
        give(session, challenge, person, START + timedelta(hours=2), 90, f"g{i}")  # 180 raw, 80 capped
    plan_activity_nudges(session)
    assert progress(session, challenge, people[0])["goal"]["value"] == 80
    assert session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.GOAL_REACHED)).all() == []

    give(session, challenge, people[0], START + timedelta(days=1, hours=2), 20, "g2")  # 100 capped
    plan_activity_nudges(session)
    told = sorted(n.user_id for n in session.scalars(select(Nudge).where(Nudge.kind == NudgeKind.GOAL_REACHED)))
    assert progress(session, challenge, people[0])["goal"]["value"] == 100
    assert told == sorted(p.id for p in people)
