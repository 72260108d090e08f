"""The notifications part of `vcc seed-demo` leaves nudges in the demo participants' inboxes via the log sender.

(The full `vcc seed-demo` runs in tests/service/test_cli.py; here a small world with the same names keeps it quick.)
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from challenges.demo import CYCLING_TITLE, KNOWN
from notifications.demo import seed
from notifications.models import DeliveryAttempt
from service.demo import seed_accounts
from tests.challenges.factories import enrol, make_challenge
from tests.factories import quick_user


def test_demo_seed_puts_nudges_in_the_demo_participants_inboxes(app: Flask, session: Any) -> None:
    accounts = seed_accounts(session)
    challenge = make_challenge(session, accounts.city, title=CYCLING_TITLE)
    for email, name in KNOWN:
        person = quick_user(session, display_name=name)
        person.email = email
        enrol(session, challenge, person)
    lines = seed(session)
    session.commit()
    assert lines[0].startswith("notifications:")
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"grant_type": "password", "email": KNOWN[0][0],
                                                    "password": "correct horse battery"}).get_json()["access_token"]
    inbox = client.get("/api/v1/me/notifications", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert inbox["items"] and inbox["unread"] == len(inbox["items"])
    assert any(item["kind"] == "announcement" for item in inbox["items"])  # the organiser's welcome
    assert set(session.scalars(select(DeliveryAttempt.sender))) == {"log"}
    assert session.scalar(select(func.count(DeliveryAttempt.id))) >= len(KNOWN)
    assert seed(session) == ["notifications: demo nudges already present"]
