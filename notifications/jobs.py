"""The scheduler's job functions: module-level (the job store pickles references to them), each builds its
own app context and session, and each run first takes a database lease so one replica does the work.

The scheduler process binds its Flask app once at start-up (``bind_app``); notifications cannot import the
app factory (the import contract forbids it), and a job function must not build a new app per run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask, current_app
from sqlalchemy.orm import Session

from notifications import leases
from service.db import db

log = logging.getLogger(__name__)
T = TypeVar("T")

_APP: Flask | None = None


def bind_app(app: Flask | None) -> None:
    global _APP
    _APP = app


def _app() -> Flask:
    if _APP is not None:
        return _APP
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


def run_leased(name: str, ttl: timedelta, work: Callable[[Session, str], T]) -> T | None:
    """Run ``work(session, holder)`` in a fresh app context if this replica wins the lease ``name``."""
    app = _app()
    with app.app_context():
        session = db.session
        holder = leases.new_holder()
        try:
            if not leases.acquire(session, name, holder, ttl):
                log.debug("job %s: another replica holds the lease", name)
                return None
            try:
                return work(session, holder)
            finally:
                session.rollback()
                leases.release(session, name, holder)
        finally:
            db.session.remove()


def plan_job() -> Any:
    from notifications.rules import plan_activity_nudges

    return run_leased("nudges.plan", timedelta(minutes=4), plan_activity_nudges)


def dispatch_job() -> Any:
    from notifications.dispatch import dispatch_due
    from notifications.sender import get_sender

    ttl = timedelta(minutes=2)
    sender = get_sender(_app())

    def work(session: Session, holder: str) -> Any:
        return dispatch_due(session, sender, holder,
                            keep_alive=lambda: leases.renew(session, "nudges.dispatch", holder, ttl))

    return run_leased("nudges.dispatch", ttl, work)


def lifecycle_job() -> Any:
    from notifications.finalise import run_lifecycle

    return run_leased("challenges.lifecycle", timedelta(minutes=9), run_lifecycle)


def weekly_summary_job() -> Any:
    from notifications.rules import plan_weekly_summaries

    return run_leased("nudges.weekly_summary", timedelta(minutes=14), plan_weekly_summaries)


def reconcile_job() -> Any:
    from notifications.finalise import reconcile_leaderboards

    return run_leased("scoring.reconcile", timedelta(minutes=30), reconcile_leaderboards)


def purge_idempotency_job() -> Any:
    """Delete idempotency records past their retention (service.idempotency keeps them a day)."""
    from service.idempotency import purge_expired

    def work(session: Session, holder: str) -> int:
        purged = purge_expired(session)
        session.commit()
        return purged

    return run_leased("service.idempotency_purge", timedelta(minutes=10), work)


ALL_JOBS: dict[str, Callable[[], Any]] = {
    "plan": plan_job, "dispatch": dispatch_job, "lifecycle": lifecycle_job, "weekly": weekly_summary_job,
    "reconcile": reconcile_job, "purge": purge_idempotency_job,
}
