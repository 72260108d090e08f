"""Organisers create, edit, publish and end challenges, per organisation; rules lock once running."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from challenges.models import Challenge, ChallengeStatus
from service.clock import utcnow
from tests.challenges.conftest import Cast
from tests.challenges.factories import challenge_body, make_challenge


def _body(cast: Cast, **over: Any) -> dict[str, Any]:
    return challenge_body(cast.org.id, **over)


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 201), ("organiser", 201), ("member", 403), ("outsider", 403), ("foreign_organiser", 403)])
def test_only_admins_and_organisers_of_that_organisation_create_challenges(
        app: Flask, client: FlaskClient, cast: Cast, who: str, status: int) -> None:
    resp = client.post("/api/v1/challenges", json=_body(cast), headers=cast.headers(app, who))
    assert resp.status_code == status, resp.json
    if status == 403:
        assert resp.mimetype == "application/problem+json"


@pytest.mark.parametrize(("who", "status"), [
    ("admin", 200), ("organiser", 200), ("member", 403), ("outsider", 403), ("foreign_organiser", 403)])
@pytest.mark.parametrize("action", ["edit", "publish", "end"])
def test_permission_matrix_for_edit_publish_end(app: Flask, client: FlaskClient, session: Any, cast: Cast,
                                                who: str, status: int, action: str) -> None:
    challenge = make_challenge(session, cast.org, publish=action == "end")
    session.commit()
    url = f"/api/v1/challenges/{challenge.id}"
    headers = cast.headers(app, who)
    if action == "edit":
        resp = client.patch(url, json={"title": "New title"}, headers=headers)
    else:
        resp = client.post(f"{url}/{action}", headers=headers)
    assert resp.status_code == status, resp.json
    session.expire_all()
    stored = session.get(Challenge, challenge.id)
    changed = {"edit": stored.title == "New title", "publish": stored.status == ChallengeStatus.PUBLISHED,
               "end": stored.status == ChallengeStatus.ENDED}[action]
    assert changed is (status == 200)


def test_times_without_offset_are_wall_clock_in_the_challenge_zone(app: Flask, client: FlaskClient,
                                                                  cast: Cast) -> None:
    resp = client.post("/api/v1/challenges", json=_body(cast), headers=cast.headers(app, "organiser"))
    assert resp.status_code == 201
    assert resp.json["starts_at"] == "2030-05-01T00:00:00+03:00"
    assert resp.json["status"] == "draft" and resp.json["phase"] == "draft"
    aware = client.post("/api/v1/challenges", json=_body(cast, starts_at="2030-05-01T00:00:00Z"),
                        headers=cast.headers(app, "organiser"))
    assert aware.json["starts_at"] == "2030-05-01T03:00:00+03:00"


def test_draft_is_published_then_ended_and_its_phase_follows_the_dates(app: Flask, client: FlaskClient,
                                                                       cast: Cast) -> None:
    headers = cast.headers(app, "organiser")
    created = client.post("/api/v1/challenges", json=_body(cast), headers=headers).json
    url = f"/api/v1/challenges/{created['id']}"
    published = client.post(f"{url}/publish", headers=headers)
    assert published.status_code == 200 and published.json["phase"] == "upcoming"
    again = client.post(f"{url}/publish", headers=headers)
    assert again.status_code == 409 and again.json["type"].endswith("/not-a-draft")
    with time_machine.travel("2030-05-10T12:00:00Z"):
        assert client.get(url).json["phase"] == "running"
        ended = client.post(f"{url}/end", headers=cast.headers(app, "organiser"))
        assert ended.status_code == 200 and ended.json["phase"] == "ended"
        assert ended.json["ended_at"].startswith("2030-05-10T12:00")
        assert client.post(f"{url}/end", headers=cast.headers(app, "organiser")).status_code == 409


@pytest.mark.parametrize(("field", "value"), [
    ("metric", "steps"), ("daily_cap", 60), ("allowed_types", ["walking"]), ("vigorous_counts_double", True),
    ("timezone", "Europe/Madrid"), ("format", "team"), ("starts_at", "2000-01-01T00:00:00Z"),
])
def test_rules_that_would_rewrite_history_are_locked_once_running(app: Flask, client: FlaskClient,
                                                                  session: Any, cast: Cast, field: str,
                                                                  value: Any) -> None:
    challenge = make_challenge(session, cast.org)
    session.commit()
    resp = client.patch(f"/api/v1/challenges/{challenge.id}", json={field: value},
                        headers=cast.headers(app, "organiser"))
    assert resp.status_code == 409, resp.json
    assert resp.json["type"].endswith("/rules-locked") and field in resp.json["fields"]


def test_running_challenge_still_takes_harmless_edits_and_an_extension(app: Flask, client: FlaskClient,
                                                                      session: Any, cast: Cast) -> None:
    challenge = make_challenge(session, cast.org)
    session.commit()
    later = (challenge.ends_at + timedelta(days=7)).isoformat()
    resp = client.patch(f"/api/v1/challenges/{challenge.id}",
                        json={"title": "Longer", "goal": 900, "ends_at": later, "grace_days": 3},
                        headers=cast.headers(app, "organiser"))
    assert resp.status_code == 200, resp.json
    assert resp.json["title"] == "Longer" and resp.json["goal"] == 900
    shorter_into_past = (utcnow() - timedelta(days=1)).isoformat()
    refused = client.patch(f"/api/v1/challenges/{challenge.id}", json={"ends_at": shorter_into_past},
                           headers=cast.headers(app, "organiser"))
    assert refused.status_code == 409 and "ends_at" in refused.json["fields"]


def test_upcoming_challenge_may_change_every_rule(app: Flask, client: FlaskClient, session: Any,
                                                  cast: Cast) -> None:
    now = utcnow()
    challenge = make_challenge(session, cast.org, starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=9))
    session.commit()
    resp = client.patch(f"/api/v1/challenges/{challenge.id}", json={"metric": "steps", "daily_cap": 20000},
                        headers=cast.headers(app, "organiser"))
    assert resp.status_code == 200 and resp.json["metric"] == "steps"


@pytest.mark.parametrize(("over", "status", "code"), [
    ({"ends_at": "2030-04-01T00:00:00"}, 400, "bad-window"),
    ({"metric": "furlongs"}, 422, "validation-error"),
    ({"timezone": "Mars/Olympus"}, 422, "validation-error"),
    ({"allowed_types": ["teleporting"]}, 422, "unknown-activity-type"),
    ({"format": "collective"}, 400, "goal-required"),
    ({"organisation_id": 999999}, 404, "organisation-not-found"),
    ({"colour": "red"}, 422, "validation-error"),
])
def test_bad_challenge_input_gets_a_clear_problem(app: Flask, client: FlaskClient, cast: Cast,
                                                  over: dict[str, Any], status: int, code: str) -> None:
    resp = client.post("/api/v1/challenges", json=_body(cast, **over), headers=cast.headers(app, "admin"))
    assert resp.status_code == status, resp.json
    assert resp.mimetype == "application/problem+json" and resp.json["type"].endswith("/" + code)


def test_creating_needs_a_signed_in_user(client: FlaskClient, cast: Cast) -> None:
    assert client.post("/api/v1/challenges", json=_body(cast)).status_code == 401


def test_changing_the_zone_of_an_upcoming_challenge_keeps_its_wall_clock_times(app: Flask, client: FlaskClient,
                                                                              cast: Cast) -> None:
    headers = cast.headers(app, "organiser")
    created = client.post("/api/v1/challenges", json=_body(cast), headers=headers).json
    moved = client.patch(f"/api/v1/challenges/{created['id']}", json={"timezone": "Europe/Madrid"}, headers=headers)
    assert moved.status_code == 200
    assert moved.json["starts_at"] == "2030-05-01T00:00:00+02:00"
    assert moved.json["ends_at"] == "2030-06-01T00:00:00+02:00"


def test_a_retried_create_with_the_same_idempotency_key_stores_one_challenge(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    headers = {**cast.headers(app, "organiser"), "Idempotency-Key": "create-1"}
    first = client.post("/api/v1/challenges", json=_body(cast), headers=headers)
    retry = client.post("/api/v1/challenges", json=_body(cast), headers=headers)
    assert first.status_code == retry.status_code == 201 and first.json["id"] == retry.json["id"]
    from sqlalchemy import func, select

    assert session.scalar(select(func.count(Challenge.id))) == 1


def test_publishing_on_a_fresh_deployment_installs_the_badge_catalogue(app: Flask, client: FlaskClient,
                                                                        session: Any, cast: Cast) -> None:
    from sqlalchemy import func, select

    from scoring.badge_catalogue import BUILTIN
    from scoring.models import BadgeDefinition

    assert session.scalar(select(func.count(BadgeDefinition.id))) == 0
    headers = cast.headers(app, "organiser")
    created = client.post("/api/v1/challenges", json=_body(cast), headers=headers).json
    assert client.post(f"/api/v1/challenges/{created['id']}/publish", headers=headers).status_code == 200
    codes = set(session.scalars(select(BadgeDefinition.code)))
    assert codes == {b["code"] for b in BUILTIN}
