"""The scheduler's set-up: jobs as data in the database job store, fixed ids, UTC, misfire and coalesce on purpose."""

from __future__ import annotations

from datetime import UTC

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
                               "scoring.reconcile"}
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
    for name in ("plan:", "dispatch:", "lifecycle:", "weekly:", "reconcile:"):
        assert name in result.output
