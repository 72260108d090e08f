"""The caller's profile: read, change (validated), delete (a tombstone row; tokens and memberships gone).

What erasure does to the rest of the person's data is proved in tests/e2e/test_erasure.py."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.models import Membership, RefreshToken, Role, User
from service.users import user_deleted
from tests.factories import PASSWORD, auth_headers, make_org, make_user


def test_get_me_returns_profile(app: Flask, client: FlaskClient, session: Any) -> None:
    user = make_user(session, email="me@example.org", display_name="Mia")
    session.commit()
    body = client.get("/api/v1/me", headers=auth_headers(app, user)).get_json()
    assert body["email"] == "me@example.org" and body["display_name"] == "Mia"
    assert body["timezone"] == "Europe/Helsinki"


def test_me_requires_a_token(client: FlaskClient) -> None:
    resp = client.get("/api/v1/me")
    assert resp.status_code == 401
    assert resp.get_json()["type"].endswith("/unauthenticated")


def test_patch_me_changes_profile(app: Flask, client: FlaskClient, session: Any) -> None:
    user = make_user(session)
    session.commit()
    changes = {"display_name": " Maija ", "timezone": "America/New_York", "locale": "fi",
               "hide_from_leaderboards": True, "weight_kg": 71.5}
    resp = client.patch("/api/v1/me", json=changes, headers=auth_headers(app, user))
    assert resp.status_code == 200
    session.expire_all()
    stored = session.get(User, user.id)
    assert (stored.display_name, stored.timezone, stored.locale) == ("Maija", "America/New_York", "fi")
    assert stored.hide_from_leaderboards is True and stored.weight_kg == 71.5


@pytest.mark.parametrize(("changes", "field"), [
    ({"timezone": "Europe/Atlantis"}, "timezone"),
    ({"weight_kg": 5}, "weight_kg"),
    ({"email": "new@example.org"}, "email"),
    ({"is_superuser": True}, "is_superuser"),
])
def test_patch_me_rejects_bad_or_unknown_fields(app: Flask, client: FlaskClient, session: Any,
                                                changes: dict[str, Any], field: str) -> None:
    user = make_user(session)
    session.commit()
    resp = client.patch("/api/v1/me", json=changes, headers=auth_headers(app, user))
    assert resp.status_code == 422
    assert field in resp.get_json()["errors"]
    session.expire_all()
    assert session.get(User, user.id).is_superuser is False


def test_delete_me_leaves_a_tombstone_signs_out_and_frees_the_email(app: Flask, client: FlaskClient,
                                                                   session: Any) -> None:
    user = make_user(session, email="gone@example.org", alias="goner", show_full_name=True, weight_kg=70.0,
                     firebase_uid="fb-gone", timezone="Europe/Helsinki", locale="fi")
    org = make_org(session, members={user: Role.MEMBER})
    session.commit()
    tokens = client.post("/api/v1/auth/token", json={"grant_type": "password", "email": "gone@example.org",
                                                     "password": PASSWORD}).get_json()
    seen: list[int] = []

    def listener(sender: Any, user_id: int, **_: Any) -> None:
        seen.append(user_id)

    user_deleted.connect(listener)
    try:
        assert client.delete("/api/v1/me", headers=auth_headers(app, user)).status_code == 204
    finally:
        user_deleted.disconnect(listener)
    assert seen == [user.id]
    session.expire_all()
    stored = session.get(User, user.id)
    assert stored.deleted_at is not None and stored.created_at == stored.deleted_at
    assert (stored.email, stored.display_name, stored.alias, stored.show_full_name) == (
        f"deleted-{user.id}@deleted.invalid", "Deleted user", None, False)
    assert (stored.password_hash, stored.firebase_uid, stored.weight_kg) == (None, None, None)
    assert (stored.timezone, stored.locale, stored.health_data_consent_at, stored.health_data_consent_version) == (
        "UTC", "en", None, None)
    assert stored.hide_from_leaderboards is True and stored.is_superuser is False
    assert session.scalar(select(Membership).where(Membership.organisation_id == org.id)) is None
    assert session.scalars(select(RefreshToken)).all() == []
    assert client.get("/api/v1/me", headers=auth_headers(app, stored)).status_code == 401
    refreshed = client.post("/api/v1/auth/token", json={"grant_type": "refresh_token",
                                                        "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401
    again = client.post("/api/v1/auth/register", json={"email": "gone@example.org", "password": PASSWORD,
                                                        "display_name": "New"})
    assert again.status_code == 201 and again.get_json()["id"] != user.id


def test_a_locale_longer_than_its_column_is_422(app: Flask, client: FlaskClient, session: Any) -> None:
    """Found by schema fuzzing on PostgreSQL: a 20-character tag overflowed VARCHAR(16) (a 500)."""
    user = make_user(session)
    session.commit()
    resp = client.patch("/api/v1/me", headers=auth_headers(app, user), json={"locale": "sl-keJ8_qtoZ4lp-070"})
    assert resp.status_code == 422 and resp.json["errors"] == {"locale": ["A locale tag has at most 16 characters."]}
