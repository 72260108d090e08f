"""The OpenAPI document tells the truth about errors and optional bodies (found by the schema fuzz test)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.errors import PROBLEM_MIME
from tests.factories import auth_headers, make_user


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict[str, Any]:
    return app.test_client().get("/api/openapi.json").get_json()


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = spec["components"][section][name]
    return node


def test_error_responses_are_documented_as_the_problem_json_we_send(spec: dict[str, Any],
                                                                    client: FlaskClient) -> None:
    for op in (spec["paths"]["/api/v1/activities"]["post"], spec["paths"]["/api/v1/me"]["get"]):
        for status in ("422", "default"):
            if status in op["responses"]:
                assert set(_resolve(spec, op["responses"][status])["content"]) == {PROBLEM_MIME}
    resp = client.post("/api/v1/auth/register", json={})
    assert resp.status_code == 422 and resp.mimetype == PROBLEM_MIME


def test_problem_schema_allows_extension_members(spec: dict[str, Any]) -> None:
    """RFC 9457 problems carry extension members (a 409 on approve sends ``statuses``)."""
    assert spec["components"]["schemas"]["Problem"]["additionalProperties"] is True


def test_a_body_with_no_required_field_is_documented_as_optional(spec: dict[str, Any], app: Flask,
                                                                 client: FlaskClient, session: Any) -> None:
    assert spec["paths"]["/api/v1/me"]["patch"]["requestBody"]["required"] is False
    assert spec["paths"]["/api/v1/activities"]["post"]["requestBody"]["required"] is True
    user = make_user(session)
    session.commit()
    headers = auth_headers(app, user)
    resp = client.patch("/api/v1/me", headers=headers)  # no body at all: a no-op update, as documented
    assert resp.status_code == 200 and resp.json["id"] == user.id
