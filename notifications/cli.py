"""CLI commands of notifications, added to `vcc` by the app factory: the scheduler process, running the job
table of ``notifications.jobs`` (its ``--once`` names come from the table)."""

from __future__ import annotations

import contextlib
import logging
import signal
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from notifications import jobs
from service.scheduler import bind_app, build_scheduler, quiet_apscheduler_logs, register_jobs, run_leased

log = logging.getLogger(__name__)


@click.command("scheduler")
@click.option("--once", "once", multiple=True, type=click.Choice([*jobs.BY_NAME, "all"]),
              help="Run these jobs once (in order) and exit, instead of running the scheduler.")
@with_appcontext
def scheduler_command(once: tuple[str, ...]) -> None:
    """Run the nudge scheduler (APScheduler, job store in the database); safe to run on several hosts."""
    from notifications.sender import get_sender
    from service.db import db
    from service.runtime import freeze_startup_heap

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    bind_app(app)
    sender = get_sender(app)  # says at start-up whether pushes go to FCM or to the log only
    click.echo(f"push sender: {sender.name}")
    if once:
        chosen = jobs.JOBS if "all" in once else [jobs.BY_NAME[name] for name in once]
        for spec in chosen:
            click.echo(f"{spec.cli_name}: {run_leased(spec)}")
        return
    quiet_apscheduler_logs(app.extensions["vcc_settings"].log_level)
    scheduler = build_scheduler(db.engine)
    freeze_startup_heap(app.extensions["vcc_settings"].gc_freeze)
    ids = register_jobs(scheduler, jobs.JOBS, jobs.run)
    click.echo(f"scheduler running jobs: {', '.join(ids)} (UTC); Ctrl+C to stop")

    def stop(signum: int, frame: Any) -> None:
        log.info("scheduler stopping (signal %s)", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()


commands: list[click.Command] = [scheduler_command]
