"""A challenge's own plausibility limits: validated at the edge, locked once running, and an activity that
breaks them (but not the deployment's) is flagged in that challenge only, until an organiser approves it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from challenges.activities.models import ActivityEntry, ActivityKind, EntryStatus
from challenges.activities.plausibility import challenge_flags
from challenges.limits import challenge_limits
from challenges.models import Challenge
from service.clock import utcnow
from service.db import db
from tests.challenges.activity_helpers import World, ago, iso, make_world, points, post
from tests.challenges.conftest import Cast
from tests.challenges.factories import challenge_body, enrol, make_challenge

SCHOOL = {"steps_flag_per_day": 30_000, "max_duration_s": 14_400, "max_speed_kmh": {"running": 18}}


def _body(cast: Cast, **over: Any) -> dict[str, Any]:
    return challenge_body(cast.org.id, **{"title": "School run", "setting": "school", **over})


def _entries(session: Any, activity_id: int) -> dict[int, ActivityEntry]:
    session.expire_all()
    return {e.challenge_id: e for e in session.scalars(
        select(ActivityEntry).where(ActivityEntry.activity_id == activity_id))}


def _second_challenge(session: Any, w: World, **values: Any) -> Challenge:
    """Another running challenge of the same organisation, every participant of ``w`` enrolled."""
    other = make_challenge(session, w.org, creator=w.organiser, **values)
    for user in w.users:
        enrol(session, other, user)
    session.commit()
    return other


def _run(start: datetime, kmh: float, minutes: int = 30, **extra: Any) -> dict[str, Any]:
    return {"type": "running", "started_at": iso(start), "duration_s": minutes * 60,
            "distance_m": kmh * 1000 * minutes / 60, **extra}


# -- the setting: validated, stored, shown, locked --------------------------------------------------------

def test_an_organiser_sets_limits_on_a_draft_and_everyone_sees_them(app: Flask, client: FlaskClient,
                                                                    cast: Cast) -> None:
    resp = client.post("/api/v1/challenges", json=_body(cast, plausibility=SCHOOL),
                       headers=cast.headers(app, "organiser"))
    assert resp.status_code == 201, resp.json
    assert resp.json["plausibility"] == {"steps_flag_per_day": 30_000, "max_duration_s": 14_400,
                                         "max_speed_kmh": {"running": 18.0}}
    cid = resp.json["id"]
    edited = client.patch(f"/api/v1/challenges/{cid}", json={"plausibility": {"max_speed_kmh": {"cycling": 30}}},
                          headers=cast.headers(app, "organiser"))
    assert edited.status_code == 200, edited.json
    assert edited.json["plausibility"] == {"max_speed_kmh": {"cycling": 30.0}}
    assert db.session.get(Challenge, cid).plausibility == {"max_speed_kmh": {"cycling": 30.0}}
    client.post(f"/api/v1/challenges/{cid}/publish", headers=cast.headers(app, "organiser"))
    shown = client.get(f"/api/v1/challenges/{cid}", headers=cast.headers(app, "member"))
    assert shown.json["plausibility"] == {"max_speed_kmh": {"cycling": 30.0}}
    cleared = client.patch(f"/api/v1/challenges/{cid}", json={"plausibility": {}},
                           headers=cast.headers(app, "organiser"))
    assert cleared.status_code == 200 and cleared.json["plausibility"] is None


def test_a_challenge_without_limits_shows_null(app: Flask, client: FlaskClient, cast: Cast) -> None:
    resp = client.post("/api/v1/challenges", json=_body(cast), headers=cast.headers(app, "organiser"))
    assert resp.status_code == 201 and resp.json["plausibility"] is None


@pytest.mark.parametrize(("plausibility", "path", "message"), [
    ({"max_cadence": 200}, "plausibility.max_cadence", "Unknown field"),
    ({"max_speed_kmh": {"teleporting": 10}}, "plausibility.max_speed_kmh.teleporting", "Unknown activity type"),
    ({"max_speed_kmh": {"checkin": 10}}, "plausibility.max_speed_kmh.checkin", "Unknown activity type"),
    ({"max_speed_kmh": {"yoga": 10}}, "plausibility.max_speed_kmh.yoga", "no distance"),
    ({"max_speed_kmh": {"running": 0}}, "plausibility.max_speed_kmh.running", "between 1 and 150"),
    ({"max_speed_kmh": {"running": 400}}, "plausibility.max_speed_kmh.running", "between 1 and 150"),
    ({"max_speed_kmh": {"running": "18"}}, "plausibility.max_speed_kmh.running", "Not a valid number"),
    ({"max_speed_kmh": {"running": True}}, "plausibility.max_speed_kmh.running", "Not a valid number"),
    ({"max_speed_kmh": [18]}, "plausibility.max_speed_kmh", "Not an object"),
    ({"steps_flag_per_day": 10}, "plausibility.steps_flag_per_day", "1000"),
    ({"steps_flag_per_day": 500_000}, "plausibility.steps_flag_per_day", "100000"),
    ({"steps_flag_per_day": 30_000.5}, "plausibility.steps_flag_per_day", "integer"),
    ({"max_duration_s": 60}, "plausibility.max_duration_s", "600"),
    ({"max_duration_s": 200_000}, "plausibility.max_duration_s", "86400"),
    ("strict", "plausibility._schema", "Not an object"),
])
def test_bad_limits_are_a_clear_422(app: Flask, client: FlaskClient, cast: Cast, plausibility: Any, path: str,
                                    message: str) -> None:
    resp = client.post("/api/v1/challenges", json=_body(cast, plausibility=plausibility),
                       headers=cast.headers(app, "organiser"))
    assert resp.status_code == 422, resp.json
    assert resp.mimetype == "application/problem+json" and resp.json["type"].endswith("/validation-error")
    assert resp.json["detail"].startswith(path + ":") and message in resp.json["detail"], resp.json["detail"]


def test_limits_are_locked_once_the_challenge_runs(app: Flask, client: FlaskClient, session: Any,
                                                   cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, plausibility=SCHOOL)
    session.commit()
    url = f"/api/v1/challenges/{challenge.id}"
    for change in ({"max_speed_kmh": {"running": 25}}, None, {}):
        resp = client.patch(url, json={"plausibility": change}, headers=cast.headers(app, "organiser"))
        assert resp.status_code == 409, resp.json
        assert resp.json["type"].endswith("/rules-locked") and resp.json["fields"] == ["plausibility"]
    same = client.patch(url, json={"plausibility": SCHOOL, "title": "Renamed"}, headers=cast.headers(app, "organiser"))
    assert same.status_code == 200 and same.json["title"] == "Renamed"
    session.expire_all()
    assert session.get(Challenge, challenge.id).plausibility["max_speed_kmh"] == {"running": 18.0}


def test_an_upcoming_challenge_may_still_change_its_limits(app: Flask, client: FlaskClient, session: Any,
                                                           cast: Cast) -> None:
    now = utcnow()
    challenge = make_challenge(session, cast.org, starts_at=now + timedelta(days=3), ends_at=now + timedelta(days=9))
    session.commit()
    resp = client.patch(f"/api/v1/challenges/{challenge.id}", json={"plausibility": SCHOOL},
                        headers=cast.headers(app, "organiser"))
    assert resp.status_code == 200 and resp.json["plausibility"]["steps_flag_per_day"] == 30_000


# -- the effect: flagged in that challenge only ------------------------------------------------------------

def test_a_run_over_the_challenge_limit_is_flagged_there_and_counted_elsewhere(app: Flask, client: FlaskClient,
                                                                               session: Any) -> None:
    w = make_world(app, session, plausibility=SCHOOL)
    other = _second_challenge(session, w)
    pat = w.users[0]
    resp = post(client, w, pat, _run(ago(hours=3), kmh=20))  # under running's 25 km/h ceiling, over 18
    assert resp.status_code == 201, resp.json
    assert resp.json["status"] == "accepted" and resp.json["result"] == "flagged"
    assert resp.json["reason"] is None  # the activity itself is fine; its entry in the school challenge is not
    reason = "too-fast: average 20.0 km/h is above this challenge's limit of 18 km/h for running"
    by_challenge = {e["challenge_id"]: e for e in resp.json["entries"]}
    assert by_challenge[w.challenge.id] == {"challenge_id": w.challenge.id, "status": "flagged", "reason": reason,
                                            "points": 0}
    assert by_challenge[other.id]["status"] == "counted" and by_challenge[other.id]["points"] == 30
    assert points(session, w.challenge.id, pat.id) == 0 and points(session, other.id, pat.id) == 30

    queue = client.get(f"/api/v1/challenges/{w.challenge.id}/review-queue", headers=w.h(w.organiser))
    [item] = queue.json["items"]
    assert item["activity"]["id"] == resp.json["id"] and item["reason"] == reason
    approved = client.post(f"/api/v1/activities/{resp.json['id']}/approve", json={"challenge_id": w.challenge.id},
                           headers=w.h(w.organiser))
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "accepted"
    assert points(session, w.challenge.id, pat.id) == 30 and points(session, other.id, pat.id) == 30
    entry = _entries(session, resp.json["id"])[w.challenge.id]
    assert entry.status == EntryStatus.COUNTED and entry.reviewed_by_id == w.organiser.id


def test_a_run_within_the_challenge_limit_counts(app: Flask, client: FlaskClient, session: Any) -> None:
    w = make_world(app, session, plausibility=SCHOOL)
    resp = post(client, w, w.users[0], _run(ago(hours=3), kmh=12))
    assert resp.json["result"] == "created" and resp.json["entries"][0]["status"] == "counted"
    assert points(session, w.challenge.id) == 30


def test_the_speed_limit_uses_the_moving_time_like_the_deployment_check(app: Flask, client: FlaskClient,
                                                                        session: Any) -> None:
    w = make_world(app, session, plausibility=SCHOOL)
    # 10 km in an hour, but moving only 30 minutes of it: 20 km/h while moving
    resp = post(client, w, w.users[0], _run(ago(hours=3), kmh=10, minutes=60, moving_time_s=1800))
    assert resp.json["result"] == "flagged" and "20.0 km/h" in resp.json["entries"][0]["reason"]


def test_a_limit_on_running_covers_its_pace_variants(app: Flask, client: FlaskClient, session: Any) -> None:
    w = make_world(app, session, plausibility=SCHOOL)
    resp = post(client, w, w.users[0], _run(ago(hours=3), kmh=20, type="running_10mph"))
    assert resp.json["result"] == "flagged"
    assert resp.json["entries"][0]["reason"].endswith("limit of 18 km/h for running")
    own = challenge_limits({"max_speed_kmh": {"running": 18, "running_10mph": 22}})
    assert own is not None and own.speed["running_10mph"] == (22.0, "running_10mph")
    assert own.speed["jogging"] == (18.0, "running")


def test_a_session_over_the_challenge_duration_limit_is_flagged_there_only(app: Flask, client: FlaskClient,
                                                                           session: Any) -> None:
    w = make_world(app, session, plausibility={"max_duration_s": 7200})
    other = _second_challenge(session, w)
    resp = post(client, w, w.users[0], {"type": "walking", "started_at": iso(ago(hours=5)), "duration_s": 3 * 3600})
    entries = {e["challenge_id"]: e for e in resp.json["entries"]}
    assert entries[w.challenge.id]["status"] == "flagged"
    assert entries[w.challenge.id]["reason"] == "too-long: 3.0 h is longer than this challenge's limit of 2 h"
    assert entries[other.id]["status"] == "counted" and entries[other.id]["points"] == 180


def test_an_activity_flagged_by_the_deployment_keeps_its_own_reason(app: Flask, client: FlaskClient,
                                                                    session: Any) -> None:
    w = make_world(app, session, plausibility=SCHOOL)
    resp = post(client, w, w.users[0], _run(ago(hours=3), kmh=30))
    assert resp.json["status"] == "flagged"
    assert resp.json["entries"][0]["reason"].startswith("too-fast: average 30.0 km/h is beyond the 25 km/h ceiling")


def test_an_edit_places_the_activity_again_under_the_challenge_limits(app: Flask, client: FlaskClient,
                                                                      session: Any) -> None:
    w = make_world(app, session, plausibility=SCHOOL)
    act = post(client, w, w.users[0], _run(ago(hours=3), kmh=12)).json
    assert points(session, w.challenge.id) == 30
    resp = client.patch(f"/api/v1/activities/{act['id']}", json={"distance_m": 10_000}, headers=w.h(w.users[0]))
    assert resp.status_code == 200, resp.json
    assert _entries(session, act["id"])[w.challenge.id].status == EntryStatus.FLAGGED
    assert points(session, w.challenge.id) == 0


# -- the day's steps -----------------------------------------------------------------------------------------

def _steps(n: int, start: datetime, steps: int, duration_s: int = 7200) -> dict[str, Any]:
    return {"source": "wearable", "external_id": f"s-{n}", "type": "walking", "kind": "steps",
            "started_at": iso(start), "duration_s": duration_s, "steps": steps}


def _yesterday(hour: int) -> datetime:
    helsinki = ZoneInfo("Europe/Helsinki")
    day = (utcnow() - timedelta(days=1)).astimezone(helsinki).date()
    return datetime.combine(day, time(hour), helsinki)


def _batch(client: FlaskClient, w: World, items: list[Any]) -> Any:
    resp = client.post("/api/v1/activities/batch", json={"items": items}, headers=w.h(w.users[0]))
    assert resp.status_code == 200, resp.json
    return resp.json


def test_a_batch_of_step_records_is_flagged_from_the_one_that_takes_the_day_over(app: Flask, client: FlaskClient,
                                                                                 session: Any) -> None:
    w = make_world(app, session, metric="steps", plausibility={"steps_flag_per_day": 20_000})
    other = _second_challenge(session, w, metric="steps")
    pat = w.users[0]
    items = [_steps(1, _yesterday(8), 8_000), _steps(2, _yesterday(11), 8_000), _steps(3, _yesterday(14), 8_000),
             _steps(4, _yesterday(8) - timedelta(days=1), 15_000)]  # the day before: its own total
    body = _batch(client, w, items)
    assert [r["status"] for r in body["results"]] == ["created", "created", "flagged", "created"]
    assert body["results"][2]["reason"] == ("too-many-steps: 24000 steps in a day is above this challenge's "
                                            "limit of 20000")
    assert body["results"][2]["points"] == {str(other.id): 8_000}
    assert points(session, w.challenge.id, pat.id) == 31_000
    assert points(session, other.id, pat.id) == 39_000
    third = _entries(session, body["results"][2]["activity_id"])
    assert third[w.challenge.id].status == EntryStatus.FLAGGED and third[other.id].status == EntryStatus.COUNTED

    # a later sync of the same day adds to what is stored; approval then scores it
    later = post(client, w, pat, _steps(5, _yesterday(18), 1_000))
    entries = {e["challenge_id"]: e for e in later.json["entries"]}
    assert later.json["result"] == "flagged" and "25000 steps in a day" in entries[w.challenge.id]["reason"]
    assert entries[other.id]["status"] == "counted"
    approved = client.post(f"/api/v1/activities/{body['results'][2]['activity_id']}/approve",
                           json={"challenge_id": w.challenge.id}, headers=w.h(w.organiser))
    assert approved.status_code == 200, approved.json
    assert points(session, w.challenge.id, pat.id) == 39_000


def test_the_day_is_the_challenges_local_day(app: Flask, client: FlaskClient, session: Any) -> None:
    """08:00 and (next day) 01:00 in Helsinki are two Helsinki days (the participant's, so the deployment's
    limit sees 15,000 a day) but one New York day: the challenge's day has 30,000."""
    w = make_world(app, session, metric="steps", timezone="America/New_York",
                   plausibility={"steps_flag_per_day": 20_000})
    body = _batch(client, w, [_steps(1, _yesterday(8) - timedelta(days=1), 15_000, 3600),
                              _steps(2, _yesterday(1), 15_000, 3600)])
    assert [r["status"] for r in body["results"]] == ["created", "flagged"]


def test_challenge_limits_add_one_query_per_call_and_none_without_limits(app: Flask, client: FlaskClient,
                                                                          session: Any) -> None:
    w = make_world(app, session, metric="steps", plausibility={"steps_flag_per_day": 90_000})
    plain = make_world(app, session, metric="steps")
    items = [_steps(i, _yesterday(0) + timedelta(minutes=10 * i), 100, 600) for i in range(60)]
    with _day_step_reads() as with_limits:
        assert _batch(client, w, items)["counts"] == {"created": 60}
    with _day_step_reads() as without:
        resp = client.post("/api/v1/activities/batch", json={"items": items}, headers=plain.h(plain.users[0]))
        assert resp.json["counts"] == {"created": 60}
    assert len(with_limits) == 1 and len(without) == 0


@contextmanager
def _day_step_reads() -> Iterator[list[str]]:
    """The statements that read the day's step records for the challenge limits (DaySteps' one query)."""
    seen: list[str] = []

    def spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        flat = " ".join(statement.split())
        if flat.startswith("SELECT activities.user_id, activities.id, activities.started_at, activities.steps "):
            seen.append(flat)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", spy)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", spy)


def test_challenge_flags_apply_duration_to_sessions_and_the_day_to_step_records() -> None:
    own = challenge_limits(SCHOOL)
    assert own is not None
    common = {"type_code": "walking", "duration_s": 16 * 3600, "moving_time_s": None, "distance_m": None}
    assert challenge_flags(own, kind=ActivityKind.STEPS, steps=10_000, **common) == []  # a long bucket is fine
    assert challenge_flags(own, kind=ActivityKind.SESSION, steps=None, **common) == [
        "too-long: 16.0 h is longer than this challenge's limit of 4 h"]
    assert challenge_flags(own, kind=ActivityKind.STEPS, steps=10_000, day_steps_before=20_001, **common) == [
        "too-many-steps: 30001 steps in a day is above this challenge's limit of 30000"]
    assert challenge_limits(None) is None and challenge_limits({}) is None
