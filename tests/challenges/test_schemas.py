"""Output schemas document what they send: hidden codes are sent as null, so they are nullable."""

from __future__ import annotations

from typing import Any

from flask import Flask

from challenges.models import ChallengeFormat
from challenges.participation.schemas import TeamSchema
from challenges.schemas import ChallengeSchema
from tests.challenges.factories import make_challenge, make_team
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
