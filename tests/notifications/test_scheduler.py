"""The scheduler's set-up: jobs as data in the database job store, fixed ids, UTC, misfire and coalesce on purpose."""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import func, select

from notifications import jobs
from notifications.models import scheduler_jobs
from notifications.scheduler import JOBS, build_scheduler, register_jobs
from service.db import db


def test_jobs_live_in_the_app_database_with_fixed_ids_and_restarts_replace_them(app: Flask) -> None:
    with app.app_context():
        for _ in range(2):  # a restart (or a second replica) registers the same jobs again
            scheduler = build_scheduler(db.engine, BackgroundScheduler)
            register_jobs(scheduler)
            scheduler.start(paused=True)
            stored = {job.id: job for job in scheduler.get_jobs()}
            scheduler.shutdown(wait=False)
        assert set(stored) == {"nudges.plan", "nudges.dispatch", "challenges.lifecycle", "nudges.weekly_summary",
                               "scoring.reconcile", "service.idempotency_purge"}
        assert db.session.scalar(select(func.count()).select_from(scheduler_jobs)) == len(JOBS)
        for spec in JOBS:
            job = stored[spec.id]
            assert job.coalesce is True and job.max_instances == 1
            assert job.misfire_grace_time == spec.misfire_grace_time > 1  # not APScheduler's 1 s default
            assert job.func_ref.startswith("notifications.jobs:")  # module-level, picklable by reference
        assert scheduler.timezone == UTC
        db.session.remove()


def test_vcc_scheduler_once_runs_every_job_and_names_the_log_sender(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["scheduler", "--once", "all"])
    jobs.bind_app(None)
    assert result.exit_code == 0, result.output
    assert "push sender: log" in result.output
    for name in ("plan:", "dispatch:", "lifecycle:", "weekly:", "reconcile:", "purge:"):
        assert name in result.output


def test_reconcile_job_rebuilds_a_drifted_leaderboard_from_the_ledger(app: Flask, session: Any) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from challenges.lifecycle import rules_for
    from challenges.participation.enrolment import find_enrolment, subject_for
    from scoring import ledger
    from scoring.models import LeaderboardTotal
    from scoring.types import ActivityFacts
    from service.clock import utcnow
    from tests.challenges.factories import enrol, make_challenge
    from tests.factories import make_org, quick_user

    challenge = make_challenge(session, make_org(session))
    user = quick_user(session)
    enrol(session, challenge, user)
    ledger.score(session, rules_for(challenge), subject_for(challenge, find_enrolment(session, challenge.id, user.id)),
                 "test:1", ActivityFacts("walking", utcnow() - timedelta(hours=1), 1800))
    session.commit()
    board = (LeaderboardTotal.contest_id == challenge.id, LeaderboardTotal.subject_id == user.id,
             LeaderboardTotal.period_key == "all", LeaderboardTotal.scope == "user")
    right = session.scalar(select(LeaderboardTotal.points).where(*board))
    session.execute(update(LeaderboardTotal).where(*board).values(points=1))  # drift
    session.commit()
    jobs.bind_app(app)
    try:
        assert jobs.reconcile_job() == 1
    finally:
        jobs.bind_app(None)
    session.expire_all()
    assert session.scalar(select(LeaderboardTotal.points).where(*board)) == right > 1


def test_purge_job_deletes_only_expired_idempotency_records_under_a_lease(app: Flask, session: Any) -> None:
    from datetime import timedelta

    from notifications import leases
    from service.clock import utcnow
    from service.idempotency import RETENTION
    from service.models import IdempotencyRecord
    from tests.factories import make_user

    user = make_user(session)
    now = utcnow()
    for key, age in (("old", RETENTION + timedelta(minutes=1)), ("fresh", RETENTION - timedelta(minutes=1))):
        session.add(IdempotencyRecord(user_id=user.id, key=key, endpoint="activities.create", request_hash="h",
                                      status_code=201, response_body={}, created_at=now - age))
    session.commit()
    jobs.bind_app(app)
    try:
        assert leases.acquire(session, "service.idempotency_purge", "someone-else", timedelta(minutes=5))
        assert jobs.purge_idempotency_job() is None  # another replica holds the lease: nothing done
        leases.release(session, "service.idempotency_purge", "someone-else")
        assert jobs.purge_idempotency_job() == 1
    finally:
        jobs.bind_app(None)
    session.expire_all()
    assert list(session.scalars(select(IdempotencyRecord.key))) == ["fresh"]


@pytest.mark.parametrize(("log_level", "expected"), [("INFO", logging.WARNING), ("debug", logging.DEBUG)])
def test_apscheduler_run_logs_stay_off_the_console_unless_debugging(log_level: str, expected: int) -> None:
    from notifications.scheduler import quiet_apscheduler_logs

    loggers = [logging.getLogger(n) for n in ("apscheduler", "apscheduler.scheduler", "apscheduler.executors.default")]
    before = [lg.level for lg in loggers]
    try:
        quiet_apscheduler_logs(log_level)
        assert all(lg.getEffectiveLevel() == expected for lg in loggers)
        executor = logging.getLogger("apscheduler.executors.default")
        assert executor.isEnabledFor(logging.INFO) is (expected < logging.INFO)
    finally:
        for lg, level in zip(loggers, before, strict=True):
            lg.setLevel(level)
