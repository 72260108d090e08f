"""CLI commands of notifications, added to `vcc` by the app factory: the scheduler process, running the job
table of ``notifications.jobs`` (its ``--once`` names come from the table)."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from typing import TYPE_CHECKING, Any

import click
from flask import current_app
from flask.cli import with_appcontext

from notifications import jobs
from service import leases, metrics
from service.scheduler import (
    add_heartbeat,
    beat,
    bind_app,
    build_scheduler,
    check,
    quiet_apscheduler_logs,
    register_jobs,
    run_leased,
    stop_beating,
)

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)


@click.command("scheduler")
@click.option("--once", "once", multiple=True, type=click.Choice([*jobs.BY_NAME, "all"]),
              help="Run these jobs once (in order) and exit, instead of running the scheduler.")
@click.option("--check", is_flag=True, help="Say in one line whether the scheduler of this host is alive and every "
              "job succeeded on time, and exit 0 if so, 1 if not (a container health check).")
@with_appcontext
def scheduler_command(once: tuple[str, ...], check: bool) -> None:
    """Run the nudge scheduler (APScheduler, job store in the database); safe to run on several hosts."""
    from notifications.sender import get_sender
    from service.db import db
    from service.runtime import freeze_startup_heap

    if check:
        _check(db.session)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    bind_app(app)
    sender = get_sender(app)  # says at start-up whether pushes go to FCM or to the log only
    click.echo(f"push sender: {sender.name}")
    if once:
        chosen = jobs.JOBS if "all" in once else [jobs.BY_NAME[name] for name in once]
        for spec in chosen:
            click.echo(f"{spec.cli_name}: {run_leased(spec)}")
        return
    settings = app.extensions["vcc_settings"]
    quiet_apscheduler_logs(settings.log_level)
    scheduler = build_scheduler(db.engine)
    freeze_startup_heap(settings.gc_freeze)
    ids = register_jobs(scheduler, jobs.JOBS, jobs.run)
    holder = leases.new_holder()
    if not beat(db.session, holder):
        log.warning("another scheduler process on this host holds the heartbeat; this one takes it over when it ends")
    add_heartbeat(scheduler, holder)
    if settings.metrics_port:
        metrics.serve_port(settings.metrics_port)
        click.echo(f"metrics on port {settings.metrics_port}")
    click.echo(f"scheduler running jobs: {', '.join(ids)} (UTC); Ctrl+C to stop")
    _install_stop(scheduler)
    try:
        with contextlib.suppress(KeyboardInterrupt, SystemExit):
            scheduler.start()
    finally:
        stop_beating(db.session, holder)
    log.info("scheduler stopped")


def _check(session: Any) -> None:
    """Exits: 0 alive and on time, 1 not (a database that does not answer is a 1 too, with its error's name)."""
    try:
        healthy, reason = check(session, jobs.JOBS)
    except Exception as exc:  # a health check reports, it does not crash
        healthy, reason = False, f"cannot read the scheduler's state: {type(exc).__name__}"
    click.echo(reason)
    sys.exit(0 if healthy else 1)


def _install_stop(scheduler: BaseScheduler) -> None:
    """SIGTERM and SIGINT stop the scheduler once: the first signal shuts it down (jobs already running finish
    before the process exits); any later one, e.g. the SIGTERM that follows Ctrl+C under ``vcc serve``, or a
    second one from an impatient supervisor, is only noted. Shutting down twice raised SchedulerNotRunningError.
    A signal that comes before the scheduler started leaves at once."""
    stopping: list[int] = []

    def stop(signum: int, frame: Any) -> None:
        if stopping:
            log.info("scheduler already stopping (signal %s)", signum)
            return
        stopping.append(signum)
        log.info("scheduler stopping (signal %s)", signum)
        if not scheduler.running:
            raise SystemExit(0)
        scheduler.shutdown(wait=False)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)


commands: list[click.Command] = [scheduler_command]
