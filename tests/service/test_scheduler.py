"""The job runner: stored jobs follow the table given to it (undefined ones go), and APScheduler stays quiet."""

from __future__ import annotations

import logging
from datetime import UTC, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import db
from service.models import scheduler_jobs
from service.scheduler import JobSpec, build_scheduler, quiet_apscheduler_logs, register_jobs


def entry(job_id: str) -> None:
    """The stored callable of the test jobs (module-level, so the job store can pickle a reference to it)."""


def _nothing(session: Session, holder: str) -> None:
    return None


def _spec(job_id: str) -> JobSpec:
    return JobSpec(job_id, job_id, _nothing, IntervalTrigger(hours=1, timezone=UTC), 60, timedelta(minutes=1),
                   f"test job {job_id}")


def _start_and_stop(jobs: list[JobSpec]) -> set[str]:
    scheduler = build_scheduler(db.engine, BackgroundScheduler)
    register_jobs(scheduler, jobs, entry)
    scheduler.start(paused=True)
    try:
        return {job.id for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)


def test_a_stored_job_no_longer_defined_is_removed_at_start_and_the_defined_ones_stay(
        app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    with app.app_context():
        assert _start_and_stop([_spec("kept"), _spec("retired")]) == {"kept", "retired"}  # an earlier deploy
        with caplog.at_level(logging.INFO, logger="service.scheduler"):
            assert _start_and_stop([_spec("kept"), _spec("added")]) == {"kept", "added"}
        assert set(db.session.scalars(select(scheduler_jobs.c.id))) == {"kept", "added"}
        db.session.remove()
    assert [r.getMessage() for r in caplog.records if "retired" in r.getMessage()] == [
        "removing stored job retired (test job retired): no longer defined"]


@pytest.mark.parametrize(("log_level", "expected"), [("INFO", logging.WARNING), ("debug", logging.DEBUG)])
def test_apscheduler_run_logs_stay_off_the_console_unless_debugging(log_level: str, expected: int) -> None:
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
