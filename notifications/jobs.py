"""The periodic jobs, as one table: ``JOBS`` drives the scheduler's registration, ``vcc scheduler --once``,
the lease each run takes and the removal of stored jobs that are no longer defined.

It lives in notifications, the top domain layer, because only that layer can see every job's work (the
platform's ``service.scheduler`` runs the table without knowing any job). A job's ``id`` is its stored
APScheduler id and its lease name at once: keep ids stable, since changing one retires the stored job and
starts a new one.

The work functions import their modules when they run: the CLI imports this table in every app and every
``vcc`` command, and the work pulls in the rules, the dispatcher and firebase-admin (~0.2 s, ~250 modules)
that web workers never need.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import current_app
from sqlalchemy.orm import Session

from service.scheduler import JobSpec, index, run_leased

log = logging.getLogger(__name__)


def _plan(session: Session, holder: str) -> Any:
    from notifications.rules import plan_activity_nudges

    return plan_activity_nudges(session, holder)


def _dispatch(session: Session, holder: str) -> Any:
    """Renews the lease between batches: sending a large campaign can outlast one lease."""
    from notifications.dispatch import dispatch_due
    from notifications.sender import get_sender

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    job = BY_ID["nudges.dispatch"]
    return dispatch_due(session, get_sender(app), holder, keep_alive=lambda: job.renew(session, holder))


def _lifecycle(session: Session, holder: str) -> Any:
    from notifications.finalise import run_lifecycle

    return run_lifecycle(session, holder)


def _weekly_summary(session: Session, holder: str) -> Any:
    from notifications.rules import plan_weekly_summaries

    return plan_weekly_summaries(session, holder)


def _reconcile(session: Session, holder: str) -> Any:
    from notifications.finalise import reconcile_leaderboards

    job = BY_ID["scoring.reconcile"]
    return reconcile_leaderboards(session, holder, keep_alive=lambda: job.renew(session, holder))


def _purge_idempotency(session: Session, holder: str) -> int:
    """service.idempotency keeps answers a day; the platform has no table of jobs, so its purge is listed here."""
    from service.idempotency import purge_expired

    purged = purge_expired(session)
    session.commit()
    return purged


def _purge_login_throttles(session: Session, holder: str) -> int:
    from service.clock import utcnow
    from service.login_throttle import purge_forgotten

    purged = purge_forgotten(session, utcnow())
    session.commit()
    return purged


def _chunk_done(session: Session, holder: str, job_id: str) -> Callable[[], bool]:
    """Each chunk of a retention job is its own transaction, and the lease is renewed after it: a long purge
    holds no lock for long and stops (to go on at the next run) if another replica took the lease over."""
    def after_each() -> bool:
        session.commit()
        return BY_ID[job_id].renew(session, holder)

    return after_each


def _counted(job_id: str, counts: dict[str, int]) -> dict[str, int]:
    log.info("%s deleted %s", job_id, ", ".join(f"{n} {what}" for what, n in counts.items()))
    return counts


def _activity_retention(session: Session, holder: str) -> dict[str, int]:
    from challenges.activities.retention import ACTIVITY_RETENTION_DAYS, reduce_to_ledger
    from service.clock import utcnow
    from service.retention import setting_days

    days = setting_days("ACTIVITY_RETENTION_DAYS", ACTIVITY_RETENTION_DAYS)
    done = reduce_to_ledger(session, utcnow(), days, _chunk_done(session, holder, "challenges.activity_retention"))
    session.commit()
    return _counted("challenges.activity_retention", {"activities": done.activities, "checkins": done.checkins})


def _purge_refresh_tokens(session: Session, holder: str) -> dict[str, int]:
    from service.clock import utcnow
    from service.retention import purge_refresh_tokens

    purged = purge_refresh_tokens(session, utcnow(), _chunk_done(session, holder, "service.refresh_token_purge"))
    session.commit()
    return _counted("service.refresh_token_purge", {"refresh_tokens": purged})


def _purge_notifications(session: Session, holder: str) -> dict[str, int]:
    from notifications.retention import NOTIFICATION_RETENTION_DAYS, purge
    from service.clock import utcnow
    from service.retention import setting_days

    days = setting_days("NOTIFICATION_RETENTION_DAYS", NOTIFICATION_RETENTION_DAYS)
    counts = purge(session, utcnow(), days, _chunk_done(session, holder, "notifications.retention_purge"))
    session.commit()
    return _counted("notifications.retention_purge", counts)


def _purge_audit(session: Session, holder: str) -> dict[str, int]:
    from service.audit import AUDIT_RETENTION_DAYS
    from service.clock import utcnow
    from service.retention import purge_audit, setting_days

    days = setting_days("AUDIT_RETENTION_DAYS", AUDIT_RETENTION_DAYS)
    counts = purge_audit(session, utcnow(), days, _chunk_done(session, holder, "service.audit_purge"))
    session.commit()
    return _counted("service.audit_purge", counts)


def _mail_outbox(session: Session, holder: str) -> dict[str, Any]:
    """Sends with the app's sender (SMTP_URL, else the log); purges sent mail after NOTIFICATION_RETENTION_DAYS,
    whose default belongs to notifications."""
    from notifications.retention import NOTIFICATION_RETENTION_DAYS
    from service.clock import utcnow
    from service.mail.outbox import run as send_outbox
    from service.mail.transport import sender_for
    from service.retention import setting_days

    settings = current_app.extensions["vcc_settings"]
    job = BY_ID["service.mail_outbox"]
    return send_outbox(session, sender_for(settings.smtp), settings.mail_from, holder, utcnow,
                       setting_days("NOTIFICATION_RETENTION_DAYS", NOTIFICATION_RETENTION_DAYS),
                       keep_alive=lambda: job.renew(session, holder))


# id (job store and lease), --once name, work, trigger, misfire grace (s), lease ttl, description
JOBS: tuple[JobSpec, ...] = (
    JobSpec("nudges.plan", "plan", _plan, IntervalTrigger(minutes=5, timezone=UTC), 240, timedelta(minutes=4),
            "plan nudges (activity, streak, overtaken, milestones, badges, goals, announcements)", run_at_start=True),
    JobSpec("nudges.dispatch", "dispatch", _dispatch, IntervalTrigger(seconds=30, timezone=UTC), 25,
            timedelta(minutes=2), "dispatch due nudges", run_at_start=True),
    JobSpec("challenges.lifecycle", "lifecycle", _lifecycle, IntervalTrigger(minutes=10, timezone=UTC), 540,
            timedelta(minutes=9), "challenge starting, started, ending soon, ended (final standings, finisher badges)",
            run_at_start=True),
    JobSpec("nudges.weekly_summary", "weekly", _weekly_summary, IntervalTrigger(minutes=15, timezone=UTC), 840,
            timedelta(minutes=14), "weekly summaries at Monday 09:00 local"),
    JobSpec("scoring.reconcile", "reconcile", _reconcile, CronTrigger(hour=3, minute=17, timezone=UTC), 3600,
            timedelta(minutes=30), "compare live leaderboards with the ledger, fix what differs (SQL, Redis)"),
    JobSpec("service.idempotency_purge", "purge", _purge_idempotency, IntervalTrigger(hours=1, timezone=UTC), 3000,
            timedelta(minutes=10), "delete idempotency records past their retention"),
    JobSpec("service.login_throttle_purge", "purge-logins", _purge_login_throttles,
            IntervalTrigger(hours=1, timezone=UTC), 3000, timedelta(minutes=10),
            "delete failed sign-in counts quiet for a day"),
    JobSpec("challenges.activity_retention", "purge-activities", _activity_retention,
            CronTrigger(hour=3, minute=47, timezone=UTC), 3600, timedelta(minutes=30),
            "delete activities and check-ins of challenges past ACTIVITY_RETENTION_DAYS (the ledger stays)"),
    JobSpec("service.refresh_token_purge", "purge-tokens", _purge_refresh_tokens,
            IntervalTrigger(hours=1, timezone=UTC), 3000, timedelta(minutes=10), "delete expired refresh tokens"),
    JobSpec("notifications.retention_purge", "purge-notifications", _purge_notifications,
            CronTrigger(hour=4, minute=7, timezone=UTC), 3600, timedelta(minutes=30),
            "delete nudges, delivery attempts, announcements and planner marks past NOTIFICATION_RETENTION_DAYS"),
    JobSpec("service.mail_outbox", "mail", _mail_outbox, IntervalTrigger(seconds=30, timezone=UTC), 25,
            timedelta(minutes=2), "send due e-mails (retries with backoff); delete sent ones past "
            "NOTIFICATION_RETENTION_DAYS", run_at_start=True),
    JobSpec("service.audit_purge", "purge-audit", _purge_audit, CronTrigger(hour=4, minute=27, timezone=UTC), 3600,
            timedelta(minutes=30), "delete audit events and audit notes past AUDIT_RETENTION_DAYS"),
)
BY_ID = index(JOBS, lambda spec: spec.id)
BY_NAME = index(JOBS, lambda spec: spec.cli_name)


def run(job_id: str) -> Any:
    """What the job store holds for every job (with the job's id as its argument): a module-level function,
    so APScheduler can pickle a reference to it."""
    return run_leased(BY_ID[job_id])
