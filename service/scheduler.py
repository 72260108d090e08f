"""The job runner: APScheduler 3.x, its job store in the application database, jobs declared as data.

Run by ``vcc scheduler`` in its own process, never inside web workers (APScheduler's FAQ: a job store must
not be shared by schedulers that do not know of each other; gunicorn workers would each run every job).
Several scheduler replicas may still run for availability: they share this job store, each one may fire
a job, and every job run first takes a database lease (``service.leases``), so one replica does the
work and the others return at once. The jobs stay safe even when a lease expires under a slow run (nudges
carry a unique dedupe key and dispatch claims rows, so nothing is sent twice).

Choices, on purpose:
- ``timezone=UTC``: per-user local times are handled by the jobs themselves (one UTC job every few minutes
  picks the users whose local time is due), so no trigger depends on the host's zone or its DST changes.
- ``coalesce=True``: after downtime, a job that missed several runs runs once, not once per missed run (each
  run handles everything that is due anyway).
- ``misfire_grace_time``: a run that starts late is still worth doing within about one interval; later than
  that the next regular run comes sooner than the late one would help.
- ``max_instances=1``: a slow run is never overlapped by the next one in the same process.
- fixed job ids with ``replace_existing=True``: restarts (and replicas) overwrite the stored jobs instead of
  adding duplicates; the store holds a module-level entry function and the job's id, both pickled by
  reference, so a stored job always runs the current definition of its id.
- stored jobs whose id is no longer defined are removed at start: a retired or renamed job would otherwise
  stay in the shared store and keep firing (or failing to load) after every deploy.

This module is platform code: it knows no job. The table of jobs (``JobSpec`` rows) belongs to the domain
layer that can see every job function (``notifications.jobs``), which hands it to ``register_jobs``. The
domain packages cannot import the app factory (the import contract forbids it) and a job must not build an
app per run, so the scheduler process binds its Flask app once at start-up (``bind_app``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.base import BaseTrigger
from flask import Flask, current_app
from sqlalchemy.orm import Session

from service import leases
from service.clock import utcnow
from service.db import db

if TYPE_CHECKING:
    from apscheduler.events import SchedulerEvent
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)

_APP: Flask | None = None


@dataclass(frozen=True)
class JobSpec:
    """One periodic job. ``id`` is both the stored APScheduler job's id and the name of the lease each run
    takes, so a job cannot run beside itself under a second name, and renaming it retires the old one."""

    id: str
    cli_name: str  # `vcc scheduler --once NAME`
    work: Callable[[Session, str], Any]  # (session, lease holder), called while the lease is held
    trigger: BaseTrigger
    misfire_grace_time: int  # seconds
    lease_ttl: timedelta  # a little under the interval: a crashed holder blocks at most one run
    description: str
    run_at_start: bool = False  # also run two seconds after every (re)start, not only at the first trigger

    def renew(self, session: Session, holder: str) -> bool:
        """Extend this job's lease: runs that may outlast ``lease_ttl`` call it between chunks of work."""
        return leases.renew(session, self.id, holder, self.lease_ttl)


def index(jobs: Iterable[JobSpec], key: Callable[[JobSpec], str]) -> dict[str, JobSpec]:
    """The jobs by ``key``; a duplicate is a programming error (two jobs would share a stored job and a lease,
    or one name of ``--once`` would hide the other), so it fails at import, not at the first run."""
    by_key: dict[str, JobSpec] = {}
    for spec in jobs:
        if key(spec) in by_key:
            raise ValueError(f"two jobs share {key(spec)!r}")
        by_key[key(spec)] = spec
    return by_key


def bind_app(app: Flask | None) -> None:
    global _APP
    _APP = app


def _app() -> Flask:
    if _APP is not None:
        return _APP
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def run_leased(spec: JobSpec) -> Any:
    """Run ``spec.work`` in a fresh app context if this replica wins the job's lease; ``None`` if another
    replica holds it. The work's uncommitted changes are rolled back before the lease is given up."""
    app = _app()
    with app.app_context():
        session = db.session
        holder = leases.new_holder()
        try:
            if not leases.acquire(session, spec.id, holder, spec.lease_ttl):
                log.debug("job %s: another replica holds the lease", spec.id)
                return None
            try:
                return spec.work(session, holder)
            finally:
                session.rollback()
                leases.release(session, spec.id, holder)
        finally:
            db.session.remove()


def quiet_apscheduler_logs(log_level: str) -> None:
    """APScheduler logs every run at INFO ('Running job', 'executed successfully': one pair per job every 30 s
    for dispatch), which buries everything else on the console; keep its warnings and errors unless the
    deployment asked for DEBUG."""
    level = logging.DEBUG if log_level.upper() == "DEBUG" else logging.WARNING
    for name in ("apscheduler", "apscheduler.scheduler", "apscheduler.executors.default"):
        logging.getLogger(name).setLevel(level)


def build_scheduler(engine: Any, scheduler_class: type[BaseScheduler] | None = None) -> BaseScheduler:
    """A scheduler (``BlockingScheduler`` unless told otherwise) whose job store lives in the application
    database (table ``apscheduler_jobs``, made by migration 0005 with exactly APScheduler's columns).

    On SQLite jobs run one at a time: SQLite has one writer, and two jobs writing at once would only wait
    for each other (or fail with 'database is locked' when both started as readers).

    APScheduler's scheduler half (~40 ms, multiprocessing) is imported here, not at the top: every app and
    every ``vcc`` command imports the job table, and only the scheduler process runs it."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.blocking import BlockingScheduler

    workers = 1 if engine.dialect.name == "sqlite" else 4
    return (scheduler_class or BlockingScheduler)(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs")},
        executors={"default": ThreadPoolExecutor(max_workers=workers)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone=UTC,
    )


def register_jobs(scheduler: BaseScheduler, jobs: Sequence[JobSpec], entry: Callable[[str], Any]) -> list[str]:
    """Add (or overwrite) every job of the table, each stored as ``entry(job id)``; the ``run_at_start`` ones
    also run right away. When the scheduler starts (its store is only readable then), stored jobs whose id
    is not in the table are removed."""
    from apscheduler.events import EVENT_SCHEDULER_STARTED

    soon = utcnow() + timedelta(seconds=2)
    for spec in jobs:
        extra = {"next_run_time": soon} if spec.run_at_start else {}
        scheduler.add_job(entry, spec.trigger, args=[spec.id], id=spec.id, name=spec.description,
                          replace_existing=True, misfire_grace_time=spec.misfire_grace_time, coalesce=True,
                          max_instances=1, **extra)
    defined = {spec.id for spec in jobs}

    def remove_undefined(event: SchedulerEvent) -> None:
        for job in scheduler.get_jobs():
            if job.id not in defined:
                log.info("removing stored job %s (%s): no longer defined", job.id, job.name)
                scheduler.remove_job(job.id)

    scheduler.add_listener(remove_undefined, EVENT_SCHEDULER_STARTED)
    return [spec.id for spec in jobs]
