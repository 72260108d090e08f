"""Dispatch counts each nudge once by its outcome, and each failed FCM send by its error code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from notifications.dispatch import dispatch_due
from notifications.models import NudgeKind
from notifications.preferences import get_settings
from tests.factories import moved, quick_user, scrape
from tests.notifications.factories import make_device, plan_nudge
from tests.notifications.fake_fcm import FakeFcm

NOON_HELSINKI = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
NUDGES = "vcc_nudges_total"
FCM_ERRORS = "vcc_fcm_errors_total"


def test_nudges_are_counted_by_outcome_and_fcm_failures_by_error_code(client: FlaskClient, session: Session,
                                                                      fcm: FakeFcm) -> None:
    with time_machine.travel(NOON_HELSINKI, tick=False):
        reached, gone, busy, muted = (quick_user(session) for _ in range(4))
        make_device(session, reached, "phone-ok")
        make_device(session, gone, "phone-gone")
        make_device(session, busy, "phone-busy")
        for user in (reached, gone, busy, muted):
            plan_nudge(session, user, NudgeKind.BADGE_EARNED)
        settings = get_settings(session, muted.id)
        settings.opted_out = True  # after the nudge was planned: dispatch checks again and skips it
        session.add(settings)
        session.commit()
        fcm.script("phone-gone", "unregistered")
        fcm.script("phone-busy", "quota:1")
        before = scrape(client)
        dispatch_due(session, fcm.sender, "test-holder")  # type: ignore[attr-defined]
        after = scrape(client)
    took = {token: n for token, n in fcm.counts().items() if token.startswith("phone-")}  # a late hang of another test
    assert took == {"phone-ok": 1}  # the fake records what it took
    counts = {outcome: moved(before, after, NUDGES, outcome=outcome)
              for outcome in ("sent", "failed", "skipped", "expired", "retrying")}
    assert counts == {"sent": 1, "failed": 1, "skipped": 1, "expired": 0, "retrying": 1}
    assert moved(before, after, FCM_ERRORS, code="NOT_FOUND") == 1
    assert moved(before, after, FCM_ERRORS, code="RESOURCE_EXHAUSTED") == 1
    with time_machine.travel(NOON_HELSINKI + timedelta(hours=2), tick=False):
        dispatch_due(session, fcm.sender, "test-holder")  # type: ignore[attr-defined]
        again = scrape(client)
    assert moved(after, again, NUDGES, outcome="sent") == 1  # the retried one, counted once it went out
    assert moved(after, again, NUDGES, outcome="failed") == 0
