"""Logging single activities through the API: scoring, idempotent retries, reading, editing, deleting."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from challenges.activities.models import Activity
from tests.challenges.activity_helpers import ago, iso, make_world, points, post, walk
from tests.challenges.factories import enrol, make_challenge
from tests.factories import make_org


def test_logging_a_walk_scores_its_active_minutes_in_the_challenge(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    resp = post(client, w, pat, walk(ago(hours=3), 30, distance_m=2600))
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["result"] == "created" and body["status"] == "accepted"
    assert body["entries"] == [{"challenge_id": w.challenge.id, "status": "counted", "reason": None, "points": 30}]
    assert points(session, w.challenge.id, pat.id) == 30


def test_a_retry_with_the_same_idempotency_key_replays_the_answer_and_stores_nothing_twice(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    key = str(uuid.uuid4())
    body = walk(ago(hours=5), 45)
    first = post(client, w, pat, body, **{"Idempotency-Key": key})
    again = post(client, w, pat, body, **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert session.scalar(select(func.count()).select_from(Activity)) == 1
    assert points(session, w.challenge.id, pat.id) == 45


def test_the_same_idempotency_key_with_another_body_is_refused(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    key = str(uuid.uuid4())
    assert post(client, w, pat, walk(ago(hours=5), 45), **{"Idempotency-Key": key}).status_code == 201
    resp = post(client, w, pat, walk(ago(hours=5), 50), **{"Idempotency-Key": key})
    assert resp.status_code == 422
    assert resp.json["type"].endswith("idempotency-key-reused")
    assert points(session, w.challenge.id, pat.id) == 45


def test_the_same_external_id_twice_is_a_duplicate_answered_with_the_stored_activity(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    body = walk(ago(hours=4), 20, source="wearable", external_id="watch-123")
    first = post(client, w, pat, body)
    second = post(client, w, pat, body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json["result"] == "duplicate" and second.json["id"] == first.json["id"]
    assert points(session, w.challenge.id, pat.id) == 20


def test_editing_reverses_the_old_points_and_scores_the_new_figures(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    act = post(client, w, pat, walk(ago(hours=4), 20)).json
    resp = client.patch(f"/api/v1/activities/{act['id']}", json={"duration_s": 50 * 60}, headers=w.h(pat))
    assert resp.status_code == 200, resp.json
    assert resp.json["entries"][0]["points"] == 50
    assert points(session, w.challenge.id, pat.id) == 50


def test_deleting_reverses_the_points(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    act = post(client, w, pat, walk(ago(hours=4), 20)).json
    assert client.delete(f"/api/v1/activities/{act['id']}", headers=w.h(pat)).status_code == 204
    assert points(session, w.challenge.id, pat.id) == 0
    assert client.get(f"/api/v1/activities/{act['id']}", headers=w.h(pat)).status_code == 404


def test_listing_pages_through_my_activities_only(app, client, session):
    w = make_world(app, session, participants=2)
    pat, sam = w.users
    for hours in (10, 8, 6):
        post(client, w, pat, walk(ago(hours=hours), 15))
    post(client, w, sam, walk(ago(hours=7), 15))
    page = client.get("/api/v1/activities?limit=2", headers=w.h(pat)).json
    assert len(page["items"]) == 2 and page["next"]
    rest = client.get(f"/api/v1/activities?limit=2&cursor={page['next']}", headers=w.h(pat)).json
    assert len(rest["items"]) == 1 and rest["next"] is None
    assert {i["id"] for i in page["items"] + rest["items"]} == {
        a.id for a in session.scalars(select(Activity).where(Activity.user_id == pat.id))}
    other = session.scalar(select(Activity.id).where(Activity.user_id == sam.id))
    assert client.get(f"/api/v1/activities/{other}", headers=w.h(pat)).status_code == 404


def test_an_edit_that_makes_the_activity_implausible_flags_it_and_removes_its_points(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    act = post(client, w, pat, {"type": "running", "started_at": iso(ago(hours=3)), "duration_s": 1800,
                                "distance_m": 5000}).json
    assert points(session, w.challenge.id, pat.id) == 30
    resp = client.patch(f"/api/v1/activities/{act['id']}", json={"distance_m": 30_000}, headers=w.h(pat))
    assert resp.status_code == 200
    assert resp.json["status"] == "flagged" and resp.json["entries"][0]["status"] == "flagged"
    assert points(session, w.challenge.id, pat.id) == 0


@pytest.mark.parametrize(("change", "slug"), [({"duration_s": 0}, "validation-error"),
                                              ({"type": "flying"}, "unknown-type"),
                                              ({"started_at": "2999-01-01T00:00:00+00:00"}, "future-start"),
                                              ({"colour": "red"}, "validation-error")])
def test_a_bad_edit_is_a_422_and_changes_nothing(app, client, session, change, slug):
    w = make_world(app, session)
    pat = w.users[0]
    act = post(client, w, pat, walk(ago(hours=3), 20)).json
    resp = client.patch(f"/api/v1/activities/{act['id']}", json=change, headers=w.h(pat))
    assert resp.status_code == 422 and resp.json["type"].endswith(slug)
    assert points(session, w.challenge.id, pat.id) == 20


def test_nobody_else_can_edit_or_delete_my_activity(app, client, session):
    w = make_world(app, session, participants=2)
    pat, sam = w.users
    act = post(client, w, pat, walk(ago(hours=3), 20)).json
    assert client.patch(f"/api/v1/activities/{act['id']}", json={"duration_s": 9000},
                        headers=w.h(sam)).status_code == 404
    assert client.delete(f"/api/v1/activities/{act['id']}", headers=w.h(sam)).status_code == 404
    assert points(session, w.challenge.id, pat.id) == 20


def test_activity_endpoints_need_a_signed_in_user(client, app, session):
    assert client.get("/api/v1/activities").status_code == 401
    resp = client.post("/api/v1/activities", json={"type": "walking"})
    assert resp.status_code == 401 and resp.headers["Content-Type"].startswith("application/problem+json")


def test_a_second_challenge_of_another_metric_gets_its_own_entry_and_points(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    other_org = make_org(session)
    distance = make_challenge(session, other_org, metric="distance_m")
    enrol(session, distance, pat)
    session.commit()
    act = post(client, w, pat, walk(ago(hours=3), 30, distance_m=2500)).json
    assert {e["challenge_id"]: e["points"] for e in act["entries"]} == {w.challenge.id: 30, distance.id: 2500}


def test_a_concurrent_twin_that_stored_first_is_answered_as_a_duplicate_not_a_500(app, client, session,
                                                                                   monkeypatch):
    """Simulate the race: the lookup misses the twin (stored by another request), the INSERT then collides."""
    from challenges.activities import pipeline

    w = make_world(app, session)
    pat = w.users[0]
    body = walk(ago(hours=2), 25, source="wearable", external_id="twin")
    first = post(client, w, pat, body).json
    real = pipeline._lookup
    calls = {"n": 0}

    def blind_once(*args, **kwargs):
        calls["n"] += 1
        known, pool, drawn = real(*args, **kwargs)
        return ({}, pipeline.dedupe.Pool(), drawn) if calls["n"] == 1 else (known, pool, drawn)

    monkeypatch.setattr(pipeline, "_lookup", blind_once)
    resp = post(client, w, pat, body)
    assert resp.status_code == 200 and resp.json["result"] == "duplicate" and resp.json["id"] == first["id"]
    assert points(session, w.challenge.id, pat.id) == 25


def test_my_activities_filter_by_start_window_and_type(app, client, session):
    from urllib.parse import quote

    w = make_world(app, session)
    pat = w.users[0]
    ids = {hours: post(client, w, pat, walk(ago(hours=hours), 15)).json["id"] for hours in (30, 20, 10)}
    run = post(client, w, pat, {"type": "running", "started_at": iso(ago(hours=5)), "duration_s": 1200}).json["id"]

    def listed(query):
        resp = client.get(f"/api/v1/activities?{query}", headers=w.h(pat))
        assert resp.status_code == 200, resp.json
        return [a["id"] for a in resp.json["items"]]

    since, until = quote(iso(ago(hours=25))), quote(iso(ago(hours=8)))
    assert listed(f"since={since}") == [run, ids[10], ids[20]]
    assert listed(f"since={since}&until={until}") == [ids[10], ids[20]]
    assert listed("type=running") == [run]
    assert listed(f"until={since}&type=walking") == [ids[30]]
    naive = client.get("/api/v1/activities?since=2026-05-04T07:00:00", headers=w.h(pat))
    assert naive.status_code == 422 and "since" in naive.json["errors"]
    backwards = client.get(f"/api/v1/activities?since={until}&until={since}", headers=w.h(pat))
    assert backwards.status_code == 422 and "until" in backwards.json["errors"]


def test_every_answer_shows_the_activity_s_times_in_utc_whatever_offset_was_sent(app, client, session):
    from zoneinfo import ZoneInfo

    w = make_world(app, session)
    pat = w.users[0]
    start = ago(hours=3)
    sent = start.astimezone(ZoneInfo("America/New_York")).isoformat()
    created = post(client, w, pat, {"type": "walking", "started_at": sent, "duration_s": 1800})
    read = client.get(f"/api/v1/activities/{created.json['id']}", headers=w.h(pat))
    moved = start - timedelta(minutes=20)
    edited = client.patch(f"/api/v1/activities/{created.json['id']}", headers=w.h(pat),
                          json={"started_at": moved.astimezone(ZoneInfo("Asia/Kolkata")).isoformat()})
    assert created.status_code == 201 and edited.status_code == 200, (created.json, edited.json)
    assert created.json["started_at"] == read.json["started_at"] == iso(start)
    assert created.json["ended_at"] == iso(start + timedelta(minutes=30))
    assert edited.json["started_at"] == iso(moved) and edited.json["ended_at"] == iso(moved + timedelta(minutes=30))


def test_a_session_keeps_its_steps_and_every_answer_says_they_count_only_from_step_records(app, client, session):
    w = make_world(app, session, metric="steps")
    pat = w.users[0]
    created = post(client, w, pat, walk(ago(hours=3), 30, steps=4000))
    assert created.status_code == 201 and created.json["steps"] == 4000
    assert created.json["entries"] == []  # sessions count in no steps challenge: their steps would count twice
    (note,) = created.json["notes"]
    assert note.startswith("steps-not-counted:") and "kind steps" in note
    assert client.get(f"/api/v1/activities/{created.json['id']}", headers=w.h(pat)).json["notes"] == [note]
    record = post(client, w, pat, {"type": "walking", "kind": "steps", "source": "wearable", "external_id": "s-1",
                                   "started_at": iso(ago(hours=6)), "duration_s": 3600, "steps": 3000})
    plain = post(client, w, pat, walk(ago(hours=8), 20))
    assert record.json["notes"] == plain.json["notes"] == []
    assert points(session, w.challenge.id, pat.id) == 3000
