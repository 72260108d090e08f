"""The job runner: stored jobs follow the table given to it (undefined ones go), and APScheduler stays quiet."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, timedelta

import pytest
import time_machine
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import leases
from service.clock import utcnow
from service.db import db
from service.models import Lease, scheduler_jobs
from service.scheduler import (
    JobSpec,
    beat,
    build_scheduler,
    check,
    quiet_apscheduler_logs,
    register_jobs,
    run_leased,
    stop_beating,
)
from tests.factories import moved, scrape


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


def _boom(session: Session, holder: str) -> None:
    raise RuntimeError("the work failed")


def test_each_run_is_counted_by_job_and_result_and_its_end_is_recorded_on_the_lease(
        app: Flask, client: FlaskClient) -> None:
    ok, failing, held = _spec("t.ok"), JobSpec("t.boom", "boom", _boom, IntervalTrigger(hours=1, timezone=UTC), 60,
                                               timedelta(minutes=1), "fails"), _spec("t.held")
    before = scrape(client)
    with app.app_context():
        assert leases.acquire(db.session, "t.held", "another-replica", timedelta(minutes=5))
        run_leased(ok)
        with pytest.raises(RuntimeError):
            run_leased(failing)
        assert run_leased(held) is None
        rows = {row.name: row for row in db.session.scalars(select(Lease))}
        db.session.remove()
    after = scrape(client)
    runs = "vcc_scheduler_job_runs_total"
    assert moved(before, after, runs, job="t.ok", result="ok") == 1
    assert moved(before, after, runs, job="t.boom", result="error") == 1
    assert moved(before, after, runs, job="t.held", result="skipped") == 1
    assert moved(before, after, "vcc_scheduler_job_duration_seconds_count", job="t.ok", result="ok") == 1
    assert moved(before, after, "vcc_scheduler_job_duration_seconds_count", job="t.held", result="skipped") == 0
    assert abs(after[("vcc_scheduler_job_last_success_timestamp_seconds", frozenset({("job", "t.ok")}))]
               - utcnow().timestamp()) < 60
    assert rows["t.ok"].last_success_at == rows["t.ok"].last_finished_at and rows["t.ok"].last_error is None
    assert rows["t.boom"].last_success_at is None and rows["t.boom"].last_error == "RuntimeError"
    assert rows["t.held"].last_finished_at is None  # the other replica's run, not ours


def test_the_check_wants_a_live_heartbeat_on_this_host_and_every_job_on_time(app: Flask, session: Session) -> None:
    every_5 = JobSpec("t.often", "often", _nothing, IntervalTrigger(minutes=5, timezone=UTC), 60,
                      timedelta(minutes=4), "every five minutes")
    table = [every_5, _spec("t.hourly")]
    host = socket.gethostname()
    started = utcnow()
    assert check(session, table, now=started) == (False, f"no scheduler has run on {host}")
    with time_machine.travel(started, tick=False) as clock:
        assert beat(session, "me")
        assert check(session, table) == (True, f"ok: the scheduler on {host} is alive, 2 jobs on time")
        for _ in range(10):  # beating every minute; t.often is due 5 min after the start, + 1 min grace + 4 min lease
            clock.shift(timedelta(minutes=1))
            assert beat(session, "me")
        assert check(session, table)[0]
        clock.shift(timedelta(seconds=30))
        assert beat(session, "me")
        healthy, reason = check(session, table)
        assert not healthy and reason.startswith("late: t.often has not succeeded since") and "t.hourly" not in reason
        with app.app_context(), pytest.raises(RuntimeError):
            run_leased(JobSpec("t.often", "often", _boom, every_5.trigger, 60, every_5.lease_ttl, "fails"))
        assert check(session, table)[1].endswith("(its last run failed: RuntimeError)")
        with app.app_context():
            run_leased(every_5)
        assert check(session, table)[0]
        stop_beating(session, "me")
        clock.shift(timedelta(seconds=5))
        assert check(session, table) == (False, f"the scheduler on {host} is not running (its heartbeat stopped "
                                                "5 s ago)")
