"""The table of periodic jobs: registered in the database job store with fixed ids, run once from the CLI,
documented in the README, and what the jobs do."""

from __future__ import annotations

import itertools
from datetime import UTC
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import func, select

from notifications import jobs
from notifications.jobs import JOBS
from service.config import PROJECT_ROOT
from service.db import db
from service.models import scheduler_jobs
from service.scheduler import bind_app, build_scheduler, register_jobs


def test_jobs_live_in_the_app_database_with_fixed_ids_and_restarts_replace_them(app: Flask) -> None:
    with app.app_context():
        for _ in range(2):  # a restart (or a second replica) registers the same jobs again
            scheduler = build_scheduler(db.engine, BackgroundScheduler)
            register_jobs(scheduler, JOBS, jobs.run)
            scheduler.start(paused=True)
            stored = {job.id: job for job in scheduler.get_jobs()}
            scheduler.shutdown(wait=False)
        assert set(stored) == {"nudges.plan", "nudges.dispatch", "challenges.lifecycle", "nudges.weekly_summary",
                               "scoring.reconcile", "service.idempotency_purge", "service.login_throttle_purge",
                               "challenges.activity_retention", "service.refresh_token_purge",
                               "notifications.retention_purge", "service.audit_purge", "service.mail_outbox"}
        assert db.session.scalar(select(func.count()).select_from(scheduler_jobs)) == len(JOBS)
        for spec in JOBS:
            job = stored[spec.id]
            assert job.coalesce is True and job.max_instances == 1
            assert job.misfire_grace_time == spec.misfire_grace_time > 1  # not APScheduler's 1 s default
            assert job.func_ref.startswith("notifications.jobs:")  # module-level, picklable by reference
            assert job.args == (spec.id,)  # the store keeps the id only: the table defines the rest
        assert scheduler.timezone == UTC
        db.session.remove()


def test_vcc_scheduler_once_runs_every_job_and_names_the_log_sender(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["scheduler", "--once", "all"])
    bind_app(None)
    assert result.exit_code == 0, result.output
    assert "push sender: log" in result.output
    for name in ("plan:", "dispatch:", "lifecycle:", "weekly:", "reconcile:", "purge:", "purge-activities:",
                 "purge-tokens:", "purge-notifications:", "purge-audit:"):
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
    bind_app(app)
    try:
        assert jobs.run("scoring.reconcile") == 1
    finally:
        bind_app(None)
    session.expire_all()
    assert session.scalar(select(LeaderboardTotal.points).where(*board)) == right > 1


def test_purge_job_deletes_only_expired_idempotency_records_under_a_lease(app: Flask, session: Any) -> None:
    from datetime import timedelta

    from service import leases
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
    bind_app(app)
    try:
        assert leases.acquire(session, "service.idempotency_purge", "someone-else", timedelta(minutes=5))
        assert jobs.run("service.idempotency_purge") is None  # another replica holds the lease: nothing done
        leases.release(session, "service.idempotency_purge", "someone-else")
        assert jobs.run("service.idempotency_purge") == 1
    finally:
        bind_app(None)
    session.expire_all()
    assert list(session.scalars(select(IdempotencyRecord.key))) == ["fresh"]


def test_login_throttle_purge_job_deletes_only_counts_quiet_for_a_day(app: Flask, session: Any) -> None:
    from datetime import timedelta

    from service import login_throttle
    from service.clock import utcnow
    from service.models import LoginThrottle

    now = utcnow()
    for email, age in (("quiet@example.org", timedelta(days=1, minutes=1)), ("recent@example.org", timedelta())):
        login_throttle.charge(session, login_throttle.account_key(email, "k"), now=now - age, free=5, cap_s=900)
    session.commit()
    bind_app(app)
    try:
        assert jobs.run("service.login_throttle_purge") == 1
    finally:
        bind_app(None)
    session.expire_all()
    assert list(session.scalars(select(LoginThrottle.account_key))) == [
        login_throttle.account_key("recent@example.org", "k")]


def test_once_offers_the_table_names_and_all(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["scheduler", "--once", "nope"])
    assert result.exit_code == 2
    assert all(f"'{name}'" in result.output for name in [*(spec.cli_name for spec in JOBS), "all"]), result.output


JOB_TABLE_HEADER = "| job id | every | what |"


def documented_job_ids(text: str) -> list[str]:
    """The first column (ids in backticks) of the table under ``JOB_TABLE_HEADER``; a missing header raises."""
    lines = text.splitlines()
    rows = itertools.takewhile(lambda line: line.startswith("|"), lines[lines.index(JOB_TABLE_HEADER) + 2:])
    return [row.split("|")[1].strip().strip("`") for row in rows]


@pytest.mark.parametrize("doc", ["README.md", "docs/notifications.md"])
def test_the_documented_job_table_lists_exactly_the_defined_jobs(doc: str) -> None:
    documented = documented_job_ids((PROJECT_ROOT / doc).read_text(encoding="utf-8"))
    assert sorted(documented) == sorted(spec.id for spec in JOBS), f"{doc}'s job table differs from JOBS"


def test_the_table_check_notices_a_job_left_out_of_the_readme() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    without_dispatch = "\n".join(line for line in readme.splitlines() if not line.startswith("| `nudges.dispatch`"))
    assert sorted(documented_job_ids(without_dispatch)) != sorted(spec.id for spec in JOBS)
