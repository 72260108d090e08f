"""Device tokens changing hands: the same phone signed in to another account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.dispatch import dispatch_due
from notifications.models import DeliveryAttempt, DeviceToken, NudgeStatus
from tests.factories import auth_headers
from tests.factories import quick_user as make_user
from tests.notifications.factories import plan_nudge
from tests.notifications.fake_fcm import FakeFcm

NOON_HELSINKI = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
PHONE = "fcm-token-of-the-shared-phone"


def _register(client: FlaskClient, headers: dict[str, str]) -> tuple[int, dict]:
    resp = client.post("/api/v1/me/devices", json={"token": PHONE, "platform": "android"}, headers=headers)
    return resp.status_code, resp.json


def test_a_token_registered_by_another_account_moves_there_and_the_previous_holder_s_nudges_never_reach_it(
        app: Flask, client: FlaskClient, session: Session, fcm: FakeFcm) -> None:
    with time_machine.travel(NOON_HELSINKI, tick=False):
        ann, ben = make_user(session), make_user(session)
        session.commit()
        as_ann, as_ben = auth_headers(app, ann), auth_headers(app, ben)
        assert _register(client, as_ann)[0] == 201
        fcm.script(PHONE, "unavailable")
        retried = plan_nudge(session, ann)
        session.commit()
        dispatch_due(session, fcm.sender, "test")  # type: ignore[attr-defined]
        session.refresh(retried)
        assert retried.status == NudgeStatus.PLANNED and retried.attempts == 1  # queued for a retry
        queued = plan_nudge(session, ann)
        session.commit()
    later = NOON_HELSINKI + timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        status, bens_device = _register(client, as_ben)  # Ben signs in on Ann's phone
        assert status == 201 and bens_device["created_at"] == later.isoformat()
        assert client.get("/api/v1/me/devices", headers=as_ann).json == []
        assert [d["token"] for d in client.get("/api/v1/me/devices", headers=as_ben).json] == [PHONE]
        assert session.scalars(select(DeliveryAttempt.device_id)).all() == [None]  # Ann's log keeps no link
        bens = plan_nudge(session, ben)
        session.commit()
        already = len(fcm.received)
    with time_machine.travel(NOON_HELSINKI + timedelta(hours=1), tick=False):
        dispatch_due(session, fcm.sender, "test")  # type: ignore[attr-defined]
    pushed = [(m["token"], m["data"]["nudge_id"]) for m in fcm.received[already:]]
    assert pushed == [(PHONE, str(bens.id))]
    for nudge in (retried, queued):
        session.refresh(nudge)
        assert nudge.inbox_at is not None and nudge.reason == "inbox-only"  # Ann reads it in the app


def test_a_dead_token_stays_dead_when_another_account_registers_it(
        app: Flask, client: FlaskClient, session: Session, fcm: FakeFcm) -> None:
    with time_machine.travel(NOON_HELSINKI, tick=False):
        ann, ben = make_user(session), make_user(session)
        session.commit()
        assert _register(client, auth_headers(app, ann))[0] == 201
        fcm.script(PHONE, "unregistered")
        plan_nudge(session, ann)
        session.commit()
        dispatch_due(session, fcm.sender, "test")  # type: ignore[attr-defined]
        status, device = _register(client, auth_headers(app, ben))
        assert status == 201 and device["invalid_since"] == NOON_HELSINKI.isoformat()
        plan_nudge(session, ben)
        session.commit()
        already = len(fcm.received)
        dispatch_due(session, fcm.sender, "test")  # type: ignore[attr-defined]
    assert fcm.received[already:] == []
    assert session.scalar(select(DeviceToken.invalid_reason).where(DeviceToken.user_id == ben.id)) == "NOT_FOUND"
