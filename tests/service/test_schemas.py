"""JSON bodies must send the JSON types the document promises; query strings keep their text parsing."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import ValidationError, fields
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

from service.schemas import BaseSchema, PaginationArgsSchema
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
