"""JSON bodies must send the JSON types the document promises; query strings keep their text parsing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError, fields
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

from service.schemas import AwareDateTime, BaseSchema, PaginationArgsSchema
from tests.factories import auth_headers, make_user


class Sample(BaseSchema):
    flag = fields.Boolean()
    count = fields.Integer()
    ratio = fields.Float(allow_none=True)


@pytest.mark.parametrize(("body", "field"), [
    ({"flag": "yes"}, "flag"), ({"flag": 1}, "flag"), ({"count": 2.5}, "count"), ({"count": "3"}, "count"),
    ({"count": True}, "count"), ({"ratio": "0.5"}, "ratio"), ({"ratio": False}, "ratio"),
])
def test_a_json_value_of_the_wrong_type_is_refused(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        Sample().load(body)
    assert set(err.value.messages) == {field}


@given(flag=st.booleans(), count=st.integers(-10**9, 10**9), ratio=st.none() | st.floats(-1e9, 1e9))
def test_json_values_of_the_right_type_load_unchanged(flag: bool, count: int, ratio: float | None) -> None:
    assert Sample().load({"flag": flag, "count": count, "ratio": ratio}) == {"flag": flag, "count": count,
                                                                             "ratio": ratio}
    assert Sample().load({"count": float(count)}) == {"count": count}  # 3.0 is a JSON integer


def test_query_strings_are_still_parsed_from_text() -> None:
    args = MultiDictProxy(MultiDict({"limit": "20"}), PaginationArgsSchema())
    assert PaginationArgsSchema().load(args)["limit"] == 20


def test_the_api_refuses_a_string_for_a_boolean(app: Flask, client: FlaskClient, session: Any) -> None:
    """Found by schema fuzzing: ``"hide_from_leaderboards": "on"`` used to be stored as True."""
    user = make_user(session)
    session.commit()
    headers = auth_headers(app, user)
    resp = client.patch("/api/v1/me", headers=headers, json={"hide_from_leaderboards": "on"})
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert resp.json["errors"] == {"hide_from_leaderboards": ["Not a valid boolean: send true or false."]}
    assert client.get("/api/v1/me", headers=headers).json["hide_from_leaderboards"] is False
    assert client.get("/api/v1/organisations?limit=5", headers=headers).status_code == 200


def test_integers_without_a_declared_range_fit_a_32_bit_column() -> None:
    with pytest.raises(ValidationError) as err:
        Sample().load({"count": 2**31})
    assert "count" in err.value.messages
    assert Sample().load({"count": 2**31 - 1}) == {"count": 2**31 - 1}


def test_dates_outside_the_supported_years_are_refused() -> None:
    class When(BaseSchema):
        at = AwareDateTime()

    for text in ("0001-01-01T00:00:00+03:05", "9999-12-31T23:00:00-05:00"):
        with pytest.raises(ValidationError) as err:
            When().load({"at": text})
        assert err.value.messages == {"at": ["Dates must fall between 1900 and 8999."]}
    assert When().load({"at": "2026-06-01T09:00:00+03:00"})["at"].year == 2026


def test_out_of_range_ids_are_404_or_422_not_500(app: Flask, client: FlaskClient, session: Any) -> None:
    """Found by schema fuzzing: ``?organisation_id=2262709846487017171054`` overflowed the driver (500)."""
    user = make_user(session)
    session.commit()
    headers = auth_headers(app, user)
    assert client.get(f"/api/v1/organisations/{2**31}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/organisations/{10**22}", headers=headers).mimetype == "application/problem+json"
    resp = client.get(f"/api/v1/challenges?organisation_id={10**22}", headers=headers)
    assert resp.status_code == 422 and "organisation_id" in resp.json["errors"]


@pytest.mark.parametrize("body", [{"display_name": "A\x00B"}, {"display_name": "ok", "locale": "en\x00"}])
def test_nul_characters_are_422_on_every_database(app: Flask, client: FlaskClient, session: Any,
                                                  body: dict[str, Any]) -> None:
    """Found by schema fuzzing on PostgreSQL: text with U+0000 cannot be stored there (a DataError, a 500)."""
    user = make_user(session)
    session.commit()
    headers = auth_headers(app, user)
    resp = client.patch("/api/v1/me", headers=headers, json=body)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert set(resp.json["errors"]) == {k for k, v in body.items() if "\x00" in v}
    nameless = client.post("/api/v1/auth/token", json={"grant_type": "password", "email": "a\x00@b.org",
                                                       "password": "whatever long"})
    assert nameless.status_code == 422
    assert client.get("/api/v1/organisations?cursor=a%00b", headers=headers).status_code == 422


def test_a_literal_backslash_u0000_text_is_not_mistaken_for_nul(app: Flask, client: FlaskClient, session: Any) -> None:
    """The NUL check first searches the JSON-encoded body for the escape; text that merely spells it is kept."""
    user = make_user(session)
    session.commit()
    resp = client.patch("/api/v1/me", headers=auth_headers(app, user), json={"display_name": "a\\u0000b"})
    assert resp.status_code == 200 and resp.json["display_name"] == "a\\u0000b"


def test_a_time_zone_name_too_long_for_a_file_name_is_422(client: FlaskClient) -> None:
    """Found by schema fuzzing: ZoneInfo raised OSError (file name too long) for a 300-character name (a 500)."""
    from service.clock import is_valid_timezone

    assert is_valid_timezone("Europe/" + "x" * 300) is False
    resp = client.post("/api/v1/auth/register", json={"email": "tz@example.org", "password": "long enough pw",
                                                      "display_name": "Tz", "timezone": "Europe/" + "x" * 300})
    assert resp.status_code == 422 and set(resp.json["errors"]) == {"timezone"}


offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@given(at=st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(8998, 12, 31), timezones=offsets))
def test_an_instant_is_read_and_answered_in_utc_whatever_offset_it_came_with(at: datetime) -> None:
    class When(BaseSchema):
        at = AwareDateTime()

    loaded = When().load({"at": at.isoformat()})["at"]
    assert loaded == at and loaded.utcoffset() == timedelta(0)
    shown = When().dump({"at": at})["at"]
    assert shown.endswith("+00:00") and datetime.fromisoformat(shown) == at
