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

A second run sends the same generated requests with one value swapped for a hostile one that fits the schema's
type yet no database or computation here can take: JSON nested past ``service.strict_json``'s limit, integers of
25 and 4,000 digits, ``1e308``, unpaired surrogates and NUL in text, times at offsets PostgreSQL refuses or in
years that overflow, zones that are no place (``localtime``, ``Factory``). Every ``date-time`` the generator
makes may also be one of those times. Each answer must be a 4xx problem or a success, never a 5xx.

The run is bounded and reproducible (derandomised, no example database): a few examples per operation in
CI. ``VCC_FUZZ_EXAMPLES=200 pytest tests/e2e/test_api_schema_fuzz.py`` explores much more deeply.
"""

from __future__ import annotations

import functools
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
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
from service.strict_json import MAX_DEPTH
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


HOSTILE_TIMES = ("2026-01-05T07:00:00+23:59", "2026-01-05T07:00:00-23:59", "2026-01-05T07:00:00+16:00",
                 "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00")
HOSTILE_ZONES = ("localtime", "Factory", "posixrules", "right/UTC")
HOSTILE_TEXT = ("\ud800", "a\udfffb", "\x00", *HOSTILE_TIMES, *HOSTILE_ZONES)
HOSTILE_NUMBERS = (1e308, -1e308, 10**25, -(10**4000), 2**63)
DEEP: list[Any] = functools.reduce(lambda inner, _: [inner], range(MAX_DEPTH + 36), [])
HOSTILE_QUERY = (*HOSTILE_TIMES, *HOSTILE_ZONES, "1" * 5000, "1e308", "-1e308", "\x00")


def _schemathesis_date_times() -> st.SearchStrategy[str]:
    from schemathesis.specs.openapi.formats import get_default_format_strategies

    return st.one_of(get_default_format_strategies()["date-time"], st.sampled_from(HOSTILE_TIMES))


schemathesis.openapi.format("date-time", _schemathesis_date_times())
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


def _prepare(case: Any, world: World) -> dict[str, str] | None:
    """Path ids within range become the world's rows; the headers to send (None: as generated)."""
    for name, value in case.path_parameters.items():
        if name in world.ids and isinstance(value, int) and 0 <= value <= INT32_MAX:  # keep invalid ids
            case.path_parameters[name] = world.ids[name]
    # A case whose headers break the schema may have dropped the required Authorization on purpose: send it
    # as generated (then a 401 is the right answer) instead of adding our token back.
    components = case.meta.components if case.meta else {}
    bad_headers = any(location == "header" and info.mode.is_negative for location, info in components.items())
    return None if bad_headers else world.headers


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_answers_every_input_with_a_documented_response(case: Any, app: Flask, world: World) -> None:
    case.call_and_validate(app=app, headers=_prepare(case, world), checks=CHECKS)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value that holds a value (keys of objects, indexes of arrays)."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    found = []
    for key, inner in items:
        found.append((*prefix, key))
        found.extend(_paths(inner, (*prefix, key)))
    return found


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _swapped(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _swapped(value[path[0]], path[1:], new)
    return copy


def _hostile_like(key: Any, current: Any, *, form: bool) -> st.SearchStrategy[Any]:
    """A hostile value of the same JSON type (a zone where a zone goes), or deep nesting where anything goes. A
    form field cannot carry a surrogate at all (it must be encoded to be sent), so forms get the rest."""
    texts = [text for text in HOSTILE_TEXT if not form or text.isascii()]
    if key == "timezone":
        return st.sampled_from(HOSTILE_ZONES)
    if isinstance(current, str):
        return st.sampled_from(texts)
    if isinstance(current, int | float) and not isinstance(current, bool):
        return st.sampled_from(HOSTILE_NUMBERS)
    return st.sampled_from([DEEP, texts[0], HOSTILE_NUMBERS[0]])


def flatmap_body(ctx: Any, body: Any) -> st.SearchStrategy[Any]:
    form = any(not alternative.media_type.endswith("json") for alternative in ctx.operation.body)
    paths = _paths(body)
    if not paths:
        return st.sampled_from([body, DEEP]) if isinstance(body, dict | list) and not form else st.just(body)
    return st.sampled_from(paths).flatmap(lambda path: _hostile_like(path[-1], _at(body, path), form=form).map(
        lambda new: _swapped(body, path, new)))


def flatmap_query(ctx: Any, query: Any) -> st.SearchStrategy[Any]:
    if not query:
        return st.just(query)
    return st.tuples(st.sampled_from(sorted(query)), st.sampled_from(HOSTILE_QUERY)).map(
        lambda swap: {**query, swap[0]: swap[1]})


HOSTILE_CHECKS = [not_a_server_error, content_type_conformance, problem_json_for_client_errors]


@schema.hooks.apply(flatmap_query)
@schema.hooks.apply(flatmap_body)
@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_answers_hostile_values_of_every_field_with_a_4xx_or_a_success(case: Any, app: Flask,
                                                                          world: World) -> None:
    case.call_and_validate(app=app, headers=_prepare(case, world), checks=HOSTILE_CHECKS)
