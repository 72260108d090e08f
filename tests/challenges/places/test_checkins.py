"""Check-ins: geofence (haversine), rotating QR tokens, once per location per local day, inside the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from challenges.models import CheckIn, Setting
from challenges.places import qr
from challenges.places.geo import haversine_m
from scoring.models import PointsEntry
from scoring.types import Metric
from tests.challenges.conftest import Cast
from tests.challenges.factories import enrol, make_challenge
from tests.factories import auth_headers

SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"
PARK = (61.4978, 23.7610)  # Tampere, Koskipuisto


def test_haversine_matches_known_distances() -> None:
    assert haversine_m(*PARK, *PARK) == 0
    # one degree of latitude is ~111.2 km on the mean sphere
    assert haversine_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-4)
    # Helsinki Cathedral -> Tampere Cathedral, ~ 161 km great-circle
    assert haversine_m(60.1704, 24.9522, 61.4967, 23.7700) == pytest.approx(161_000, rel=0.01)


def _loc(ident: int = 7, secret: str = "abc") -> Any:
    return SimpleNamespace(id=ident, qr_secret=secret)


@given(st.integers(min_value=1_600_000_000, max_value=2_200_000_000), st.integers(min_value=0, max_value=299))
def test_qr_token_is_valid_in_its_window_and_the_next_only(issued: int, skew: int) -> None:
    at = datetime.fromtimestamp(issued, UTC)
    token = qr.token_for(_loc(), at, SECRET, 300)
    start = datetime.fromtimestamp(issued - issued % 300, UTC)
    assert qr.verify(_loc(), token, start + timedelta(seconds=skew), SECRET, 300)
    assert qr.verify(_loc(), token, start + timedelta(seconds=300 + skew), SECRET, 300)
    assert not qr.verify(_loc(), token, start + timedelta(seconds=600 + skew), SECRET, 300)
    assert not qr.verify(_loc(), token, start - timedelta(seconds=1), SECRET, 300)


def test_qr_token_is_bound_to_its_location_secret_and_app_secret() -> None:
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    token = qr.token_for(_loc(), now, SECRET)
    assert not qr.verify(_loc(8), token, now, SECRET)
    assert not qr.verify(_loc(secret="rotated"), token, now, SECRET)
    assert not qr.verify(_loc(), token, now, "another-secret")
    assert not qr.verify(_loc(), token[:-1] + ("0" if token[-1] != "0" else "1"), now, SECRET)
    for junk in ("", "7", "7.x.y", "a.b.c", "7.1.2.3"):
        assert not qr.verify(_loc(), junk, now, SECRET)


@pytest.fixture
def park(session: Any, cast: Cast) -> SimpleNamespace:
    with time_machine.travel("2026-04-20T09:00:00Z"):
        challenge = make_challenge(session, cast.org, setting=Setting.PUBLIC_SPACE, metric=Metric.CHECKINS,
                                   starts_at=datetime(2026, 5, 1, tzinfo=UTC) - timedelta(hours=3),
                                   ends_at=datetime(2026, 6, 1, tzinfo=UTC) - timedelta(hours=3))
        enrol(session, challenge, cast.member)
    session.commit()
    return SimpleNamespace(challenge=challenge, url=f"/api/v1/challenges/{challenge.id}")


def _add_location(app: Flask, client: FlaskClient, cast: Cast, park: SimpleNamespace) -> dict[str, Any]:
    resp = client.post(f"{park.url}/locations", json={"name": "Koskipuisto gym", "lat": PARK[0], "lon": PARK[1],
                                                      "radius_m": 80}, headers=cast.headers(app, "organiser"))
    assert resp.status_code == 201, resp.json
    return resp.json


@pytest.mark.parametrize(("who", "status"), [("organiser", 201), ("admin", 201), ("member", 403),
                                             ("foreign_organiser", 403)])
def test_only_organisers_manage_locations(app: Flask, client: FlaskClient, cast: Cast, park: SimpleNamespace,
                                          who: str, status: int) -> None:
    with time_machine.travel("2026-05-10T09:00:00Z"):
        resp = client.post(f"{park.url}/locations", json={"name": "Spot", "lat": 61.5, "lon": 23.7},
                           headers=cast.headers(app, who))
    assert resp.status_code == status


def test_geofence_check_in_scores_once_per_local_day(app: Flask, client: FlaskClient, session: Any, cast: Cast,
                                                     park: SimpleNamespace) -> None:
    with time_machine.travel("2026-05-10T09:00:00Z"):
        location = _add_location(app, client, cast, park)
        headers = cast.headers(app, "member")
        near = {"location_id": location["id"], "lat": PARK[0] + 0.0004, "lon": PARK[1]}  # ~45 m north
        first = client.post(f"{park.url}/checkins", json=near, headers=headers)
        assert first.status_code == 201, first.json
        assert first.json["method"] == "geofence" and first.json["points"] == 1
        assert first.json["local_day"] == "2026-05-10"
        again = client.post(f"{park.url}/checkins", json=near, headers=headers)
        assert again.status_code == 409 and again.json["type"].endswith("/duplicate-checkin")
    # 23:30 in Helsinki on the 10th is still the same local day; 00:30 on the 11th is a new one
    with time_machine.travel("2026-05-10T20:30:00Z"):
        assert client.post(f"{park.url}/checkins", json=near, headers=cast.headers(app, "member")).status_code == 409
    with time_machine.travel("2026-05-10T21:30:00Z"):
        nxt = client.post(f"{park.url}/checkins", json=near, headers=cast.headers(app, "member"))
        assert nxt.status_code == 201 and nxt.json["local_day"] == "2026-05-11"
    assert session.scalar(select(func.count(CheckIn.id))) == 2
    with time_machine.travel("2026-05-10T21:31:00Z"):
        mine = client.get(f"{park.url}/checkins", headers=cast.headers(app, "member")).json["items"]
    assert [c["local_day"] for c in mine] == ["2026-05-11", "2026-05-10"]
    assert session.scalar(select(func.sum(PointsEntry.points)).where(
        PointsEntry.contest_id == park.challenge.id, PointsEntry.user_id == cast.member.id)) == 2


def test_geofence_refuses_a_check_in_outside_the_radius(app: Flask, client: FlaskClient, cast: Cast,
                                                        park: SimpleNamespace) -> None:
    with time_machine.travel("2026-05-10T09:00:00Z"):
        location = _add_location(app, client, cast, park)
        far = {"location_id": location["id"], "lat": PARK[0] + 0.0009, "lon": PARK[1]}  # ~100 m
        resp = client.post(f"{park.url}/checkins", json=far, headers=cast.headers(app, "member"))
    assert resp.status_code == 422 and resp.json["type"].endswith("/outside-geofence")
    assert 95 <= resp.json["distance_m"] <= 105


def test_the_screen_at_the_spot_gets_the_current_code_as_an_svg_qr(app: Flask, client: FlaskClient, cast: Cast,
                                                                   park: SimpleNamespace) -> None:
    import segno

    with time_machine.travel("2026-05-10T09:00:00Z", tick=False):
        location = _add_location(app, client, cast, park)
        url = f"{park.url}/locations/{location['id']}/qr"
        token = client.get(url, headers=cast.headers(app, "organiser")).json["token"]
        image = client.get(f"{url}.svg", headers=cast.headers(app, "organiser"))
        assert image.status_code == 200 and image.mimetype == "image/svg+xml"
        assert image.headers["Cache-Control"] == "no-store"
        assert image.headers["X-QR-Expires-At"].startswith("2026-05-10T09:05:00")
        svg = image.get_data(as_text=True)
        assert svg.startswith("<svg") and qr.svg_for(token) == svg
        assert qr.svg_for(token) != qr.svg_for(token + "x") and segno.make(token, error="m").version <= 4
        assert client.get(f"{url}.svg", headers=cast.headers(app, "member")).status_code == 403


def test_qr_check_in_accepts_the_current_and_previous_code_only(app: Flask, client: FlaskClient, cast: Cast,
                                                                park: SimpleNamespace) -> None:
    with time_machine.travel("2026-05-10T09:00:00Z", tick=False):
        location = _add_location(app, client, cast, park)
        code = client.get(f"{park.url}/locations/{location['id']}/qr", headers=cast.headers(app, "organiser"))
        assert code.status_code == 200 and code.json["window_seconds"] == 300
        token = code.json["token"]
        assert client.get(f"{park.url}/locations/{location['id']}/qr",
                          headers=cast.headers(app, "member")).status_code == 403
    with time_machine.travel("2026-05-10T09:10:01Z", tick=False):
        stale = client.post(f"{park.url}/checkins", json={"location_id": location["id"], "qr_token": token},
                            headers=cast.headers(app, "member"))
        assert stale.status_code == 422 and stale.json["type"].endswith("/invalid-qr-token")
    with time_machine.travel("2026-05-10T09:09:59Z", tick=False):
        ok = client.post(f"{park.url}/checkins", json={"location_id": location["id"], "qr_token": token},
                         headers=cast.headers(app, "member"))
        assert ok.status_code == 201 and ok.json["method"] == "qr"


def test_rotating_the_location_secret_voids_printed_codes(app: Flask, client: FlaskClient, cast: Cast,
                                                          park: SimpleNamespace) -> None:
    with time_machine.travel("2026-05-10T09:00:00Z", tick=False):
        location = _add_location(app, client, cast, park)
        lurl = f"{park.url}/locations/{location['id']}"
        token = client.get(f"{lurl}/qr", headers=cast.headers(app, "organiser")).json["token"]
        client.patch(lurl, json={"rotate_qr_secret": True}, headers=cast.headers(app, "organiser"))
        resp = client.post(f"{park.url}/checkins", json={"location_id": location["id"], "qr_token": token},
                           headers=cast.headers(app, "member"))
        assert resp.status_code == 422


@pytest.mark.parametrize("when", ["2026-04-30T12:00:00Z", "2026-06-01T12:00:00Z"])
def test_check_ins_outside_the_challenge_window_are_refused(app: Flask, client: FlaskClient, cast: Cast,
                                                            park: SimpleNamespace, when: str) -> None:
    with time_machine.travel("2026-05-10T09:00:00Z"):
        location = _add_location(app, client, cast, park)
    with time_machine.travel(when):
        resp = client.post(f"{park.url}/checkins", json={"location_id": location["id"], "lat": PARK[0],
                                                         "lon": PARK[1]}, headers=cast.headers(app, "member"))
    assert resp.status_code == 409 and resp.json["type"].endswith("/outside-window")


@pytest.mark.parametrize(("body", "status"), [
    ({"lat": 61.5, "lon": 23.7}, 422),
    ({"location_id": 1}, 422),
    ({"location_id": 1, "lat": 61.5}, 422),
    ({"location_id": 1, "lat": 61.5, "lon": 23.7, "qr_token": "x"}, 422),
    ({"location_id": 1, "lat": 91, "lon": 23.7}, 422),
    ({"location_id": 999999, "lat": 61.5, "lon": 23.7}, 404),
])
def test_bad_check_in_requests_get_clear_problems(app: Flask, client: FlaskClient, cast: Cast,
                                                  park: SimpleNamespace, body: dict[str, Any], status: int) -> None:
    with time_machine.travel("2026-05-10T09:00:00Z"):
        resp = client.post(f"{park.url}/checkins", json=body, headers=cast.headers(app, "member"))
    assert resp.status_code == status and resp.mimetype == "application/problem+json"


def test_only_participants_check_in(app: Flask, client: FlaskClient, cast: Cast, park: SimpleNamespace) -> None:
    with time_machine.travel("2026-05-10T09:00:00Z"):
        location = _add_location(app, client, cast, park)
        resp = client.post(f"{park.url}/checkins", json={"location_id": location["id"], "lat": PARK[0],
                                                         "lon": PARK[1]}, headers=auth_headers(app, cast.outsider))
    assert resp.status_code == 403 and resp.json["type"].endswith("/not-enrolled")


def test_fifth_distinct_location_earns_the_explorer_badge_once(app: Flask, client: FlaskClient, session: Any,
                                                               cast: Cast, park: SimpleNamespace) -> None:
    from scoring import badges

    badges.ensure_definitions(session)
    session.commit()
    with time_machine.travel("2026-05-10T09:00:00Z"):
        spots = [client.post(f"{park.url}/locations", json={"name": f"Spot {i}", "lat": 61.0 + i / 10, "lon": 23.0},
                             headers=cast.headers(app, "organiser")).json for i in range(6)]
        earned = [client.post(f"{park.url}/checkins", json={"location_id": s["id"], "lat": s["lat"], "lon": s["lon"]},
                              headers=cast.headers(app, "member")).json["badges"] for s in spots]
    assert earned == [[], [], [], [], ["explorer-5"], []]


def test_a_retried_check_in_with_the_same_idempotency_key_replays_the_first_answer(
        app: Flask, client: FlaskClient, session: Any, cast: Cast, park: SimpleNamespace) -> None:
    with time_machine.travel("2026-05-10T09:00:00Z"):
        location = _add_location(app, client, cast, park)
        body = {"location_id": location["id"], "lat": PARK[0], "lon": PARK[1]}
        headers = {**cast.headers(app, "member"), "Idempotency-Key": "tap-1"}
        first = client.post(f"{park.url}/checkins", json=body, headers=headers)
        retry = client.post(f"{park.url}/checkins", json=body, headers=headers)
    assert first.status_code == retry.status_code == 201 and first.json == retry.json
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert session.scalar(select(func.count(CheckIn.id))) == 1


def test_locations_and_my_check_ins_are_pages_and_each_check_in_names_its_location(
        app: Flask, client: FlaskClient, cast: Cast, park: SimpleNamespace) -> None:
    names = ["Koskipuisto gym", "Pyynikki stairs", "Hervanta track"]
    with time_machine.travel("2026-05-10T09:00:00Z"):
        spots = [client.post(f"{park.url}/locations", json={"name": n, "lat": 61.0 + i / 10, "lon": 23.0},
                             headers=cast.headers(app, "organiser")).json for i, n in enumerate(names)]
    for minute, spot in enumerate(spots):
        with time_machine.travel(f"2026-05-10T10:0{minute}:00Z"):
            assert client.post(f"{park.url}/checkins", json={"location_id": spot["id"], "lat": spot["lat"],
                                                             "lon": spot["lon"]},
                               headers=cast.headers(app, "member")).status_code == 201
    with time_machine.travel("2026-05-10T11:00:00Z"):
        headers = cast.headers(app, "member")
        first = client.get(f"{park.url}/locations?limit=2").json
        rest = client.get(f"{park.url}/locations?limit=2&cursor={first['next']}").json
        newest = client.get(f"{park.url}/checkins?limit=2", headers=headers).json
        oldest = client.get(f"{park.url}/checkins?limit=2&cursor={newest['next']}", headers=headers).json
        bad = client.get(f"{park.url}/checkins?cursor=not-ours", headers=headers)
    assert [p["name"] for p in first["items"]] == names[:2] and first["next"]
    assert [p["name"] for p in rest["items"]] == names[2:] and rest["next"] is None
    assert [(c["location_id"], c["location_name"]) for c in newest["items"] + oldest["items"]] == [
        (s["id"], s["name"]) for s in reversed(spots)]
    assert newest["next"] and oldest["next"] is None
    assert bad.status_code == 400 and bad.json["type"].endswith("/bad-cursor")
