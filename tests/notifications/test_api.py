"""The notifications API: devices, preferences, inbox and organiser announcements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notifications.dispatch import dispatch_due
from notifications.models import Announcement, DeviceToken, Nudge, NudgeKind
from notifications.rules import plan_activity_nudges
from notifications.sender import LogSender
from service.models import Role
from tests.challenges.factories import enrol, make_challenge
from tests.factories import auth_headers, make_org
from tests.factories import quick_user as make_user
from tests.notifications.factories import plan_nudge


def test_registering_the_same_token_twice_keeps_one_device_and_delete_removes_it(
        app: Flask, client: FlaskClient, session: Session) -> None:
    user = make_user(session)
    session.commit()
    headers = auth_headers(app, user)
    body = {"token": "fcm-token-1", "platform": "android", "app_version": "1.2.0"}
    first = client.post("/api/v1/me/devices", json=body, headers=headers)
    again = client.post("/api/v1/me/devices", json={**body, "platform": "ios"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json["id"] == again.json["id"] and again.json["platform"] == "ios"
    assert session.scalar(select(func.count(DeviceToken.id))) == 1
    listed = client.get("/api/v1/me/devices", headers=headers).json
    assert [d["token"] for d in listed] == ["fcm-token-1"]
    other = make_user(session)
    session.commit()
    assert client.delete(f"/api/v1/me/devices/{first.json['id']}", headers=auth_headers(app, other)).status_code == 404
    assert client.delete(f"/api/v1/me/devices/{first.json['id']}", headers=headers).status_code == 204
    assert client.get("/api/v1/me/devices", headers=headers).json == []


@pytest.mark.parametrize("body, field", [
    ({"platform": "android"}, "token"),
    ({"token": "x", "platform": "symbian"}, "platform"),
    ({"token": "x", "platform": "ios", "token_type": "apns"}, "token_type"),
    ({"token": "x", "platform": "ios", "colour": "red"}, "colour"),
])
def test_bad_device_registrations_get_a_422_naming_the_field(app: Flask, client: FlaskClient, session: Session,
                                                             body: dict, field: str) -> None:
    user = make_user(session)
    session.commit()
    resp = client.post("/api/v1/me/devices", json=body, headers=auth_headers(app, user))
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert field in resp.json["errors"]


def test_preferences_show_defaults_and_accept_partial_updates(app: Flask, client: FlaskClient,
                                                              session: Session) -> None:
    user = make_user(session)
    session.commit()
    headers = auth_headers(app, user)
    prefs = client.get("/api/v1/me/notification-preferences", headers=headers).json
    assert prefs["quiet_hours"] == {"start": "21:00", "end": "08:00"} and prefs["opted_out"] is False
    assert {k["kind"] for k in prefs["kinds"]} == {k.value for k in NudgeKind}
    resp = client.patch("/api/v1/me/notification-preferences", headers=headers, json={
        "quiet_hours": {"start": "22:30", "end": "07:00"},
        "kinds": [{"kind": "overtaken", "enabled": False}, {"kind": "badge_earned", "daily_cap": 1}]})
    assert resp.status_code == 200
    kinds = {k["kind"]: k for k in resp.json["kinds"]}
    assert resp.json["quiet_hours"] == {"start": "22:30", "end": "07:00"}
    assert kinds["overtaken"]["enabled"] is False and kinds["badge_earned"]["daily_cap"] == 1
    assert client.patch("/api/v1/me/notification-preferences", headers=headers,
                        json={"opted_out": True}).json["quiet_hours"]["start"] == "22:30"
    bad = client.patch("/api/v1/me/notification-preferences", headers=headers,
                       json={"quiet_hours": {"start": "25:00", "end": "07:00"}})
    assert bad.status_code == 422 and "quiet_hours" in bad.json["errors"]
    assert client.patch("/api/v1/me/notification-preferences", headers=headers,
                        json={"kinds": [{"kind": "spam"}]}).status_code == 422


def test_inbox_pages_newest_first_and_marks_read(app: Flask, client: FlaskClient, session: Session) -> None:
    user = make_user(session, locale="fi")
    start = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    for i in range(5):
        with time_machine.travel(start + timedelta(minutes=i), tick=False):
            plan_nudge(session, user, NudgeKind.BADGE_EARNED, params={"badge": f"B{i}", "challenge": "Kävely"})
            session.commit()
            dispatch_due(session, LogSender(), "test")
    headers = auth_headers(app, user)
    page1 = client.get("/api/v1/me/notifications?limit=3", headers=headers).json
    assert [n["title"] for n in page1["items"]] == ["Uusi merkki: B4", "Uusi merkki: B3", "Uusi merkki: B2"]
    assert page1["unread"] == 5
    page2 = client.get(f"/api/v1/me/notifications?limit=3&cursor={page1['next']}", headers=headers).json
    assert [n["title"] for n in page2["items"]] == ["Uusi merkki: B1", "Uusi merkki: B0"] and page2["next"] is None
    one = page1["items"][0]["id"]
    assert client.post(f"/api/v1/me/notifications/{one}/read", headers=headers).json["read_at"] is not None
    unread = client.get("/api/v1/me/notifications?unread=true", headers=headers).json
    assert len(unread["items"]) == 4 and unread["unread"] == 4
    assert client.post("/api/v1/me/notifications/read", headers=headers).json == {"marked": 4}
    stranger = make_user(session)
    session.commit()
    assert client.post(f"/api/v1/me/notifications/{one}/read",
                       headers=auth_headers(app, stranger)).status_code == 404
    assert client.get("/api/v1/me/notifications?cursor=garbage", headers=headers).status_code == 400


def test_organisers_schedule_announcements_that_reach_every_participant_at_that_time(
        app: Flask, client: FlaskClient, session: Session) -> None:
    now = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        organiser, member, outsider = make_user(session), make_user(session), make_user(session)
        org = make_org(session, members={organiser: Role.ORGANISER, member: Role.MEMBER})
        make_org(session, members={outsider: Role.ORGANISER})
        challenge = make_challenge(session, org)
        people = [make_user(session, locale=loc) for loc in ("en", "nl", "es")]
        for person in people:
            enrol(session, challenge, person)
        session.commit()
        url = f"/api/v1/challenges/{challenge.id}/announcements"
        body = {"title": "Park run on Sunday", "body": "Meet at the fountain at 10:00.",
                "scheduled_at": (now + timedelta(hours=2)).isoformat()}
        assert client.post(url, json=body, headers=auth_headers(app, member)).status_code == 403
        assert client.post(url, json=body, headers=auth_headers(app, outsider)).status_code == 403
        assert client.post("/api/v1/challenges/999999/announcements", json=body,
                           headers=auth_headers(app, organiser)).status_code == 404
        assert client.post(url, json={**body, "scheduled_at": "2026-06-10T12:00:00"},
                           headers=auth_headers(app, organiser)).status_code == 422
        assert client.post(url, json={**body, "title": "   "},
                           headers=auth_headers(app, organiser)).status_code == 400
        created = client.post(url, json=body, headers=auth_headers(app, organiser))
        assert created.status_code == 201
        plan_activity_nudges(session)
        assert session.scalar(select(func.count(Nudge.id))) == 0  # not yet its time
    with time_machine.travel(now + timedelta(hours=2, minutes=1), tick=False):
        plan_activity_nudges(session)
        plan_activity_nudges(session)  # planning again adds nothing
        dispatch_due(session, LogSender(), "test")
        nudges = list(session.scalars(select(Nudge).order_by(Nudge.user_id)))
        assert {n.user_id for n in nudges} == {p.id for p in people}
        assert all(n.inbox_at is not None and n.body == "Meet at the fountain at 10:00." for n in nudges)
        assert session.get(Announcement, created.json["id"]).fanned_out_at is not None
        listed = client.get(url, headers=auth_headers(app, organiser)).json
        assert listed[0]["fanned_out_at"] is not None
