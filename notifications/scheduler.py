"""The scheduler process: APScheduler 3.x, its job store in the application database, jobs declared as data.

Run by ``vcc scheduler`` in its own process, never inside web workers (APScheduler's FAQ: a job store must
not be shared by schedulers that do not know of each other; gunicorn workers would each run every job).
Several scheduler replicas may still run for availability: they share this job store, each one may fire
a job, and every job run first takes a database lease (``notifications.leases``), so one replica does the
work and the others return at once. Nudges carry a unique dedupe key and dispatch claims rows, so even a
lease that expires under a slow run cannot send anything twice.

Choices, on purpose:
- ``timezone=UTC``: per-user local times are handled by the jobs themselves (one UTC job every few minutes
  picks the users whose local time is due), so no trigger depends on the host's zone or its DST changes.
- ``coalesce=True``: after downtime, a job that missed several runs runs once, not once per missed run (each
  run handles everything that is due anyway).
- ``misfire_grace_time``: a run that starts late is still worth doing within about one interval; later than
  that the next regular run comes sooner than the late one would help.
- ``max_instances=1``: a slow run is never overlapped by the next one in the same process.
- fixed job ids with ``replace_existing=True``: restarts (and replicas) overwrite the stored jobs instead of
  adding duplicates; the functions are module-level so the job store can pickle references to them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from notifications import jobs
from service.clock import utcnow


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[[], Any]
    trigger: BaseTrigger
    misfire_grace_time: int
    name: str
    run_at_start: bool = False


JOBS: list[JobSpec] = [
    JobSpec("nudges.plan", jobs.plan_job, IntervalTrigger(minutes=5, timezone=UTC), 240,
            "plan nudges (activity, streak, overtaken, milestones, badges, goals, announcements)", True),
    JobSpec("nudges.dispatch", jobs.dispatch_job, IntervalTrigger(seconds=30, timezone=UTC), 25,
            "dispatch due nudges", True),
    JobSpec("challenges.lifecycle", jobs.lifecycle_job, IntervalTrigger(minutes=10, timezone=UTC), 540,
            "challenge starting, started, ending soon, ended (final standings, finisher badges)", True),
    JobSpec("nudges.weekly_summary", jobs.weekly_summary_job, IntervalTrigger(minutes=15, timezone=UTC), 840,
            "weekly summaries at Monday 09:00 local"),
    JobSpec("scoring.reconcile", jobs.reconcile_job, CronTrigger(hour=3, minute=17, timezone=UTC), 3600,
            "rebuild leaderboards of live challenges from the ledger (SQL and Redis)"),
    JobSpec("service.idempotency_purge", jobs.purge_idempotency_job, IntervalTrigger(hours=1, timezone=UTC), 3000,
            "delete idempotency records past their retention"),
]


def quiet_apscheduler_logs(log_level: str) -> None:
    """APScheduler logs every run at INFO ('Running job', 'executed successfully': one pair per job every 30 s
    for dispatch), which buries everything else on the console; keep its warnings and errors unless the
    deployment asked for DEBUG."""
    level = logging.DEBUG if log_level.upper() == "DEBUG" else logging.WARNING
    for name in ("apscheduler", "apscheduler.scheduler", "apscheduler.executors.default"):
        logging.getLogger(name).setLevel(level)


def build_scheduler(engine: Any, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    """A scheduler whose job store lives in the application database (table ``apscheduler_jobs``, made by
    migration 0005 with exactly APScheduler's columns).

    On SQLite jobs run one at a time: SQLite has one writer, and two jobs writing at once would only wait
    for each other (or fail with 'database is locked' when both started as readers)."""
    workers = 1 if engine.dialect.name == "sqlite" else 4
    return scheduler_class(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone=UTC,
    )


def register_jobs(scheduler: BaseScheduler) -> list[str]:
    """Add (or overwrite) every job; plan, dispatch and lifecycle also run right away after a (re)start."""
    soon = utcnow() + timedelta(seconds=2)
    for spec in JOBS:
        extra = {"next_run_time": soon} if spec.run_at_start else {}
        scheduler.add_job(spec.func, spec.trigger, id=spec.id, name=spec.name, replace_existing=True,
                          misfire_grace_time=spec.misfire_grace_time, coalesce=True, max_instances=1, **extra)
    return [spec.id for spec in JOBS]
