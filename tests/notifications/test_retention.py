"""Notification retention: finished nudges (the inbox) and their delivery attempts, fanned-out announcements and
quiet planner marks go NOTIFICATION_RETENTION_DAYS on, never a nudge still due, nor what the planner still needs
to tell nobody anything twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from notifications import jobs
from notifications.announcements import create_announcement
from notifications.dispatch import dispatch_due
from notifications.finalise import finalise_ended
from notifications.models import Announcement, DeliveryAttempt, Nudge, NudgeKind, NudgeStatus, PlannerMark
from notifications.retention import NOTIFICATION_RETENTION_DAYS, PLANNER_HORIZON
from notifications.sender import LogSender
from service.models import Role, User
from service.scheduler import bind_app
from tests.challenges.factories import enrol, make_challenge
from tests.factories import make_org, quick_user
from tests.notifications.factories import make_device, plan_nudge

T0 = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)  # midday in Helsinki: no quiet hours
RETENTION = timedelta(days=NOTIFICATION_RETENTION_DAYS)


def run_job(app: Flask) -> Any:
    bind_app(app)
    try:
        return jobs.run("notifications.retention_purge")
    finally:
        bind_app(None)


def nudge_with(session: Session, user: User, status: NudgeStatus, now: datetime = T0, **extra: Any) -> int:
    nudge = plan_nudge(session, user, now=now, **extra)
    assert nudge is not None
    session.execute(update(Nudge).where(Nudge.id == nudge.id).values(status=status))
    return nudge.id


def test_finished_nudges_go_with_their_delivery_attempts_and_pending_ones_stay(app: Flask, session: Session) -> None:
    with time_machine.travel(T0, tick=False):
        pat = quick_user(session)
        make_device(session, pat)
        sent = plan_nudge(session, pat, now=T0)
        session.commit()
        assert dispatch_due(session, LogSender(), "t").sent == 1
        finished = {nudge_with(session, quick_user(session), status) for status in
                    (NudgeStatus.SKIPPED, NudgeStatus.FAILED, NudgeStatus.EXPIRED)}
        pending = {nudge_with(session, quick_user(session), status) for status in
                   (NudgeStatus.PLANNED, NudgeStatus.SENDING)}
        session.commit()
    assert sent is not None and session.scalar(select(DeliveryAttempt.nudge_id)) == sent.id
    with time_machine.travel(T0 + RETENTION - timedelta(minutes=1), tick=False):
        fresh = nudge_with(session, quick_user(session), NudgeStatus.SENT, now=T0 + RETENTION - timedelta(minutes=1))
        session.commit()
        assert run_job(app)["nudges"] == 0
    with time_machine.travel(T0 + RETENTION + timedelta(minutes=1), tick=False):
        assert run_job(app) == {"nudges": 4, "delivery_attempts": 1, "announcements": 0, "planner_marks": 0}
        assert run_job(app)["nudges"] == 0
    session.expire_all()
    assert set(session.scalars(select(Nudge.id))) == pending | {fresh}
    assert not finished & set(session.scalars(select(Nudge.id)))
    assert session.scalars(select(DeliveryAttempt)).all() == []  # also on SQLite, which cascades nothing


def test_nudges_of_a_challenge_stay_until_the_planner_is_done_with_it(app: Flask, session: Session) -> None:
    """A sent milestone's unique key is what stops the planner telling it again while the challenge runs."""
    with time_machine.travel(T0, tick=False):
        org = make_org(session)
        year = make_challenge(session, org, starts_at=T0 - timedelta(days=1), ends_at=T0 + timedelta(days=365))
        pat = quick_user(session)
        milestone = nudge_with(session, pat, NudgeStatus.SENT, kind=NudgeKind.MILESTONE, challenge_id=year.id)
        session.commit()
    with time_machine.travel(T0 + RETENTION + timedelta(days=1), tick=False):
        assert run_job(app)["nudges"] == 0
    with time_machine.travel(year.ends_at + PLANNER_HORIZON - timedelta(minutes=1), tick=False):
        assert run_job(app)["nudges"] == 0
    with time_machine.travel(year.ends_at + PLANNER_HORIZON + timedelta(minutes=1), tick=False):
        assert run_job(app)["nudges"] == 1
    session.expire_all()
    assert session.get(Nudge, milestone) is None


def test_announcements_go_once_fanned_out_that_long_ago_and_their_nudges_are_gone(
        app: Flask, session: Session) -> None:
    with time_machine.travel(T0, tick=False):
        organiser = quick_user(session)
        org = make_org(session, members={organiser: Role.ORGANISER})
        challenge = make_challenge(session, org, starts_at=T0 - timedelta(days=10), ends_at=T0 + timedelta(days=5))
        pat = quick_user(session)
        enrol(session, challenge, pat)
        told = create_announcement(session, challenge, organiser, title="Picnic", body="Saturday at the park")
        told.fanned_out_at = T0
        told_nudge = nudge_with(session, pat, NudgeStatus.SENT, kind=NudgeKind.ANNOUNCEMENT,
                                challenge_id=challenge.id, announcement_id=told.id)
        waiting = create_announcement(session, challenge, organiser, title="Still due", body="Its push waits")
        waiting.fanned_out_at = T0
        nudge_with(session, quick_user(session), NudgeStatus.PLANNED, kind=NudgeKind.ANNOUNCEMENT,
                   challenge_id=challenge.id, announcement_id=waiting.id)
        ahead = create_announcement(session, challenge, organiser, title="Later", body="Not fanned out yet",
                                    scheduled_at=T0 + timedelta(days=200))
        session.commit()
    after = max(T0 + RETENTION, challenge.ends_at + PLANNER_HORIZON) + timedelta(minutes=1)
    with time_machine.travel(after, tick=False):
        counts = run_job(app)
    assert (counts["nudges"], counts["announcements"]) == (1, 1)
    session.expire_all()
    assert session.get(Nudge, told_nudge) is None
    assert set(session.scalars(select(Announcement.id))) == {waiting.id, ahead.id}


def test_quiet_planner_marks_go_unless_the_planner_still_needs_them(app: Flask, session: Session) -> None:
    with time_machine.travel(T0, tick=False):
        org = make_org(session)
        running = make_challenge(session, org, starts_at=T0 - timedelta(days=1), ends_at=T0 + timedelta(days=200))
        over = make_challenge(session, org, starts_at=T0 - timedelta(days=30), ends_at=T0 - timedelta(days=1))
        keys = ["overtaken:ledger-cursor", "dispatch:paused-until", f"goal:{running.id}:all",
                f"final:{over.id}", "final:999999"]
        session.add_all(PlannerMark(key=key, value={}, updated_at=T0) for key in keys)
        session.commit()
    with time_machine.travel(T0 + RETENTION + timedelta(minutes=1), tick=False):
        session.add(PlannerMark(key="fresh", value={}, updated_at=T0 + RETENTION))
        session.commit()
        assert run_job(app)["planner_marks"] == 4  # over ended 91 days ago: past the planner's horizon
    session.expire_all()
    assert set(session.scalars(select(PlannerMark.key))) == {f"goal:{running.id}:all", "fresh"}


def test_the_planner_never_looks_at_a_challenge_past_the_horizon(session: Session) -> None:
    """Pins PLANNER_HORIZON to the longest window of the planner's rules (finalisation): a challenge past it
    would be finalised again if its 'final' mark was gone and it were still looked at."""
    org = make_org(session)
    now = T0
    gone = make_challenge(session, org, starts_at=now - timedelta(days=100),
                          ends_at=now - PLANNER_HORIZON - timedelta(minutes=1))
    inside = make_challenge(session, org, starts_at=now - timedelta(days=100),
                            ends_at=now - PLANNER_HORIZON + timedelta(days=1))
    session.commit()
    with time_machine.travel(now, tick=False):
        finalise_ended(session, now)
    marks = set(session.scalars(select(PlannerMark.key)))
    assert f"final:{inside.id}" in marks and f"final:{gone.id}" not in marks


def test_vcc_scheduler_once_prints_what_the_purge_deleted(app: Flask, session: Session) -> None:
    with time_machine.travel(T0, tick=False):
        nudge_with(session, quick_user(session), NudgeStatus.SENT)
        session.commit()
    with time_machine.travel(T0 + RETENTION + timedelta(minutes=1), tick=False):
        result = app.test_cli_runner().invoke(args=["scheduler", "--once", "purge-notifications"])
    bind_app(None)
    assert result.exit_code == 0, result.output
    assert ("purge-notifications: {'nudges': 1, 'delivery_attempts': 0, 'announcements': 0, 'planner_marks': 0}"
            in result.output)
