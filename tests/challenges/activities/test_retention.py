"""Activity retention: the details of a challenge's activities and check-ins go ACTIVITY_RETENTION_DAYS after its
effective end and grace period, while the ledger, every board and each person's points stay as they were."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from challenges import lifecycle
from challenges.activities import ingest
from challenges.activities.distance_samples import DistanceSample
from challenges.activities.models import Activity, ActivityEntry, ActivityIn, ActivitySource
from challenges.activities.retention import ACTIVITY_RETENTION_DAYS, past_retention, reduce_to_ledger
from challenges.models import Challenge, ChallengeFormat, CheckIn
from challenges.places import locations
from challenges.places.checkins import CheckInProof, check_in
from notifications import jobs
from scoring import ledger
from scoring.models import LeaderboardTotal, PointsEntry
from service.models import Role, User
from service.scheduler import bind_app
from tests.challenges.factories import enrol, make_challenge, make_team
from tests.factories import make_org, quick_user

BASE = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PARK = (61.4981, 23.7610)
GRACE = timedelta(days=7)  # the challenges' default grace_days
RETENTION = timedelta(days=ACTIVITY_RETENTION_DAYS)


@dataclass
class Seeded:
    early: Challenge  # team challenge, ends BASE + 1 day
    late: Challenge  # individual, ends BASE + 60 days
    pat: User
    own_log: int  # before any challenge: counts nowhere
    early_only: int  # Pat's, in the early challenge only
    both: int  # Pat's, in both challenges
    quinn_early: int  # Quinn's, in the early challenge only


def _log(session: Session, user: User, started_at: datetime, minutes: int, **extra: Any) -> int:
    with time_machine.travel(started_at + timedelta(minutes=minutes + 5), tick=False):
        view, _ = ingest.record_activity(session, user, ActivityIn(
            type_code="walking", started_at=started_at, duration_s=minutes * 60, source=ActivitySource.WEARABLE,
            external_id=f"w-{user.id}-{started_at:%Y%m%d%H%M}", source_ref="com.example.watch", **extra))
    session.commit()
    return int(view["id"])


def seed(session: Session, app: Flask) -> Seeded:
    with time_machine.travel(BASE - timedelta(days=40), tick=False):
        organiser = quick_user(session)
        org = make_org(session, members={organiser: Role.ORGANISER})
        pat, quinn = quick_user(session, display_name="Pat"), quick_user(session, display_name="Quinn")
        early = make_challenge(session, org, format=ChallengeFormat.TEAM, starts_at=BASE - timedelta(days=20),
                               ends_at=BASE + timedelta(days=1))
        late = make_challenge(session, org, starts_at=BASE - timedelta(days=8), ends_at=BASE + timedelta(days=60))
        red = make_team(session, early, organiser, "Red")
        for person in (pat, quinn):
            enrol(session, early, person, team_code=red.code)
        enrol(session, late, pat)
        session.commit()
    own_log = _log(session, pat, BASE - timedelta(days=30), 40)
    early_only = _log(session, pat, BASE - timedelta(days=15), 30, distance_m=2500.0)
    both = _log(session, pat, BASE - timedelta(days=3), 45)
    quinn_early = _log(session, quinn, BASE - timedelta(days=2), 20)
    act = session.get(Activity, early_only)
    assert act is not None
    session.add(DistanceSample(user_id=pat.id, source=ActivitySource.HEALTH_CONNECT, external_id="hc-d-1",
                               started_at=act.started_at, ended_at=act.ended_at, distance_m=2500.0,
                               activity_id=early_only))
    with time_machine.travel(BASE, tick=False):
        for challenge in (early, late):
            spot = locations.create_location(session, challenge, {"name": f"Park {challenge.id}", "lat": PARK[0],
                                                                  "lon": PARK[1], "radius_m": 80})
            check_in(session, challenge, pat, spot.id, CheckInProof(lat=PARK[0], lon=PARK[1]), now=BASE,
                     app_secret=app.config["SECRET_KEY"])
    session.commit()
    return Seeded(early, late, pat, own_log, early_only, both, quinn_early)


def ledger_lines(session: Session) -> list[tuple[Any, ...]]:
    return sorted(session.execute(select(PointsEntry.contest_id, PointsEntry.source_key, PointsEntry.user_id,
                                         PointsEntry.team_id, PointsEntry.local_day, PointsEntry.points)).all())


def boards(session: Session) -> list[tuple[Any, ...]]:
    return sorted(session.execute(select(LeaderboardTotal.contest_id, LeaderboardTotal.scope,
                                         LeaderboardTotal.period_key, LeaderboardTotal.subject_id,
                                         LeaderboardTotal.points)).all())


def run_job(app: Flask) -> Any:
    bind_app(app)
    try:
        return jobs.run("challenges.activity_retention")
    finally:
        bind_app(None)


def past(challenge: Challenge) -> datetime:
    return challenge.ends_at + GRACE + RETENTION + timedelta(hours=1)


def test_activities_go_once_every_challenge_they_counted_in_is_past_retention_and_the_ledger_stays(
        app: Flask, session: Session) -> None:
    s = seed(session, app)
    lines, lines_by_board = ledger_lines(session), boards(session)
    assert lines and lines_by_board
    checkins_of_late = set(session.scalars(select(CheckIn.id).where(CheckIn.challenge_id == s.late.id)))

    with time_machine.travel(past(s.early) - timedelta(days=1), tick=False):
        assert run_job(app) == {"activities": 0, "checkins": 0}  # a day early: nothing goes
    with time_machine.travel(past(s.early), tick=False):
        assert run_job(app) == {"activities": 2, "checkins": 1}
        assert run_job(app) == {"activities": 0, "checkins": 0}  # idempotent
    session.expire_all()
    assert set(session.scalars(select(Activity.id))) == {s.own_log, s.both}
    assert set(session.scalars(select(ActivityEntry.activity_id))) == {s.both}
    assert session.scalars(select(DistanceSample)).all() == []
    assert set(session.scalars(select(CheckIn.id))) == checkins_of_late
    assert ledger_lines(session) == lines and boards(session) == lines_by_board
    ledger.rescore_contest(session, s.early.id)  # boards rebuilt from what is left: the same
    session.commit()
    assert boards(session) == lines_by_board

    with time_machine.travel(past(s.late), tick=False):
        assert run_job(app) == {"activities": 1, "checkins": 1}
    session.expire_all()
    assert list(session.scalars(select(Activity.id))) == [s.own_log]  # the person's own log stays
    assert session.scalars(select(ActivityEntry)).all() == session.scalars(select(CheckIn)).all() == []
    assert ledger_lines(session) == lines and boards(session) == lines_by_board
    assert ledger.user_total(session, s.late.id, s.pat.id) > 0


def test_a_challenge_ended_early_is_past_retention_from_its_early_end(app: Flask, session: Session) -> None:
    with time_machine.travel(BASE, tick=False):
        org = make_org(session)
        stopped = make_challenge(session, org, starts_at=BASE - timedelta(days=5), ends_at=BASE + timedelta(days=90))
        running = make_challenge(session, org, starts_at=BASE - timedelta(days=5), ends_at=BASE + timedelta(days=90))
        draft = make_challenge(session, org, publish=False, starts_at=BASE - timedelta(days=5),
                               ends_at=BASE + timedelta(days=1))
        lifecycle.end_challenge(session, stopped)
        session.commit()
    early_end = BASE + GRACE + RETENTION
    assert past_retention(session, early_end - timedelta(minutes=1), ACTIVITY_RETENTION_DAYS) == []
    assert past_retention(session, early_end, ACTIVITY_RETENTION_DAYS) == [stopped.id]
    later = BASE + timedelta(days=90) + GRACE + RETENTION
    assert past_retention(session, later, ACTIVITY_RETENTION_DAYS) == [stopped.id, running.id]
    assert draft.id not in past_retention(session, later + timedelta(days=400), ACTIVITY_RETENTION_DAYS)


def test_the_work_is_done_in_chunks_each_its_own_transaction(app: Flask, session: Session) -> None:
    s = seed(session, app)
    chunks: list[int] = []

    def after_each() -> bool:
        session.commit()
        chunks.append(len(session.scalars(select(Activity.id)).all()))
        return True

    done = reduce_to_ledger(session, past(s.late), ACTIVITY_RETENTION_DAYS, after_each, chunk=1)
    assert (done.activities, done.checkins) == (3, 2)
    assert chunks == [3, 2, 1, 1, 1]  # one activity per chunk, then one check-in per chunk


def test_a_lost_lease_stops_the_purge_after_the_chunk_in_hand(app: Flask, session: Session) -> None:
    s = seed(session, app)
    done = reduce_to_ledger(session, past(s.late), ACTIVITY_RETENTION_DAYS, lambda: False, chunk=1)
    assert (done.activities, done.checkins) == (1, 0)  # the next run goes on from there
    session.rollback()


@pytest.mark.parametrize("days", [30])
def test_the_job_reads_activity_retention_days(app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch,
                                               days: int) -> None:
    s = seed(session, app)
    monkeypatch.setitem(app.config, "ACTIVITY_RETENTION_DAYS", days)
    with time_machine.travel(s.early.ends_at + GRACE + timedelta(days=days, hours=1), tick=False):
        assert run_job(app) == {"activities": 2, "checkins": 1}
