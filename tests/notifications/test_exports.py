"""Notifications' export sections: devices without their tokens (last six characters only), settings and
per-kind preferences, every nudge of the person with its text and fate, and the delivery log of its pushes."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sqlalchemy.orm import Session

from notifications import exports, inbox, preferences
from notifications.dispatch import dispatch_due
from notifications.models import NudgeKind
from tests.factories import quick_user as make_user
from tests.notifications.factories import make_device, plan_nudge
from tests.notifications.fake_fcm import FakeFcm

NOON_HELSINKI = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
GOOD = "good-token-" + "g" * 100 + "AbC123"
GONE = "gone-token-" + "x" * 100 + "ZyX987"


def test_devices_settings_nudges_and_deliveries_of_the_person_only(session: Session, fcm: FakeFcm) -> None:
    with time_machine.travel(NOON_HELSINKI, tick=False):
        me, other = make_user(session), make_user(session)
        make_device(session, me, GOOD, "ios")
        make_device(session, me, GONE, "android")
        make_device(session, other, "other-token-" + "o" * 60)
        fcm.script(GONE, "unregistered")
        preferences.update_preferences(session, me.id, {"quiet_hours": {"start": "22:30", "end": "07:00"},
                                                         "kinds": [{"kind": "overtaken", "enabled": False}]})
        sent = plan_nudge(session, me, NudgeKind.MILESTONE, params={"challenge": "City Walk", "percent": 50})
        plan_nudge(session, other, NudgeKind.MILESTONE, params={"challenge": "Other Walk", "percent": 50})
        session.commit()
        dispatch_due(session, fcm.sender, "export-test")  # type: ignore[attr-defined]
        assert sent is not None
        inbox.mark_read(session, me.id, sent.id)
        session.commit()

    devices = {d["token_last_6"]: d for d in exports.devices(session, me.id)}
    assert set(devices) == {"AbC123", "ZyX987"}
    assert devices["AbC123"]["platform"] == "ios" and devices["AbC123"]["invalid_since"] is None
    assert devices["ZyX987"]["invalid_reason"] == "NOT_FOUND" and devices["ZyX987"]["invalid_since"] is not None
    assert GOOD not in str(exports.devices(session, me.id))

    settings = exports.settings(session, me.id)
    assert settings is not None
    assert (settings["quiet_start_minute"], settings["quiet_end_minute"], settings["opted_out"]) == (
        22 * 60 + 30, 7 * 60, False)
    assert [(p["kind"], p["enabled"]) for p in exports.preferences(session, me.id)] == [("overtaken", False)]
    assert exports.settings(session, other.id) is None

    [nudge] = exports.nudges(session, me.id)
    assert (nudge["id"], nudge["kind"], nudge["status"]) == (sent.id, "milestone", "sent")
    assert nudge["params"] == {"challenge": "City Walk", "percent": 50} and "City Walk" in nudge["body"]
    assert nudge["read_at"] == NOON_HELSINKI and nudge["sent_at"] == NOON_HELSINKI
    deliveries = exports.deliveries(session, me.id)
    by_device = {d["device_id"]: d["outcome"] for d in deliveries}
    assert sorted(by_device.values()) == ["invalid_token", "success"]
    assert {d["notification_id"] for d in deliveries} == {sent.id}
    assert {d["id"] for d in exports.devices(session, me.id)} == set(by_device)
