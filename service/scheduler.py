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
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import leases, metrics
from service.clock import utcnow
from service.db import db
from service.models import Lease

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
    replica holds it. The work's uncommitted changes are rolled back before the lease is given up, and the
    lease row records how the run ended."""
    app = _app()
    with app.app_context():
        session = db.session
        holder = leases.new_holder()
        try:
            if not leases.acquire(session, spec.id, holder, spec.lease_ttl):
                log.debug("job %s: another replica holds the lease", spec.id)
                metrics.JOB_RUNS.labels(spec.id, "skipped").inc()
                return None
            started, error = time.perf_counter(), None
            try:
                return spec.work(session, holder)
            except Exception as exc:
                error = type(exc).__name__
                raise
            finally:
                session.rollback()
                leases.release(session, spec.id, holder, ran=True, error=error)
                _count_run(spec.id, error, time.perf_counter() - started)
        finally:
            db.session.remove()


def _count_run(job_id: str, error: str | None, seconds: float) -> None:
    result = "ok" if error is None else "error"
    metrics.JOB_RUNS.labels(job_id, result).inc()
    metrics.JOB_DURATION.labels(job_id, result).observe(seconds)
    if error is None:
        metrics.JOB_LAST_SUCCESS.labels(job_id).set_to_current_time()


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

    A second store and executor, both in memory (``LOCAL``), hold this process's own heartbeat: it is no shared
    job, and a long job can never hold up the beat that says the process is alive.

    APScheduler's scheduler half (~40 ms, multiprocessing) is imported here, not at the top: every app and
    every ``vcc`` command imports the job table, and only the scheduler process runs it."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.blocking import BlockingScheduler

    workers = 1 if engine.dialect.name == "sqlite" else 4
    return (scheduler_class or BlockingScheduler)(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="apscheduler_jobs"),
                   LOCAL: MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=workers), LOCAL: ThreadPoolExecutor(max_workers=1)},
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
        for job in scheduler.get_jobs(jobstore="default"):
            if job.id not in defined:
                log.info("removing stored job %s (%s): no longer defined", job.id, job.name)
                scheduler.remove_job(job.id)

    scheduler.add_listener(remove_undefined, EVENT_SCHEDULER_STARTED)
    return [spec.id for spec in jobs]


LOCAL = "local"
HEARTBEAT_EVERY = timedelta(seconds=30)
HEARTBEAT_TTL = timedelta(seconds=90)  # three beats missed: the process is gone or stuck


def heartbeat_name(host: str | None = None) -> str:
    """The lease a scheduler holds while it runs, one per host: a container health check runs on the host
    (container) of the scheduler it checks, and knows nothing else about it."""
    return f"scheduler@{(host or socket.gethostname())[:40]}"


def beat(session: Session, holder: str) -> bool:
    """Hold (or keep holding) this host's heartbeat lease; False while another process here still holds one,
    e.g. a crashed predecessor whose lease has not run out yet. Renewing keeps ``acquired_at``, the start."""
    name = heartbeat_name()
    return leases.renew(session, name, holder, HEARTBEAT_TTL) or leases.acquire(session, name, holder, HEARTBEAT_TTL)


def stop_beating(session: Session, holder: str) -> None:
    leases.release(session, heartbeat_name(), holder)


def _beat_in_app(holder: str) -> None:
    with _app().app_context():
        try:
            beat(db.session, holder)
        finally:
            db.session.remove()


def add_heartbeat(scheduler: BaseScheduler, holder: str) -> None:
    """Beat every ``HEARTBEAT_EVERY`` from the scheduler's own loop, so the beat also says that loop turns."""
    scheduler.add_job(_beat_in_app, IntervalTrigger(seconds=HEARTBEAT_EVERY.total_seconds(), timezone=UTC),
                      args=[holder], id="scheduler.heartbeat", jobstore=LOCAL, executor=LOCAL, coalesce=True,
                      max_instances=1, misfire_grace_time=int(HEARTBEAT_EVERY.total_seconds()))


def check(session: Session, jobs: Sequence[JobSpec], *, now: datetime | None = None) -> tuple[bool, str]:
    """Whether the scheduler of this host is alive and every job succeeded on time, and a one-line reason.

    Alive: its heartbeat lease is held. On time: each job has succeeded (on any replica) since its next due
    time after the later of its last success and this scheduler's start, plus the misfire grace and the lease
    (the longest a run may take); a job not yet due since the start is on time, so a fresh start passes."""
    now = now or utcnow()
    host = socket.gethostname()[:40]
    heart = session.get(Lease, heartbeat_name(host), populate_existing=True)
    if heart is None or heart.acquired_at is None or heart.expires_at is None:
        return False, f"no scheduler has run on {host}"
    if heart.expires_at <= now:
        return False, (f"the scheduler on {host} is not running (its heartbeat stopped "
                       f"{(now - heart.expires_at).total_seconds():.0f} s ago)")
    runs = {row.name: row for row in session.scalars(
        select(Lease).where(Lease.name.in_([spec.id for spec in jobs])).execution_options(populate_existing=True))}
    late = []
    for spec in jobs:
        run = runs.get(spec.id)
        since = max(heart.acquired_at, run.last_success_at) if run and run.last_success_at else heart.acquired_at
        due = spec.trigger.get_next_fire_time(since, since)
        if due is not None and now > due + timedelta(seconds=spec.misfire_grace_time) + spec.lease_ttl:
            failed = f" (its last run failed: {run.last_error})" if run and run.last_error else ""
            late.append(f"{spec.id} has not succeeded since {since:%Y-%m-%d %H:%M:%S} UTC{failed}")
    if late:
        return False, "late: " + "; ".join(late)
    return True, f"ok: the scheduler on {host} is alive, {len(jobs)} jobs on time"
