"""Registration, password login, refresh rotation with reuse detection, logout, login rate limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.clock import utcnow
from service.models import AuditNote, RefreshToken, User
from service.tokens import hash_token

PASSWORD = "long enough password"


def register(client: FlaskClient, email: str = "ana@example.org", **extra: Any) -> Any:
    body = {"email": email, "password": PASSWORD, "display_name": "Ana", "timezone": "Europe/Lisbon",
            "locale": "pt-PT", **extra}
    return client.post("/api/v1/auth/register", json=body)


def login(client: FlaskClient, email: str = "ana@example.org", password: str = PASSWORD) -> Any:
    return client.post("/api/v1/auth/token", json={"grant_type": "password", "email": email, "password": password})


def refresh(client: FlaskClient, token: str) -> Any:
    return client.post("/api/v1/auth/token", json={"grant_type": "refresh_token", "refresh_token": token})


def me(client: FlaskClient, access: str) -> Any:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"})


def test_register_creates_user_with_validated_profile(client: FlaskClient, session: Any) -> None:
    resp = register(client, email="  Ana@Example.org ")
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["email"] == "ana@example.org"
    assert body["timezone"] == "Europe/Lisbon" and body["locale"] == "pt-PT"
    assert "password" not in body and "password_hash" not in body
    user = session.scalar(select(User).where(User.email == "ana@example.org"))
    assert user is not None and user.password_hash.startswith("$argon2")


def test_register_duplicate_email_is_409(client: FlaskClient) -> None:
    register(client)
    resp = register(client, email="ANA@example.org")
    assert resp.status_code == 409
    assert resp.get_json()["type"].endswith("/email-taken")


@pytest.mark.parametrize(("field", "value"), [
    ("password", "short"),
    ("timezone", "Mars/Olympus_Mons"),
    ("email", "not-an-email"),
    ("locale", "!!"),
    ("display_name", ""),
])
def test_register_rejects_bad_fields_with_field_errors(client: FlaskClient, field: str, value: str) -> None:
    resp = register(client, **{field: value})
    assert resp.status_code == 422
    problem = resp.get_json()
    assert resp.mimetype == "application/problem+json"
    assert field in problem["errors"]
    assert field in problem["detail"]


def test_password_login_issues_access_and_refresh_tokens(client: FlaskClient, session: Any) -> None:
    register(client)
    resp = login(client)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 15 * 60
    assert me(client, body["access_token"]).get_json()["email"] == "ana@example.org"
    stored = session.scalars(select(RefreshToken)).all()
    assert [t.token_hash for t in stored] == [hash_token(body["refresh_token"])]
    assert body["refresh_token"] not in {t.token_hash for t in stored}


def test_wrong_password_and_unknown_email_get_the_same_401(client: FlaskClient, session: Any) -> None:
    register(client)
    wrong = login(client, password="wrong password!")
    unknown = login(client, email="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["detail"] == unknown.get_json()["detail"]
    assert wrong.get_json()["type"] == unknown.get_json()["type"]
    assert len(session.scalars(select(AuditNote).where(AuditNote.event == "login-refused")).all()) == 2


@pytest.mark.parametrize("body", [
    {"grant_type": "password", "email": "a@example.org"},
    {"grant_type": "refresh_token"},
    {"grant_type": "client_credentials"},
])
def test_token_request_missing_grant_fields_is_422(client: FlaskClient, body: dict[str, str]) -> None:
    assert client.post("/api/v1/auth/token", json=body).status_code == 422


def test_refresh_rotates_and_reuse_revokes_the_whole_family(client: FlaskClient, session: Any) -> None:
    register(client)
    first = login(client).get_json()
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200
    second_body = second.get_json()
    assert second_body["refresh_token"] != first["refresh_token"]
    assert me(client, second_body["access_token"]).status_code == 200
    third = refresh(client, second_body["refresh_token"]).get_json()

    reused = refresh(client, first["refresh_token"])  # a stolen copy of a used token comes back
    assert reused.status_code == 401
    assert reused.get_json()["type"].endswith("/refresh-token-reused")
    newest = refresh(client, third["refresh_token"])
    assert newest.status_code == 401
    tokens = session.scalars(select(RefreshToken)).all()
    assert len({t.family for t in tokens}) == 1
    assert all(t.revoked_at is not None for t in tokens)


def test_reuse_revokes_only_that_family(client: FlaskClient) -> None:
    register(client)
    phone = login(client).get_json()
    laptop = login(client).get_json()
    refresh(client, phone["refresh_token"])
    assert refresh(client, phone["refresh_token"]).status_code == 401
    assert refresh(client, laptop["refresh_token"]).status_code == 200


def test_logout_revokes_the_family(client: FlaskClient) -> None:
    register(client)
    first = login(client).get_json()
    rotated = refresh(client, first["refresh_token"]).get_json()
    resp = client.post("/api/v1/auth/logout", json={"refresh_token": first["refresh_token"]})
    assert resp.status_code == 204
    assert refresh(client, rotated["refresh_token"]).status_code == 401
    assert client.post("/api/v1/auth/logout", json={"refresh_token": "unknown"}).status_code == 204


def test_garbage_and_expired_refresh_tokens_are_401(client: FlaskClient) -> None:
    register(client)
    assert refresh(client, "garbage").status_code == 401
    token = login(client).get_json()["refresh_token"]
    with time_machine.travel(utcnow() + timedelta(days=31)):
        assert refresh(client, token).status_code == 401


def test_access_token_expires(client: FlaskClient) -> None:
    register(client)
    access = login(client).get_json()["access_token"]
    with time_machine.travel(utcnow() + timedelta(minutes=20)):
        resp = me(client, access)
    assert resp.status_code == 401
    assert resp.get_json()["type"].endswith("/token-expired")


@pytest.mark.parametrize("header", ["Bearer", "Basic abc", "Bearer not.a.jwt", "Bearer abc"])
def test_malformed_authorization_is_401(client: FlaskClient, header: str) -> None:
    resp = client.get("/api/v1/me", headers={"Authorization": header})
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"


def test_deleted_user_cannot_log_in_or_refresh(client: FlaskClient) -> None:
    register(client)
    tokens = login(client).get_json()
    assert client.delete("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
                         ).status_code == 204
    assert login(client).status_code == 401
    assert refresh(client, tokens["refresh_token"]).status_code == 401
    assert me(client, tokens["access_token"]).status_code == 401


def test_login_is_rate_limited_with_problem_and_retry_after(side_app: Callable[..., Flask]) -> None:
    limited = side_app(RATELIMIT_ENABLED="true", LOGIN_RATELIMIT="3 per minute")
    client = limited.test_client()
    statuses = [login(client, email="x@example.org").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    resp = login(client, email="x@example.org")
    assert resp.status_code == 429
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["type"].endswith("/rate-limited")
    assert 0 < int(resp.headers["Retry-After"]) <= 60


def test_forged_forwarded_for_does_not_escape_the_login_limit(side_app: Callable[..., Flask]) -> None:
    limited = side_app(RATELIMIT_ENABLED="true", LOGIN_RATELIMIT="2 per minute")
    client = limited.test_client()
    statuses = [client.post("/api/v1/auth/token", headers={"X-Forwarded-For": f"10.0.0.{i}"},
                            json={"grant_type": "password", "email": "x@example.org", "password": "guess-" + str(i)}
                            ).status_code for i in range(3)]
    assert statuses == [401, 401, 429]


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(side_app: Callable[..., Flask]) -> None:
    limited = side_app(RATELIMIT_ENABLED="true", LOGIN_RATELIMIT="2 per minute", TRUSTED_PROXIES="1")
    client = limited.test_client()

    def attempt(ip: str) -> int:
        return int(client.post("/api/v1/auth/token", headers={"X-Forwarded-For": ip},
                               json={"grant_type": "password", "email": "x@example.org", "password": "guess"}
                               ).status_code)

    assert [attempt("10.0.0.1") for _ in range(3)] == [401, 401, 429]
    assert attempt("10.0.0.2") == 401
