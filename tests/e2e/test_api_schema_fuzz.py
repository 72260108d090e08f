"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis, in-process WSGI).

Every operation is called with generated valid and invalid input by a signed-in admin of an organisation
that runs a published team challenge (with a team, a location, an activity, a badge, an invitation, a
device and an announcement). Generated path ids within range are replaced by those rows' ids, so requests
reach the domain code rather than stopping at a 404; invalid ids (negative, beyond int32, text) are sent as
generated. Each response must:

- never be a 5xx (``not_a_server_error``): every bad input is the caller's problem, told as a 4xx;
- have a documented status, content type, headers and body schema;
- be ``application/problem+json`` whenever it is a 4xx (DESIGN.md, API conventions);
- reject input that breaks the schema (``negative_data_rejection``).

The run is bounded and reproducible (derandomised, no example database): a few examples per operation in
CI. ``VCC_FUZZ_EXAMPLES=200 pytest tests/e2e/test_api_schema_fuzz.py`` explores much more deeply.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.errors import PROBLEM_MIME
from service.models import Role
from service.schemas import INT32_MAX
from tests.challenges.factories import enrol, make_challenge, make_team
from tests.factories import auth_headers, make_org, quick_user

MAX_EXAMPLES = int(os.environ.get("VCC_FUZZ_EXAMPLES", "6"))


def _openapi_document() -> dict[str, Any]:
    """The document as the app serves it; building it touches no database."""
    from service.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        spec_app = create_app({"DATABASE_URL": "sqlite://", "VCC_INSTANCE_PATH": tmp, "LOG_LEVEL": "WARNING",
                               "SECRET_KEY": "openapi-document-only-0123456789-0123456789", "TESTING": True})
        return spec_app.test_client().get("/api/openapi.json").get_json()


schema = schemathesis.openapi.from_dict(_openapi_document())


@dataclass
class World:
    """Ids of the rows the signed-in admin can reach; path parameters are drawn from here."""

    headers: dict[str, str]
    ids: dict[str, Any] = field(default_factory=dict)


def _created(resp: Any) -> dict[str, Any]:
    assert resp.status_code in (200, 201), (resp.status_code, resp.get_data(as_text=True))
    return resp.get_json()


@pytest.fixture
def world(app: Flask) -> World:
    """Seeded in its own app context, closed before the fuzzing starts (requests must not share its ``g``)."""
    from challenges.models import ChallengeFormat
    from scoring import badges
    from service.db import db

    with app.app_context():
        session = db.session
        admin, member = quick_user(session), quick_user(session)
        org = make_org(session, members={admin: Role.ADMIN, member: Role.MEMBER})
        challenge = make_challenge(session, org, format=ChallengeFormat.TEAM, goal=300)
        team = make_team(session, challenge, admin, name="North")
        enrol(session, challenge, admin, team_code=team.code)
        badges.ensure_definitions(session)
        session.commit()
        ids: dict[str, Any] = {"organisation_id": org.id, "challenge_id": challenge.id, "user_id": member.id}
        starts_at = challenge.starts_at.isoformat()
        headers = auth_headers(app, admin)
        session.remove()

    client = app.test_client()
    base = f"/api/v1/challenges/{ids['challenge_id']}"
    ids["location_id"] = _created(client.post(f"{base}/locations", headers=headers,
                                              json={"name": "Spot", "lat": 61.5, "lon": 23.76}))["id"]
    activity = _created(client.post("/api/v1/activities", headers=headers, json={
        "type": "walking", "started_at": starts_at, "duration_s": 1800}))
    ids["activity_id"] = activity["id"]
    org_url = f"/api/v1/organisations/{ids['organisation_id']}"
    invitation = _created(client.post(f"{org_url}/invitations", headers=headers, json={}))
    ids["invitation_id"], ids["code"] = invitation["id"], invitation["code"]
    ids["device_id"] = _created(client.post("/api/v1/me/devices", headers=headers,
                                            json={"token": "t" * 40, "platform": "android"}))["id"]
    _created(client.post(f"{base}/announcements", headers=headers, json={"title": "Hi", "body": "Move!"}))
    inbox = _created(client.get("/api/v1/me/notifications", headers=headers))["items"]
    ids["notification_id"] = inbox[0]["id"] if inbox else 1
    awards = _created(client.get("/api/v1/me/badges", headers=headers))
    items = awards["items"] if isinstance(awards, dict) else awards
    ids["award_id"] = items[0]["id"] if items else 1
    return World(headers=headers, ids=ids)


def problem_json_for_client_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx is RFC 9457 problem+json with the status repeated in the body."""
    if 400 <= response.status_code < 500:
        values = [v for k, v in response.headers.items() if k.lower() == "content-type"] or [[""]]
        content_type = values[0][0] if isinstance(values[0], list) else values[0]
        assert content_type.split(";")[0].strip() == PROBLEM_MIME, (
            f"{response.status_code} answered with {content_type!r}, not {PROBLEM_MIME}")
        body = response.json()
        assert body.get("status") == response.status_code and body.get("type") and body.get("detail"), body
    return None


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection, problem_json_for_client_errors]


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_answers_every_input_with_a_documented_response(case: Any, app: Flask, world: World) -> None:
    for name, value in case.path_parameters.items():
        if name in world.ids and isinstance(value, int) and 0 <= value <= INT32_MAX:  # keep invalid ids
            case.path_parameters[name] = world.ids[name]
    # A case whose headers break the schema may have dropped the required Authorization on purpose: send it
    # as generated (then a 401 is the right answer) instead of adding our token back.
    components = case.meta.components if case.meta else {}
    bad_headers = any(location == "header" and info.mode.is_negative for location, info in components.items())
    case.call_and_validate(app=app, headers=None if bad_headers else world.headers, checks=CHECKS)
