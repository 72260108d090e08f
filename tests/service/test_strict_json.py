"""JSON bodies within the limits every consumer of them relies on: too deep, too long a number, NaN or infinity
is a 400 problem that names the limit, on every path that parses JSON (bodies, idempotent writes, cursors)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from challenges.activities.models import Activity
from service.strict_json import MAX_DEPTH, MAX_INT_DIGITS, loads
from tests.factories import auth_headers, make_user


def _walk(duration: str) -> str:
    return '{"type": "walking", "started_at": "2026-01-05T07:00:00+02:00", "duration_s": ' + duration + "}"


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _bad_json(resp: Any, *words: str) -> None:
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["type"].endswith("/bad-request") and body["status"] == 400
    assert "not valid JSON" in body["detail"] and all(word in body["detail"] for word in words), body["detail"]


@pytest.fixture
def signed_in(app: Flask, session: Any) -> dict[str, str]:
    user = make_user(session)
    session.commit()
    return auth_headers(app, user)


def _stored(session: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Activity)) or 0


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900, 5000])
def test_a_body_nested_deeper_than_the_limit_is_a_400_wherever_the_nesting_is(
        client: FlaskClient, session: Any, signed_in: dict[str, str], depth: int) -> None:
    register = '{"email": "deep@example.org", "password": "long enough", "display_name": ' + _nested(depth) + "}"
    _bad_json(client.post("/api/v1/auth/register", data=register, content_type="application/json"),
              f"more than {MAX_DEPTH} levels")
    batch = '{"format": "healthkit", "items": [{"sampleType": ' + _nested(depth) + "}]}"
    _bad_json(client.post("/api/v1/activities/batch", data=batch, content_type="application/json",
                          headers=signed_in), f"more than {MAX_DEPTH} levels")
    keyed = {**signed_in, "Idempotency-Key": "deep-1"}
    _bad_json(client.post("/api/v1/activities", data=_walk(_nested(depth)), content_type="application/json",
                          headers=keyed), f"more than {MAX_DEPTH} levels")
    assert _stored(session) == 0


@pytest.mark.parametrize("number", ["1" * 5000, "-" + "9" * 4000, "1" * (MAX_INT_DIGITS + 1)])
def test_an_integer_longer_than_any_column_is_a_400(client: FlaskClient, session: Any, signed_in: dict[str, str],
                                                    number: str) -> None:
    _bad_json(client.post("/api/v1/activities", data=_walk(number), content_type="application/json",
                          headers={**signed_in, "Idempotency-Key": "long-1"}), "digits")
    batch = '{"items": [{"source": "wearable", "external_id": "w", "type": "walking", "steps": ' + number + "}]}"
    _bad_json(client.post("/api/v1/activities/batch", data=batch, content_type="application/json",
                          headers=signed_in), "digits")
    assert _stored(session) == 0


@pytest.mark.parametrize(("value", "words"), [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "Infinity"),
                                              ("1e400", "out of range"), ("-1E+309", "out of range")])
def test_nan_infinity_and_numbers_beyond_a_float_are_400s(client: FlaskClient, session: Any,
                                                          signed_in: dict[str, str], value: str, words: str) -> None:
    item = ('{"source": "wearable", "external_id": "w-%s", "type": "walking", "started_at": '
            '"2026-01-05T07:00:00+02:00", "duration_s": 600, "distance_m": %s}')
    batch = '{"items": [' + item.replace("%s", "1", 1).replace("%s", "800") + ", " + (
        item.replace("%s", "2", 1).replace("%s", value)) + "]}"
    _bad_json(client.post("/api/v1/activities/batch", data=batch, content_type="application/json",
                          headers=signed_in), words)
    assert _stored(session) == 0


def test_a_cursor_holding_deep_json_is_a_400_not_a_500(client: FlaskClient, signed_in: dict[str, str]) -> None:
    cursor = base64.urlsafe_b64encode(_nested(5000).encode()).decode().rstrip("=")
    resp = client.get(f"/api/v1/activities?cursor={cursor}", headers=signed_in)
    assert resp.status_code == 400 and resp.get_json()["type"].endswith("/bad-cursor")


def test_bodies_within_the_limits_still_load(client: FlaskClient, signed_in: dict[str, str]) -> None:
    resp = client.post("/api/v1/activities", data=_walk("1800"), content_type="application/json",
                       headers=signed_in)
    assert resp.status_code == 201, resp.get_json()
    assert client.post("/api/v1/activities", data="", content_type="application/json",
                       headers=signed_in).status_code == 422  # an empty body is missing fields, as before


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**MAX_INT_DIGITS) + 1, 10**MAX_INT_DIGITS - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@given(value=json_values, wrap=st.integers(0, MAX_DEPTH + 3))
def test_json_within_the_limits_loads_as_json_loads_has_it_and_deeper_json_is_refused(value: Any, wrap: int) -> None:
    text = "[" * wrap + json.dumps(value) + "]" * wrap
    if _depth(value) + wrap <= MAX_DEPTH:
        assert loads(text.encode("utf-8", "surrogatepass")) == json.loads(text)
    else:
        with pytest.raises(json.JSONDecodeError, match="levels deep"):
            loads(text.encode("utf-8", "surrogatepass"))
