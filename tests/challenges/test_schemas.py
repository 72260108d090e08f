"""Output schemas document what they send: hidden codes are sent as null, so they are nullable."""

from __future__ import annotations

from typing import Any

from flask import Flask

from challenges.models import ChallengeFormat
from challenges.schemas import ChallengeSchema, TeamSchema
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
    teams = client.get(f"/api/v1/challenges/{challenge.id}/teams", headers=member).json
    rows = teams["items"] if isinstance(teams, dict) else teams
    assert rows and all(team["code"] is None for team in rows)
    assert ChallengeSchema().dump(challenge)["invite_code"] is None
    assert TeamSchema().dump(team)["code"] is None
