"""Explicit consent to processing health data: given, renewed, withdrawn, recorded, and required to log activity."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from challenges.activities.models import Activity
from service.models import ConsentRecord, User
from tests.challenges.activity_files import gpx, track
from tests.factories import PASSWORD, auth_headers, make_user

CONSENTS = "/api/v1/me/consents"
HEALTH = f"{CONSENTS}/health_data"
REFUSED = "/health-data-consent-required"


def _walk(hours_ago: int = 3) -> dict[str, Any]:
    return {"type": "walking", "started_at": (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat(),
            "duration_s": 1800}


def _unconsented(session: Session) -> User:
    user = make_user(session, health_data_consent_at=None, health_data_consent_version=None)
    session.commit()
    return user


def _activities(session: Session, user: User) -> int:
    return int(session.scalar(select(func.count()).select_from(Activity).where(Activity.user_id == user.id)) or 0)


def test_without_consent_no_activity_comes_in_by_any_path(app: Flask, client: FlaskClient, session: Session) -> None:
    user = _unconsented(session)
    h = auth_headers(app, user)
    attempts = [
        client.post("/api/v1/activities", json=_walk(), headers=h),
        client.post("/api/v1/activities", json=_walk(), headers={**h, "Idempotency-Key": "k-1"}),
        client.post("/api/v1/activities/batch", headers=h, json={"items": [
            {**_walk(), "source": "wearable", "external_id": "w-1"}]}),
        client.post("/api/v1/activities/import", headers=h, content_type="multipart/form-data", data={
            "file": (io.BytesIO(gpx(track(datetime.now(UTC) - timedelta(hours=5)))), "run.gpx")}),
    ]
    for resp in attempts:
        assert resp.status_code == 403, resp.get_json()
        problem = resp.get_json()
        assert resp.content_type.startswith("application/problem+json") and problem["type"].endswith(REFUSED)
        assert "PUT /api/v1/me/consents/health_data" in problem["detail"]
    assert _activities(session, user) == 0
    assert client.get("/api/v1/activities", headers=h).status_code == 200  # reading my own data stays open


def test_withdrawing_stops_new_and_changed_activity_but_not_deleting_it(app: Flask, client: FlaskClient,
                                                                        session: Session) -> None:
    user = _unconsented(session)
    h = auth_headers(app, user)
    assert client.put(HEALTH, json={"notice_version": "2026-05"}, headers=h).status_code == 200
    walk = client.post("/api/v1/activities", json=_walk(), headers=h)
    assert walk.status_code == 201
    withdrawn = client.delete(HEALTH, headers=h)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["granted"] is False
    activity_id = walk.get_json()["id"]
    edit = client.patch(f"/api/v1/activities/{activity_id}", json={"duration_s": 2400}, headers=h)
    assert edit.status_code == 403 and edit.get_json()["type"].endswith(REFUSED)
    assert client.post("/api/v1/activities", json=_walk(5), headers=h).status_code == 403
    assert client.delete(f"/api/v1/activities/{activity_id}", headers=h).status_code == 204
    assert _activities(session, user) == 1  # kept as a deleted row; its points were reversed by the delete


def test_consent_is_given_renewed_and_withdrawn_with_one_record_per_change(app: Flask, client: FlaskClient,
                                                                           session: Session) -> None:
    user = _unconsented(session)
    h = auth_headers(app, user)
    assert client.get(CONSENTS, headers=h).get_json() == {
        "items": [{"purpose": "health_data", "granted": False, "granted_at": None, "notice_version": None,
                   "needed_for": "logging, syncing, importing and editing activity"}],
        "records": []}
    given = client.put(HEALTH, json={"notice_version": "2026-05"}, headers=h).get_json()
    assert given["granted"] is True and given["notice_version"] == "2026-05" and given["granted_at"]
    again = client.put(HEALTH, json={"notice_version": "2026-05"}, headers=h).get_json()
    assert again == given  # the same consent repeated (a retry) changes nothing
    assert client.put(HEALTH, json={"notice_version": "2027-01"}, headers=h).get_json()["notice_version"] == "2027-01"
    assert client.delete(HEALTH, headers=h).get_json()["granted"] is False
    assert client.delete(HEALTH, headers=h).status_code == 200
    body = client.get(CONSENTS, headers=h).get_json()
    assert body["items"][0]["granted"] is False
    assert [(r["action"], r["notice_version"]) for r in body["records"]] == [
        ("granted", "2026-05"), ("granted", "2027-01"), ("withdrawn", "2027-01")]
    rows = session.scalar(select(func.count()).select_from(ConsentRecord).where(ConsentRecord.user_id == user.id))
    assert rows == 3


def test_bad_consent_requests_are_4xx_problems(app: Flask, client: FlaskClient, session: Session) -> None:
    user = _unconsented(session)
    h = auth_headers(app, user)
    assert client.put(HEALTH, json={"notice_version": "2026-05"}).status_code == 401
    for body in ({}, {"notice_version": ""}, {"notice_version": "May 2026!"}, {"notice_version": "v" * 41},
                 {"notice_version": "2026-05", "extra": 1}):
        resp = client.put(HEALTH, json=body, headers=h)
        assert resp.status_code == 422 and resp.content_type.startswith("application/problem+json"), body
    session.expire_all()
    assert session.get(User, user.id).health_data_consent_at is None  # type: ignore[union-attr]


def test_signing_up_with_a_notice_version_consents_at_once(client: FlaskClient) -> None:
    def sign_up(email: str, **extra: Any) -> dict[str, str]:
        resp = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD,
                                                          "display_name": "New Person", **extra})
        assert resp.status_code == 201, resp.get_json()
        token = client.post("/api/v1/auth/token", json={"grant_type": "password", "email": email,
                                                        "password": PASSWORD}).get_json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    eager = sign_up("eager@example.org", health_data_consent_version="2026-05")
    later = sign_up("later@example.org")
    assert client.get(CONSENTS, headers=eager).get_json()["records"][0]["action"] == "granted"
    assert client.post("/api/v1/activities", json=_walk(), headers=eager).status_code == 201
    assert client.get(CONSENTS, headers=later).get_json()["items"][0]["granted"] is False
    assert client.post("/api/v1/activities", json=_walk(), headers=later).status_code == 403
    bad = client.post("/api/v1/auth/register", json={"email": "odd@example.org", "password": PASSWORD,
                                                     "display_name": "Odd", "health_data_consent_version": "a b"})
    assert bad.status_code == 422


def test_deleting_the_account_clears_consent_and_deletes_its_records(app: Flask, client: FlaskClient,
                                                                    session: Session) -> None:
    user, other = make_user(session), make_user(session)
    session.commit()
    h = auth_headers(app, user)
    assert client.put(HEALTH, json={"notice_version": "2026-05"}, headers=h).status_code == 200
    assert client.put(HEALTH, json={"notice_version": "2026-05"}, headers=auth_headers(app, other)).status_code == 200
    assert client.delete("/api/v1/me", headers=h).status_code == 204
    session.expire_all()
    gone = session.get(User, user.id)
    assert gone is not None and (gone.health_data_consent_at, gone.health_data_consent_version) == (None, None)
    records = session.scalars(select(ConsentRecord.user_id).order_by(ConsentRecord.id)).all()
    assert user.id not in records and other.id in records  # the proof went with the data; others' stays


def test_an_operator_who_collects_consent_elsewhere_can_switch_the_check_off(side_app: Any,
                                                                              session: Session) -> None:
    user = _unconsented(session)
    relaxed = side_app(HEALTH_DATA_CONSENT_REQUIRED="false")
    resp = relaxed.test_client().post("/api/v1/activities", json=_walk(), headers=auth_headers(relaxed, user))
    assert resp.status_code == 201, resp.get_json()


def _shape(value: Any) -> Any:
    """The keys of every object, and the shape of a list's first item: what a client reading the answer relies on."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__ if value is not None else None


def _documented_consents() -> dict[str, Any]:
    import json
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    found = re.search(r"`GET /api/v1/me/consents` answers.*?```json\n(.*?)```", text, re.S)
    assert found, "docs/api.md shows the answer of GET /api/v1/me/consents"
    return json.loads(found.group(1))


def test_the_consents_answer_has_the_shape_docs_api_md_shows(app: Flask, client: FlaskClient,
                                                             session: Session) -> None:
    user = _unconsented(session)
    h = auth_headers(app, user)
    assert client.put(HEALTH, json={"notice_version": "2026-05"}, headers=h).status_code == 200
    answer = client.get(CONSENTS, headers=h).get_json()
    assert _shape(answer) == _shape(_documented_consents())
