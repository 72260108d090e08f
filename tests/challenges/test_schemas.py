"""Output schemas document what they send (hidden codes are sent as null, so they are nullable); input schemas
keep every number and zone within what the service can compute with."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from challenges.models import Challenge, ChallengeFormat
from challenges.participation.schemas import TeamSchema
from challenges.schemas import ChallengeSchema
from tests.challenges.factories import challenge_body, make_challenge, make_team
from tests.factories import auth_headers


def test_hidden_invite_and_team_codes_are_documented_as_nullable(app: Flask) -> None:
    spec = app.test_client().get("/api/openapi.json").get_json()["components"]["schemas"]
    assert spec["Challenge"]["properties"]["invite_code"]["nullable"] is True
    assert spec["Team"]["properties"]["code"]["nullable"] is True


def test_a_member_gets_null_codes(app: Flask, client: Any, session: Any, cast: Any) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    team = make_team(session, challenge, cast.organiser)
    session.commit()
    member = auth_headers(app, cast.member)
    assert client.get(f"/api/v1/challenges/{challenge.id}", headers=member).json["invite_code"] is None
    rows = client.get(f"/api/v1/challenges/{challenge.id}/teams", headers=member).json["items"]
    assert rows and all(team["code"] is None for team in rows)
    assert ChallengeSchema().dump(challenge)["invite_code"] is None
    assert TeamSchema().dump(team)["code"] is None


def test_a_challenge_dated_in_year_one_is_422_not_500(app: Flask, client: Any, session: Any, cast: Any) -> None:
    """Found by schema fuzzing: starts_at 0001-01-01T00:00:00+03:05 overflowed the UTC conversion (500)."""
    resp = client.post("/api/v1/challenges", headers=auth_headers(app, cast.organiser), json={
        "organisation_id": cast.org.id, "title": "Ancient", "setting": "sportsclub", "metric": "checkins",
        "format": "team", "starts_at": "0001-01-01T00:00:00+03:05", "ends_at": "0003-01-01T00:00:00Z"})
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert set(resp.json["errors"]) == {"starts_at", "ends_at"}


@pytest.mark.parametrize(("field", "value"), [("daily_cap", 1e308), ("goal", 1e308), ("daily_cap", 2e6),
                                              ("goal", 5e12), ("timezone", "localtime"), ("timezone", "Factory")])
def test_absurd_numbers_and_zones_that_are_no_place_are_422_naming_the_field(
        app: Flask, client: Any, session: Any, cast: Any, field: str, value: Any) -> None:
    headers = auth_headers(app, cast.organiser)
    resp = client.post("/api/v1/challenges", headers=headers, json=challenge_body(cast.org.id, **{field: value}))
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json", resp.json
    assert list(resp.json["errors"]) == [field]
    challenge = make_challenge(session, cast.org)
    session.commit()
    resp = client.patch(f"/api/v1/challenges/{challenge.id}", headers=headers, json={field: value})
    assert resp.status_code == 422 and list(resp.json["errors"]) == [field]
    session.expire_all()
    assert getattr(session.get(Challenge, challenge.id), field) != value


def test_a_daily_cap_and_goal_in_range_are_kept(app: Flask, client: Any, cast: Any) -> None:
    resp = client.post("/api/v1/challenges", headers=auth_headers(app, cast.organiser),
                       json=challenge_body(cast.org.id, metric="distance_m", daily_cap=150_000, goal=2.3e11))
    assert resp.status_code == 201 and (resp.json["daily_cap"], resp.json["goal"]) == (150_000, 2.3e11)
