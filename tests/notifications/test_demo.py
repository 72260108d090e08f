"""`vcc seed-demo` leaves nudges in the demo participants' inboxes, delivered through the log sender."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from notifications.models import DeliveryAttempt
from service.cli import seed_demo


def test_seed_demo_puts_nudges_in_the_demo_participants_inboxes(app: Flask, session: Any) -> None:
    result = app.test_cli_runner().invoke(seed_demo, [])
    assert result.exit_code == 0, result.output
    assert "notifications:" in result.output
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"grant_type": "password", "email": "ann@demo.vcc",
                                                    "password": "demo-password"}).get_json()["access_token"]
    inbox = client.get("/api/v1/me/notifications", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert inbox["items"] and inbox["unread"] == len(inbox["items"])
    assert all(item["title"] and item["body"] for item in inbox["items"])
    senders = set(session.scalars(select(DeliveryAttempt.sender)))
    assert senders == {"log"} and session.scalar(select(func.count(DeliveryAttempt.id))) > 0
