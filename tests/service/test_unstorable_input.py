"""Input Python takes but the databases cannot store: unpaired surrogates in text, offsets beyond PostgreSQL's, time
zone names that are no place. Each is a 422 that names the field, or, for an offset, the instant in UTC; the same
on SQLite and PostgreSQL (the PostgreSQL tier runs these against a real server)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from challenges.activities.models import Activity
from service.clock import is_valid_timezone
from service.models import Organisation, User
from tests.factories import auth_headers, make_user


@pytest.fixture
def person(session: Any) -> User:
    user = make_user(session, display_name="Pat")
    session.commit()
    return user


def _problem(resp: Any, status: int = 422) -> dict[str, Any]:
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/problem+json"
    return resp.get_json()


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "\ude00\ud83d"])
def test_an_unpaired_surrogate_in_any_text_field_is_a_422_naming_it(app: Flask, client: FlaskClient, session: Any,
                                                                    person: User, text: str) -> None:
    headers = auth_headers(app, person)
    body = _problem(client.patch("/api/v1/me", headers=headers, json={"display_name": text}))
    assert list(body["errors"]) == ["display_name"] and "surrogate" in body["errors"]["display_name"][0]
    walk = {"type": "walking", "started_at": "2026-01-05T07:00:00+02:00", "duration_s": 600, "external_id": text}
    body = _problem(client.post("/api/v1/activities", headers=headers, json=walk))
    assert list(body["errors"]) == ["external_id"]
    register = {"email": f"x{text}@example.org", "password": "long enough pw", "display_name": "X"}
    assert list(_problem(client.post("/api/v1/auth/register", json=register))["errors"]) == ["email"]
    session.expire_all()
    assert session.get(User, person.id).display_name == "Pat"
    assert session.scalars(select(Activity)).all() == []


def test_a_surrogate_pair_is_one_character_beyond_the_bmp_and_is_kept(app: Flask, client: FlaskClient,
                                                                      person: User) -> None:
    resp = client.patch("/api/v1/me", headers=auth_headers(app, person), data='{"display_name": "Pat \\ud83d\\ude00"}',
                        content_type="application/json")
    assert resp.status_code == 200 and resp.get_json()["display_name"] == "Pat \U0001f600"


@pytest.mark.parametrize("offset", ["+23:59", "-23:59", "+16:00", "-18:30"])
def test_an_offset_python_reads_but_postgresql_refuses_is_stored_as_its_utc_instant(
        app: Flask, client: FlaskClient, session: Any, person: User, offset: str) -> None:
    """PostgreSQL takes offsets up to 15:59; Python's ``fromisoformat`` up to 23:59 (a DataError there, a 500)."""
    headers = auth_headers(app, person)
    local = "2026-01-05T07:00:00" + offset
    instant = datetime.fromisoformat(local).astimezone(UTC)
    resp = client.post("/api/v1/activities", headers=headers, json={"type": "walking", "started_at": local,
                                                                     "duration_s": 600})
    assert resp.status_code == 201, resp.get_json()
    stored = session.scalars(select(Activity)).one()
    assert stored.started_at.replace(tzinfo=stored.started_at.tzinfo or UTC) == instant
    listed = client.get("/api/v1/activities", headers=headers, query_string={"since": local})
    assert listed.status_code == 200 and [a["id"] for a in listed.get_json()["items"]] == [stored.id]


@pytest.mark.parametrize("name", ["localtime", "Factory", "posixrules", "posix/Europe/Paris", "right/UTC"])
def test_a_time_zone_that_is_no_place_is_a_422_for_people_organisations_and_challenges(
        app: Flask, client: FlaskClient, session: Any, person: User, name: str) -> None:
    """zoneinfo loads all of these: 'localtime' is the server's own zone, 'Factory' a placeholder."""
    headers = auth_headers(app, person)
    assert list(_problem(client.patch("/api/v1/me", headers=headers, json={"timezone": name}))["errors"]) == [
        "timezone"]
    org = _problem(client.post("/api/v1/organisations", headers=headers, json={
        "name": "Tz town", "kind": "municipality", "country": "FI", "timezone": name}))
    assert "timezone" in org["errors"] and "IANA" in org["errors"]["timezone"][0]
    session.expire_all()
    assert session.get(User, person.id).timezone == "Europe/Helsinki"
    assert session.scalars(select(Organisation).where(Organisation.name == "Tz town")).all() == []


@pytest.mark.parametrize("name", ["UTC", "Etc/GMT+5", "America/Argentina/Buenos_Aires", "Asia/Kathmandu"])
def test_every_iana_zone_is_still_a_time_zone(name: str) -> None:
    assert is_valid_timezone(name)
