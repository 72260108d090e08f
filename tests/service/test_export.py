"""GET /api/v1/me/export: everything held about the signed-in person, in one JSON file, and nobody else's data.

The person is built through the real use cases (sign-in, organisation, team challenge, activity ingest,
badges, device registration, nudge planning and delivery), so every package's section is exercised.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from challenges.activities.models import Activity, ActivityStatus
from challenges.models import Challenge, ChallengeFormat
from notifications.dispatch import dispatch_due
from notifications.models import NudgeKind
from notifications.sender import LogSender
from scoring.models import BadgeAward, PointsEntry
from service.accounts import set_membership
from service.exports import last_chars
from service.exports_api import ExportSchema, ExportSectionsSchema, ExportUserSchema
from service.models import Role, User
from tests.challenges.factories import enrol, make_challenge, make_team
from tests.factories import PASSWORD, auth_headers, make_org, make_user
from tests.notifications.factories import make_device, plan_nudge

EXPORT = "/api/v1/me/export"
DEVICE_TOKEN = "fcm-registration-token-" + "q" * 120 + "Zx91Kp"


def ago(**kwargs: float) -> datetime:
    return (datetime.now(UTC) - timedelta(**kwargs)).replace(microsecond=0)


def post_activity(client: FlaskClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    resp = client.post("/api/v1/activities", json=body, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


@dataclass
class Person:
    user: User
    headers: dict[str, str]
    challenge: Challenge
    start: datetime
    refresh_token: str = ""
    activities: dict[str, int] = field(default_factory=dict)


def _team_challenge(app: Flask, session: Session) -> tuple[Any, Challenge, Any]:
    organiser = make_user(session, display_name="Olga Organiser")
    org = make_org(session, name="Tampere", members={organiser: Role.ORGANISER})
    challenge = make_challenge(session, org, creator=organiser, format=ChallengeFormat.TEAM, title="Walk to Work May")
    team = make_team(session, challenge, organiser, name="North Stars")
    return org, challenge, team


def _everything(app: Flask, client: FlaskClient, session: Session) -> tuple[Person, User]:
    """Pat (a member in a team challenge, with activities, points, a badge, a device and a delivered nudge)
    and Sam, a team mate with data of their own."""
    org, challenge, team = _team_challenge(app, session)
    pat = make_user(session, email="pat@example.org", display_name="Pat Person", health_data_consent_at=None,
                    health_data_consent_version=None)
    sam = make_user(session, email="sam.secret@example.org", display_name="Sam Teammate")
    for who in (pat, sam):
        set_membership(session, user=who, organisation=org, role=Role.MEMBER)
        enrol(session, challenge, who, team_code=team.code)
    make_device(session, pat, DEVICE_TOKEN, "android")
    make_device(session, sam, "sam-device-token-" + "s" * 60, "ios")
    session.commit()

    tokens = client.post("/api/v1/auth/token", json={"grant_type": "password", "email": pat.email,
                                                      "password": PASSWORD}).get_json()
    start = ago(days=2)
    person = Person(pat, {"Authorization": f"Bearer {tokens['access_token']}"}, challenge, start,
                    refresh_token=tokens["refresh_token"])
    h = person.headers
    assert client.put("/api/v1/me/consents/health_data", json={"notice_version": "2026-05"},
                      headers=h).status_code == 200
    person.activities["walk"] = post_activity(client, h, type="walking", started_at=start.isoformat(),
                                              duration_s=1800)["id"]
    person.activities["flagged"] = post_activity(
        client, h, type="running", started_at=(start + timedelta(hours=2)).isoformat(), duration_s=1800,
        distance_m=30_000)["id"]
    person.activities["watch"] = post_activity(
        client, h, type="walking", started_at=(start + timedelta(hours=5)).isoformat(), duration_s=2400,
        source="wearable", external_id="watch-77")["id"]
    person.activities["superseded"] = post_activity(
        client, h, type="walking", started_at=(start + timedelta(hours=5)).isoformat(), duration_s=2400)["id"]
    sam_headers = auth_headers(app, sam)
    post_activity(client, sam_headers, type="cycling", started_at=start.isoformat(), duration_s=3600,
                  external_id="sam-ride-1", source="wearable")

    noon = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    plan_nudge(session, pat, NudgeKind.BADGE_EARNED, params={"challenge": challenge.title, "badge": "First move"},
               now=noon, challenge_id=challenge.id)
    plan_nudge(session, sam, NudgeKind.BADGE_EARNED, params={"challenge": challenge.title, "badge": "Sam's badge"},
               now=noon, challenge_id=challenge.id)
    session.commit()
    with time_machine.travel(noon, tick=False):
        dispatch_due(session, LogSender(), "export-test")
    session.commit()
    session.expire_all()
    return person, sam


def test_the_export_holds_everything_about_me_with_the_right_values(app: Flask, client: FlaskClient,
                                                                    session: Session) -> None:
    person, _ = _everything(app, client, session)
    pat = person.user
    resp = client.get(EXPORT, headers=person.headers)
    assert resp.status_code == 200, resp.get_json()
    assert resp.mimetype == "application/json"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="vcc-export-{pat.id}.json"'
    assert resp.headers["Cache-Control"] == "no-store"
    doc = resp.get_json()
    assert ExportSchema().validate(doc) == {}
    assert doc["format"] == "vcc-export/1"
    assert datetime.fromisoformat(doc["generated_at"]).utcoffset() == timedelta(0)

    assert doc["user"] == {"id": pat.id, "email": "pat@example.org", "display_name": "Pat Person",
                           "timezone": "Europe/Helsinki", "locale": "en", "weight_kg": None,
                           "hide_from_leaderboards": False, "alias": None, "show_full_name": False,
                           "email_verified_at": None,
                           "has_password": True, "firebase_uid": None,
                           "is_superuser": False, "created_at": doc["user"]["created_at"],
                           "health_data_consent_at": doc["user"]["health_data_consent_at"],
                           "health_data_consent_version": "2026-05"}
    assert doc["sections"]["consents"] == [{"purpose": "health_data", "action": "granted", "notice_version": "2026-05",
                                            "at": doc["user"]["health_data_consent_at"]}]
    assert datetime.fromisoformat(doc["user"]["created_at"]).tzinfo is not None
    s = doc["sections"]
    assert set(s) == set(ExportSectionsSchema().fields)  # the OpenAPI document names every section

    assert [(m["organisation_name"], m["organisation_kind"], m["role"]) for m in s["memberships"]] == [
        ("Tampere", "municipality", "member")]
    assert [e["challenge_title"] for e in s["enrolments"]] == ["Walk to Work May"]
    enrolment = s["enrolments"][0]
    assert enrolment["team_name"] == "North Stars" and enrolment["challenge_format"] == "team"
    assert enrolment["organised_by"] == "Tampere" and enrolment["left_at"] is None
    assert len(s["sign_ins"]) == 1 and s["sign_ins"][0]["revoked_at"] is None

    activities = {a["id"]: a for a in s["activities"]}
    assert set(activities) == set(person.activities.values())
    walk = activities[person.activities["walk"]]
    assert (walk["type_code"], walk["duration_s"], walk["source"], walk["status"]) == ("walking", 1800, "manual",
                                                                                       "accepted")
    assert walk["started_at"].endswith("+00:00") and datetime.fromisoformat(walk["started_at"]) == person.start
    assert walk["entries"] == [{"challenge_id": person.challenge.id, "challenge_title": "Walk to Work May",
                                "status": "counted", "reason": None, "reviewed_at": None,
                                "created_at": walk["entries"][0]["created_at"]}]
    flagged = activities[person.activities["flagged"]]
    assert flagged["status"] == "flagged" and flagged["reason"] and flagged["distance_m"] == 30_000
    assert [e["status"] for e in flagged["entries"]] == ["flagged"]
    superseded = activities[person.activities["superseded"]]
    assert superseded["status"] == "superseded" and superseded["superseded_by_id"] == person.activities["watch"]
    watch = activities[person.activities["watch"]]
    assert (watch["source"], watch["external_id"]) == ("wearable", "watch-77")
    assert {"fingerprint", "source_ref", "source_sha256", "deleted_at", "updated_at"} <= set(watch)
    assert "user_id" not in watch

    stored = session.execute(select(PointsEntry.source_key, PointsEntry.points, PointsEntry.local_day)
                             .where(PointsEntry.user_id == pat.id).order_by(PointsEntry.id)).all()
    assert [(p["source_key"], p["points"], p["local_day"]) for p in s["points"]] == [
        (k, p, d.isoformat()) for k, p, d in stored]
    assert f"activity:{person.activities['walk']}" in {p["source_key"] for p in s["points"]}
    assert sum(p["points"] for p in s["points"]) == 30 + 40  # the walk and the watch; flagged and superseded: 0
    assert {p["contest_id"] for p in s["points"]} == {person.challenge.id}
    assert {"metric_value", "rule", "created_at", "kind"} <= set(s["points"][0])
    assert {(t["period"], t["points"]) for t in s["board_totals"]} >= {("all", 70)}

    award = session.scalars(select(BadgeAward).where(BadgeAward.user_id == pat.id)).one()
    assert [(b["code"], b["contest_id"], b["evidence"]) for b in s["badges"]] == [
        (award.badge.code, person.challenge.id, award.evidence)]

    assert len(s["devices"]) == 1
    device = s["devices"][0]
    assert device["token_last_6"] == "Zx91Kp" and device["platform"] == "android"
    assert [n["kind"] for n in s["notifications"]] == ["badge_earned"]
    nudge = s["notifications"][0]
    assert nudge["status"] == "sent" and nudge["title"] and nudge["in_inbox_since"] and nudge["read_at"] is None
    assert nudge["params"]["badge"] == "First move"
    assert [(d["notification_id"], d["device_id"], d["outcome"]) for d in s["push_deliveries"]] == [
        (nudge["id"], device["id"], "success")]


def test_no_secrets_and_nobody_else_in_the_export(app: Flask, client: FlaskClient, session: Session) -> None:
    person, sam = _everything(app, client, session)
    text = client.get(EXPORT, headers=person.headers).get_data(as_text=True)
    pat = session.get(User, person.user.id)
    assert pat is not None and pat.password_hash
    for secret in (pat.password_hash, person.refresh_token, hashlib.sha256(person.refresh_token.encode()).hexdigest(),
                   DEVICE_TOKEN, DEVICE_TOKEN[-7:], person.headers["Authorization"].split()[1]):
        assert secret not in text
    assert "password_hash" not in text and "Olga Organiser" not in text
    sam_ids = session.scalars(select(Activity.id).where(Activity.user_id == sam.id)).all()
    assert sam_ids
    for other in ("sam.secret@example.org", "Sam Teammate", "sam-ride-1", "sam-device-token", "Sam's badge"):
        assert other not in text
    doc = client.get(EXPORT, headers=person.headers).get_json()
    assert not set(sam_ids) & {a["id"] for a in doc["sections"]["activities"]}


def test_only_the_end_of_a_long_token_is_shown() -> None:
    assert last_chars("fcm-" + "a" * 150 + "Zx91Kp") == "Zx91Kp"
    assert last_chars("short-token") is None and last_chars("") is None and last_chars(None) is None


def test_signing_in_is_required(client: FlaskClient) -> None:
    resp = client.get(EXPORT)
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert "Content-Disposition" not in resp.headers


def test_a_new_account_gets_empty_sections(app: Flask, client: FlaskClient, session: Session) -> None:
    user = make_user(session, display_name="Fresh")
    session.commit()
    doc = client.get(EXPORT, headers=auth_headers(app, user)).get_json()
    assert doc["user"]["display_name"] == "Fresh"
    assert doc["sections"]["notification_settings"] is None
    assert all(rows == [] for name, rows in doc["sections"].items() if name != "notification_settings")


def _statements(app: Flask, client: FlaskClient, headers: dict[str, str]) -> int:
    from service.db import db

    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    db.session.expire_all()  # the test's own session is the view's: make both requests load what they read
    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        resp = client.get(EXPORT, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert resp.status_code == 200
    return len(seen)


def test_the_number_of_queries_does_not_grow_with_the_number_of_activities(app: Flask, client: FlaskClient,
                                                                            session: Session) -> None:
    _, challenge, team = _team_challenge(app, session)
    few, many = make_user(session), make_user(session)
    for who in (few, many):
        enrol(session, challenge, who, team_code=team.code)
    session.commit()
    start = ago(days=3)
    for who, n in ((few, 3), (many, 30)):
        items = [{"source": "wearable", "external_id": f"w-{i}", "type": "walking",
                  "started_at": (start + timedelta(minutes=40 * i)).isoformat(), "duration_s": 1200}
                 for i in range(n)]
        resp = client.post("/api/v1/activities/batch", json={"items": items}, headers=auth_headers(app, who))
        assert resp.status_code == 200, resp.get_json()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Activity).where(Activity.user_id == many.id)) == 30
    assert session.scalar(select(func.count()).select_from(Activity).where(
        Activity.user_id == many.id, Activity.status == ActivityStatus.ACCEPTED)) == 30
    counts = [_statements(app, client, auth_headers(app, who)) for who in (few, many)]
    assert counts[0] == counts[1], counts
    assert counts[0] <= 25


def test_the_export_is_limited_per_person(side_app: Callable[..., Flask], app: Flask, session: Session) -> None:
    pat, sam = make_user(session), make_user(session)
    session.commit()
    limited = side_app(RATELIMIT_ENABLED="true", EXPORT_RATELIMIT="2 per hour")
    client = limited.test_client()
    statuses = [client.get(EXPORT, headers=auth_headers(limited, pat)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = client.get(EXPORT, headers=auth_headers(limited, pat))
    assert refused.mimetype == "application/problem+json" and int(refused.headers["Retry-After"]) > 0
    assert client.get(EXPORT, headers=auth_headers(limited, sam)).status_code == 200  # same address, own count


def test_the_openapi_document_describes_the_export(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    op = spec["paths"]["/api/v1/me/export"]["get"]
    assert op["security"] == [{"bearerAuth": []}]
    ok = op["responses"]["200"]
    assert "Content-Disposition" in ok["headers"]
    schemas = spec["components"]["schemas"]
    ref = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schemas[ref]["properties"]) == {"format", "generated_at", "user", "sections"}
    assert set(ExportUserSchema().fields) == set(schemas["ExportUser"]["properties"])
    assert {"memberships", "enrolments", "activities", "points", "badges", "devices", "notifications"} <= set(
        schemas["ExportSections"]["properties"])
