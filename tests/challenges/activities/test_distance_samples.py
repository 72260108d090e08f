"""Health Connect / HealthKit distance samples that arrive in a later sync than their exercise session.

Each sample is added exactly once to the session it lies within (of its batch, or stored before), the session
is judged and scored afresh, and a re-sent sample adds nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from challenges.activities import distance_samples
from challenges.activities.distance_samples import DistanceSample
from challenges.activities.health_mappings import from_health_connect
from challenges.activities.models import Activity, ActivityStatus
from scoring.models import PointsEntry
from service.db import db
from tests.challenges.activity_helpers import ago, iso, make_world, points


def _batch(client, w, user, fmt, items):
    resp = client.post("/api/v1/activities/batch", json={"format": fmt, "items": items}, headers=w.h(user))
    assert resp.status_code == 200, resp.json
    return resp.json["results"]


def hc_session(ext: str, start: datetime, minutes: int = 30, exercise: int = 56) -> dict[str, Any]:
    return {"recordType": "ExerciseSession", "exerciseType": exercise, "startTime": iso(start),
            "endTime": iso(start + timedelta(minutes=minutes)), "metadata": {"id": ext, "dataOrigin": "com.watch"}}


def hc_distance(ext: str, start: datetime, minutes: int, metres: float) -> dict[str, Any]:
    return {"recordType": "Distance", "startTime": iso(start), "endTime": iso(start + timedelta(minutes=minutes)),
            "distance": {"inMeters": metres}, "metadata": {"id": ext, "dataOrigin": "com.watch"}}


def hk_workout(ext: str, start: datetime, minutes: int = 30, kind: str = "Running") -> dict[str, Any]:
    return {"sampleType": "HKWorkoutTypeIdentifier", "workoutActivityType": kind, "uuid": ext,
            "startDate": iso(start), "endDate": iso(start + timedelta(minutes=minutes))}


def hk_distance(ext: str, start: datetime, minutes: int, metres: float) -> dict[str, Any]:
    return {"sampleType": "HKQuantityTypeIdentifierDistanceWalkingRunning", "uuid": ext, "quantity": metres,
            "startDate": iso(start), "endDate": iso(start + timedelta(minutes=minutes)),
            "sourceBundleId": "com.apple.health"}


STORES = {"health_connect": (hc_session, hc_distance), "healthkit": (hk_workout, hk_distance)}


def _board_points(client, w, user) -> int:
    rows = client.get(f"/api/v1/challenges/{w.challenge.id}/leaderboards?scope=user", headers=w.h(user)).json["rows"]
    return sum(r["points"] for r in rows)


@pytest.mark.parametrize("fmt", sorted(STORES))
def test_distance_of_a_later_batch_goes_into_the_stored_session_exactly_once(app, client, session, fmt):
    w = make_world(app, session, metric="distance_m")
    pat = w.users[0]
    workout, distance = STORES[fmt]
    start = ago(hours=5)
    first = _batch(client, w, pat, fmt, [workout("run-1", start)])
    run_id = first[0]["activity_id"]
    assert first[0]["status"] == "created" and points(session, w.challenge.id, pat.id) == 0

    later = [distance("d-1", start, 10, 2100.0), distance("d-2", start + timedelta(minutes=10), 20, 3000.0)]
    answer = _batch(client, w, pat, fmt, later)
    assert [(r["status"], r["activity_id"], r["external_id"]) for r in answer] == [
        ("merged", run_id, "d-1"), ("merged", run_id, "d-2")]
    assert "activity" in answer[0]["reason"]
    run = session.get(Activity, run_id)
    session.refresh(run)
    assert (run.distance_m, run.status) == (5100.0, ActivityStatus.ACCEPTED)
    assert points(session, w.challenge.id, pat.id) == 5100
    assert _board_points(client, w, pat) == 5100

    again = _batch(client, w, pat, fmt, later)  # the phone re-sends the same samples
    assert [(r["status"], r["activity_id"]) for r in again] == [("duplicate", run_id), ("duplicate", run_id)]
    assert "already received" in again[0]["reason"]
    session.refresh(run)
    assert run.distance_m == 5100.0
    assert points(session, w.challenge.id, pat.id) == 5100 and _board_points(client, w, pat) == 5100
    samples = session.scalars(select(DistanceSample).order_by(DistanceSample.external_id)).all()
    assert [(s.external_id, s.activity_id, s.distance_m) for s in samples] == [
        ("d-1", run_id, 2100.0), ("d-2", run_id, 3000.0)]
    assert samples[0].source.value == fmt and samples[0].source_ref and samples[0].started_at == start


@pytest.mark.parametrize("fmt", sorted(STORES))
def test_a_sample_merged_within_its_batch_is_a_duplicate_when_resent_alone(app, client, session, fmt):
    w = make_world(app, session, metric="distance_m")
    pat = w.users[0]
    workout, distance = STORES[fmt]
    start = ago(hours=4)
    sample = distance("d-9", start, 30, 4000.0)
    first = _batch(client, w, pat, fmt, [workout("run-9", start), sample])
    assert [r["status"] for r in first] == ["created", "merged"]
    assert first[1]["activity_id"] == first[0]["activity_id"]
    again = _batch(client, w, pat, fmt, [sample])
    assert again[0]["status"] == "duplicate" and again[0]["activity_id"] == first[0]["activity_id"]
    assert points(session, w.challenge.id, pat.id) == 4000


def test_a_resent_session_with_new_samples_adds_them_to_the_stored_one(app, client, session):
    w = make_world(app, session, metric="distance_m")
    pat = w.users[0]
    start = ago(hours=3)
    first = _batch(client, w, pat, "health_connect",
                   [hc_session("run-2", start), hc_distance("a", start, 10, 2000.0)])
    # a wider re-sync: the session again (duplicate), the sample again (duplicate), and a new one
    second = _batch(client, w, pat, "health_connect",
                    [hc_session("run-2", start), hc_distance("a", start, 10, 2000.0),
                     hc_distance("b", start + timedelta(minutes=10), 20, 3000.0)])
    run_id = first[0]["activity_id"]
    assert [(r["status"], r["activity_id"]) for r in second] == [
        ("duplicate", run_id), ("duplicate", run_id), ("merged", run_id)]
    assert session.get(Activity, run_id).distance_m == 5000.0
    assert points(session, w.challenge.id, pat.id) == 5000


def test_a_sample_within_no_session_is_rejected_and_other_stores_sessions_do_not_take_it(app, client, session):
    w = make_world(app, session, metric="distance_m")
    pat = w.users[0]
    start = ago(hours=6)
    hc = _batch(client, w, pat, "health_connect", [hc_session("hc-run", start)])
    answer = _batch(client, w, pat, "healthkit", [
        hk_distance("in-hc-session", start, 10, 1000.0),              # a Health Connect session: not its store
        hk_distance("nowhere", start + timedelta(hours=2), 10, 800.0)])
    assert [r["status"] for r in answer] == ["rejected", "rejected"]
    assert answer[1]["reason"].startswith("distance-outside-session") and answer[1]["activity_id"] is None
    assert session.get(Activity, hc[0]["activity_id"]).distance_m is None
    assert session.scalar(select(func.count()).select_from(DistanceSample)) == 0
    assert points(session, w.challenge.id, pat.id) == 0
    # a rejected sample is not remembered: once its session has arrived, the same sample goes in
    _batch(client, w, pat, "healthkit", [hk_workout("hk-walk", start + timedelta(hours=2))])
    late = _batch(client, w, pat, "healthkit", [hk_distance("nowhere", start + timedelta(hours=2), 10, 800.0)])
    assert late[0]["status"] == "merged" and points(session, w.challenge.id, pat.id) == 800


def test_a_late_distance_is_judged_like_an_edit_too_fast_is_flagged_and_its_points_reversed(app, client, session):
    w = make_world(app, session)  # active minutes
    pat = w.users[0]
    start = ago(hours=8)
    first = _batch(client, w, pat, "health_connect", [hc_session("walk-1", start, exercise=79)])
    assert points(session, w.challenge.id, pat.id) == 30
    answer = _batch(client, w, pat, "health_connect", [hc_distance("fast", start, 30, 9000.0)])  # 18 km/h walking
    walk = session.get(Activity, first[0]["activity_id"])
    session.refresh(walk)
    assert answer[0]["status"] == "merged"
    assert walk.status == ActivityStatus.FLAGGED and walk.reason.startswith("too-fast")
    assert points(session, w.challenge.id, pat.id) == 0
    review = client.get(f"/api/v1/challenges/{w.challenge.id}/review-queue", headers=w.h(w.organiser)).json
    assert [item["activity"]["id"] for item in review["items"]] == [walk.id]


def test_merged_samples_are_no_activities_and_deleting_the_session_keeps_them_out(app, client, session):
    w = make_world(app, session, metric="distance_m")
    pat = w.users[0]
    start = ago(hours=7)
    first = _batch(client, w, pat, "health_connect", [hc_session("run-3", start)])
    _batch(client, w, pat, "health_connect", [hc_distance("x", start, 30, 4200.0)])
    run_id = first[0]["activity_id"]
    for query, ids in (("", [run_id]), ("?status=accepted", [run_id]), ("?status=superseded", [])):
        listed = client.get(f"/api/v1/activities{query}", headers=w.h(pat)).json["items"]
        assert [a["id"] for a in listed] == ids
        assert [a["distance_m"] for a in listed] == [4200.0] * len(ids)
    assert session.scalar(select(func.count()).select_from(Activity)) == 1

    assert client.delete(f"/api/v1/activities/{run_id}", headers=w.h(pat)).status_code == 204
    assert points(session, w.challenge.id, pat.id) == 0
    assert client.get("/api/v1/activities", headers=w.h(pat)).json["items"] == []
    resent = _batch(client, w, pat, "health_connect", [hc_distance("x", start, 30, 4200.0),
                                                        hc_distance("y", start, 30, 100.0)])
    assert [r["status"] for r in resent] == ["duplicate", "rejected"]  # no live session left for the new one
    again = _batch(client, w, pat, "health_connect", [hc_session("run-3", start), hc_distance("z", start, 5, 9.0)])
    assert again[0]["status"] == "duplicate"
    assert again[1]["status"] == "rejected" and again[1]["reason"].startswith("session-deleted")
    assert points(session, w.challenge.id, pat.id) == 0
    assert session.scalar(select(func.count()).select_from(PointsEntry).where(PointsEntry.points > 0)) == 1


def test_a_sample_whose_session_of_the_batch_is_refused_is_refused_too(app, client, session):
    w = make_world(app, session, metric="distance_m")
    future = ago(hours=-2)
    answer = _batch(client, w, w.users[0], "health_connect",
                    [hc_session("future", future), hc_distance("fd", future, 10, 1000.0)])
    assert [r["status"] for r in answer] == ["rejected", "rejected"]
    assert answer[1]["reason"].startswith("session-not-stored")
    assert session.scalar(select(func.count()).select_from(DistanceSample)) == 0


def test_the_same_sample_twice_in_one_batch_counts_once(app, client, session):
    w = make_world(app, session, metric="distance_m")
    start = ago(hours=2)
    sample = hc_distance("d", start, 10, 1500.0)
    answer = _batch(client, w, w.users[0], "health_connect", [hc_session("run-4", start), sample, sample])
    assert [r["status"] for r in answer] == ["created", "merged", "duplicate"]
    assert points(session, w.challenge.id, w.users[0].id) == 1500


def _statements(engine):
    seen: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", count)
    return seen, lambda: event.remove(engine, "before_cursor_execute", count)


def test_placing_samples_costs_one_query_and_a_batch_without_samples_none(app, session):
    w = make_world(app, session, metric="distance_m")
    pat = w.users[0]
    start = ago(hours=9)
    items = [from_health_connect(hc_distance(f"q-{n}", start + timedelta(minutes=n), 1, 10.0)) for n in range(300)]
    items += [from_health_connect(hc_session("in-batch", start + timedelta(hours=6))),
              from_health_connect(hc_distance("homed", start + timedelta(hours=6), 1, 10.0))]
    seen, stop = _statements(db.engine)
    try:
        placed = distance_samples.place(session, pat.id, items)
        no_samples = distance_samples.place(session, pat.id, items[-2:-1])
    finally:
        stop()
    assert len(seen) == 1 and no_samples == []
    assert [p.status for p in placed].count("rejected") == 300 and placed[-1].status == "merged"


def test_a_healthkit_workout_with_its_total_distance_does_not_get_its_samples_added_again(app, client, session):
    """totalDistance is the sum of the workout's samples: they are remembered, never added on top (in the same
    batch or later); a workout without one still gets its distance from the samples."""
    w = make_world(app, session, metric="distance_m")
    pat = w.users[0]
    start = ago(hours=5)
    with_total = {**hk_workout("w-total", start), "totalDistance": 5000}
    first = _batch(client, w, pat, "healthkit", [with_total, hk_distance("d-1", start, 15, 2500),
                                                 hk_distance("d-2", start + timedelta(minutes=15), 15, 2500)])
    assert [r["status"] for r in first] == ["created", "merged", "merged"]
    assert all("totalDistance" in r["reason"] for r in first[1:])
    assert {r["activity_id"] for r in first[1:]} == {first[0]["activity_id"]}
    workout = session.get(Activity, first[0]["activity_id"])
    assert workout.distance_m == 5000 and points(session, w.challenge.id, pat.id) == 5000

    late = _batch(client, w, pat, "healthkit", [hk_distance("d-3", start + timedelta(minutes=20), 5, 800)])
    assert late[0]["status"] == "merged" and "totalDistance" in late[0]["reason"]
    session.expire_all()
    assert session.get(Activity, workout.id).distance_m == 5000 and points(session, w.challenge.id, pat.id) == 5000
    again = _batch(client, w, pat, "healthkit", [hk_distance("d-1", start, 15, 2500)])
    assert again[0]["status"] == "duplicate"

    later = ago(hours=2)
    bare = _batch(client, w, pat, "healthkit", [hk_workout("w-bare", later),
                                                hk_distance("d-4", later, 30, 4200)])
    assert session.get(Activity, bare[0]["activity_id"]).distance_m == 4200
    assert points(session, w.challenge.id, pat.id) == 5000 + 4200
