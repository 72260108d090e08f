"""Every class of bad input is a 4xx application/problem+json; an unexpected error is a 500 without internals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient

from service.errors import PROBLEM_BASE
from tests.factories import auth_headers, make_user


def assert_problem(resp: Any, status: int, type_slug: str) -> dict[str, Any]:
    assert resp.status_code == status
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["type"] == PROBLEM_BASE + type_slug
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["request_id"] == resp.headers["X-Request-ID"]
    return body


def test_malformed_json_is_400(client: FlaskClient) -> None:
    resp = client.post("/api/v1/auth/register", data='{"email": "a@b.c", ', content_type="application/json")
    body = assert_problem(resp, 400, "bad-request")
    assert "JSON" in body["detail"]


def test_wrong_content_type_is_415(client: FlaskClient) -> None:
    resp = client.post("/api/v1/auth/register", data="email=a@b.c", content_type="application/x-www-form-urlencoded")
    body = assert_problem(resp, 415, "unsupported-media-type")
    assert "application/json" in body["detail"]


def test_oversized_body_is_413(side_app: Callable[..., Flask]) -> None:
    small = side_app(MAX_CONTENT_LENGTH="200")
    resp = small.test_client().post("/api/v1/auth/register", json={"email": "a@b.c", "display_name": "x" * 500,
                                                                   "password": "long enough"})
    assert_problem(resp, 413, "too-large")


def test_unknown_field_is_422_with_field_errors(client: FlaskClient) -> None:
    resp = client.post("/api/v1/auth/register", json={"email": "a@example.org", "password": "long enough",
                                                      "display_name": "A", "is_superuser": True})
    body = assert_problem(resp, 422, "validation-error")
    assert body["errors"] == {"is_superuser": ["Unknown field."]}
    assert "is_superuser" in body["detail"]


def test_bad_time_zone_is_422(client: FlaskClient) -> None:
    resp = client.post("/api/v1/auth/register", json={"email": "a@example.org", "password": "long enough",
                                                      "display_name": "A", "timezone": "Europe/Gotham"})
    body = assert_problem(resp, 422, "validation-error")
    assert "Europe/Gotham" in body["errors"]["timezone"][0]


def test_wrong_json_type_is_422(client: FlaskClient) -> None:
    resp = client.post("/api/v1/auth/register", json=["not", "an", "object"])
    assert_problem(resp, 422, "validation-error")


def test_unknown_url_is_404(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/no-such-thing"), 404, "not-found")


def test_wrong_method_is_405_with_allow(client: FlaskClient) -> None:
    resp = client.put("/api/v1/auth/token", json={})
    assert_problem(resp, 405, "method-not-allowed")
    assert "POST" in resp.headers["Allow"]


def test_bad_query_argument_is_422(app: Flask, client: FlaskClient, session: Any) -> None:
    user = make_user(session)
    session.commit()
    resp = client.get("/api/v1/organisations?limit=0", headers=auth_headers(app, user))
    body = assert_problem(resp, 422, "validation-error")
    assert "limit" in body["errors"]


def test_unexpected_exception_is_500_without_internals(side_app: Callable[..., Flask],
                                                       caplog: pytest.LogCaptureFixture) -> None:
    broken = side_app()
    bp = Blueprint("boom", __name__)

    @bp.get("/t/boom")
    def boom() -> Any:
        raise RuntimeError("secret internal detail /etc/passwd")

    broken.register_blueprint(bp)
    with caplog.at_level(logging.ERROR, logger="service.errors"):
        resp = broken.test_client().get("/t/boom")
    body = assert_problem(resp, 500, "internal-error")
    text = resp.get_data(as_text=True)
    assert "secret internal detail" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert any("secret internal detail" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    assert body["detail"].startswith("Something went wrong")


def test_database_outage_is_503(side_app: Callable[..., Flask], tmp_path: Any) -> None:
    empty = side_app(DATABASE_URL=f"sqlite:///{tmp_path}/empty.sqlite3")
    resp = empty.test_client().post("/api/v1/auth/token", json={"grant_type": "password", "email": "a@b.c",
                                                                 "password": "whatever1"})
    assert_problem(resp, 503, "database-unavailable")


def test_our_handler_replaces_flask_smorest_error_handler(app: Flask) -> None:
    from werkzeug.exceptions import HTTPException

    from service import errors

    handler = app.error_handler_spec[None][None][HTTPException]
    assert handler is errors.handle_http


def test_form_fields_with_unreadable_names_are_422_not_500(app: Flask, client: FlaskClient, session: Any) -> None:
    """Found by schema fuzzing: form fields named "" and a newline made marshmallow key errors by None and
    "", and the sorted JSON encoder crashed on the mixed keys (a 500 from the error handler itself)."""
    import io

    user = make_user(session)
    session.commit()
    resp = client.post("/api/v1/activities/import", headers=auth_headers(app, user), content_type="multipart/form-data",
                       data={"": "null", "\n": "null", "file": (io.BytesIO(b"<gpx/>"), "ride.gpx")})
    body = assert_problem(resp, 422, "validation-error")
    assert all(isinstance(key, str) for key in body["errors"])


def test_validation_errors_keyed_by_index_and_none_become_string_keys(app: Flask) -> None:
    from marshmallow import ValidationError

    from service.errors import handle_validation

    with app.test_request_context("/api/v1/activities/batch"):
        resp = handle_validation(ValidationError({0: {"type": ["Missing."]}, "items": ["Bad."], None: ["Odd."]}))
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"0": {"type": ["Missing."]}, "items": ["Bad."], "_schema": ["Odd."]}


@pytest.mark.parametrize("query", ["limt=5", "=0", "limit=5&colour=red"])
def test_unknown_query_parameters_are_422(app: Flask, client: FlaskClient, session: Any, query: str) -> None:
    """Found by schema fuzzing: webargs silently dropped unknown query parameters (a typo went unnoticed)."""
    user = make_user(session)
    session.commit()
    resp = client.get(f"/api/v1/organisations?{query}", headers=auth_headers(app, user))
    body = assert_problem(resp, 422, "validation-error")
    assert list(body["errors"].values()) == [["Unknown field."]]
    assert client.get("/api/v1/organisations?limit=5", headers=auth_headers(app, user)).status_code == 200
