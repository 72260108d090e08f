"""Wearable sync in batches: a status per item, one bad item never fails the rest, Health Connect/HealthKit."""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy import func, select

from challenges.activities.models import Activity, ActivityKind, ActivitySource
from challenges.activities.schemas import BatchItemResultSchema, BatchResultSchema
from tests.challenges.activity_helpers import ago, iso, make_world, points


def _batch(client, w, user, items, fmt=None, **headers):
    body = {"items": items} if fmt is None else {"items": items, "format": fmt}
    return client.post("/api/v1/activities/batch", json=body, headers={**w.h(user), **headers})


def _item(n, start, minutes=20, **extra):
    return {"source": "wearable", "external_id": f"w-{n}", "type": "walking", "started_at": iso(start),
            "duration_s": minutes * 60, **extra}


def test_each_item_gets_its_own_status_and_bad_items_do_not_fail_the_others(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    base = ago(days=2)
    items = [
        _item(1, base),
        _item(1, base),                                                    # repeated in the batch
        _item(2, base + timedelta(hours=2), type="running", distance_m=30_000, duration_s=1800),  # too fast
        _item(3, base + timedelta(hours=4), type="unicycling"),            # unknown type
        {"source": "wearable", "type": "walking", "started_at": iso(base), "duration_s": 60},  # no external_id
        _item(4, base + timedelta(hours=6), started_at="2026-05-04T07:00:00"),  # naive time
        "not an object",
        _item(5, base + timedelta(hours=8), minutes=40),
    ]
    resp = _batch(client, w, pat, items)
    assert resp.status_code == 200, resp.json
    results = resp.json["results"]
    assert [r["status"] for r in results] == ["created", "duplicate", "flagged", "rejected", "rejected",
                                              "rejected", "rejected", "created"]
    assert "unicycling" in results[3]["reason"] and "external_id" in results[4]["reason"]
    assert "offset" in results[5]["reason"] and "too-fast" in results[2]["reason"]
    assert results[0]["points"] == {str(w.challenge.id): 20} and results[7]["points"] == {str(w.challenge.id): 40}
    assert resp.json["counts"] == {"created": 2, "duplicate": 1, "flagged": 1, "rejected": 4}
    assert points(session, w.challenge.id, pat.id) == 60
    assert session.scalar(select(func.count()).select_from(Activity)) == 3


def test_the_batch_answer_is_exactly_what_its_documented_schema_dumps(app, client, session):
    w = make_world(app, session)
    resp = _batch(client, w, w.users[0], [_item(1, ago(days=2)), _item(2, ago(days=2), type="unicycling")])
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    schema = BatchResultSchema()
    assert schema.dump(schema.load(resp.json)) == resp.json
    assert set(resp.json["results"][0]) == set(BatchItemResultSchema().fields)


def test_a_resync_of_the_same_batch_stores_nothing_twice(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    items = [_item(n, ago(days=1, hours=n)) for n in range(5)]
    _batch(client, w, pat, items)
    again = _batch(client, w, pat, items)
    assert {r["status"] for r in again.json["results"]} == {"duplicate"}
    assert points(session, w.challenge.id, pat.id) == 100
    assert session.scalar(select(func.count()).select_from(Activity)) == 5


def test_a_batch_with_an_idempotency_key_replays_its_first_answer(app, client, session):
    w = make_world(app, session)
    items = [_item(1, ago(hours=5))]
    first = _batch(client, w, w.users[0], items, **{"Idempotency-Key": "sync-42"})
    again = _batch(client, w, w.users[0], items, **{"Idempotency-Key": "sync-42"})
    assert again.json == first.json and again.headers.get("Idempotent-Replayed") == "true"


def test_more_than_a_thousand_items_is_a_413_that_says_the_limit(app, client, session):
    w = make_world(app, session)
    resp = _batch(client, w, w.users[0], [_item(n, ago(days=1)) for n in range(1001)])
    assert resp.status_code == 413
    assert resp.json["type"].endswith("batch-too-large") and "1000" in resp.json["detail"]
    assert session.scalar(select(func.count()).select_from(Activity)) == 0


def test_an_unknown_format_or_missing_items_is_a_422(app, client, session):
    w = make_world(app, session)
    assert _batch(client, w, w.users[0], [], fmt="garmin-xml").status_code == 422
    resp = client.post("/api/v1/activities/batch", json={"format": "vcc"}, headers=w.h(w.users[0]))
    assert resp.status_code == 422 and "items" in resp.json["detail"]
    for not_a_list in ("walks", {"0": {}}, 7, None):
        resp = client.post("/api/v1/activities/batch", json={"items": not_a_list}, headers=w.h(w.users[0]))
        assert resp.status_code == 422 and "items" in resp.json["errors"], (not_a_list, resp.json)


def test_health_connect_records_map_to_sessions_and_step_records(app, client, session):
    w = make_world(app, session, metric="distance_m")
    pat = w.users[0]
    start = ago(hours=6)
    end = start + timedelta(minutes=30)
    records = [
        {"recordType": "ExerciseSession", "exerciseType": 56, "startTime": iso(start), "endTime": iso(end),
         "metadata": {"id": "hc-run-1", "dataOrigin": "com.example.watch"}},
        {"recordType": "Distance", "startTime": iso(start), "endTime": iso(start + timedelta(minutes=15)),
         "distance": {"inMeters": 2600.0}, "metadata": {"id": "hc-d-1"}},
        {"recordType": "Distance", "startTime": iso(start + timedelta(minutes=15)), "endTime": iso(end),
         "distance": {"inMeters": 2500.0}, "metadata": {"id": "hc-d-2"}},
        {"recordType": "Steps", "startTime": iso(start), "endTime": iso(end), "count": 4800,
         "metadata": {"id": "hc-steps-1"}},
        {"recordType": "ExerciseSession", "exerciseType": 9999, "startTime": iso(start), "endTime": iso(end),
         "metadata": {"id": "hc-x"}},
        {"recordType": "HeartRate", "startTime": iso(start), "endTime": iso(end), "metadata": {"id": "hr"}},
    ]
    resp = _batch(client, w, pat, records, fmt="health_connect")
    statuses = [r["status"] for r in resp.json["results"]]
    assert statuses == ["created", "merged", "merged", "created", "rejected", "rejected"]
    run = session.get(Activity, resp.json["results"][0]["activity_id"])
    assert (run.type_code, run.source, run.external_id, run.distance_m) == (
        "running", ActivitySource.HEALTH_CONNECT, "hc-run-1", 5100.0)
    assert run.source_ref == "health_connect:ExerciseSession:com.example.watch"
    steps = session.get(Activity, resp.json["results"][3]["activity_id"])
    assert steps.kind == ActivityKind.STEPS and steps.steps == 4800
    assert points(session, w.challenge.id, pat.id) == 5100


def test_healthkit_samples_map_to_workouts_and_step_records(app, client, session):
    w = make_world(app, session, metric="steps")
    pat = w.users[0]
    start = ago(hours=6)
    end = start + timedelta(hours=1)
    samples = [
        {"sampleType": "HKQuantityTypeIdentifierStepCount", "uuid": "hk-s-1", "startDate": iso(start),
         "endDate": iso(end), "quantity": 5200, "sourceBundleId": "com.apple.health"},
        {"sampleType": "HKWorkoutTypeIdentifier", "uuid": "hk-w-1", "workoutActivityType": 52,
         "startDate": iso(start), "endDate": iso(start + timedelta(minutes=40)), "totalDistance": 3100},
        {"sampleType": "HKWorkoutTypeIdentifier", "uuid": "hk-w-2",
         "workoutActivityType": "HKWorkoutActivityTypeCycling", "startDate": iso(end),
         "endDate": iso(end + timedelta(minutes=30))},
        {"sampleType": "HKQuantityTypeIdentifierStepCount", "startDate": iso(start), "endDate": iso(end),
         "quantity": 10},
    ]
    resp = _batch(client, w, pat, samples, fmt="healthkit")
    assert [r["status"] for r in resp.json["results"]] == ["created", "created", "created", "rejected"]
    walk = session.get(Activity, resp.json["results"][1]["activity_id"])
    ride = session.get(Activity, resp.json["results"][2]["activity_id"])
    assert (walk.type_code, walk.distance_m, ride.type_code) == ("walking", 3100, "cycling")
    assert points(session, w.challenge.id, pat.id) == 5200


def test_a_health_connect_resync_is_a_duplicate_by_record_id(app, client, session):
    w = make_world(app, session, metric="steps")
    start = ago(hours=3)
    rec = {"recordType": "Steps", "startTime": iso(start), "endTime": iso(start + timedelta(hours=1)),
           "count": 3000, "metadata": {"id": "hc-steps-9"}}
    _batch(client, w, w.users[0], [rec], fmt="health_connect")
    again = _batch(client, w, w.users[0], [rec], fmt="health_connect")
    assert again.json["results"][0]["status"] == "duplicate"
    assert points(session, w.challenge.id) == 3000


def test_hostile_vcc_items_are_rejected_each_with_its_reason_and_the_others_are_stored(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    base = ago(days=1)
    items = [
        _item(1, base),
        _item(2, base, external_id="w-\ud800"),                                 # unpaired surrogate
        _item(3, base, external_id="w-\x00"),                                   # NUL
        _item(4, base + timedelta(hours=1), started_at="0001-01-01T00:00:00+05:00"),  # overflows UTC
        _item(5, base + timedelta(hours=2), steps=10**18),
        _item(6, base + timedelta(hours=3), distance_m=1e308),
        _item(7, base + timedelta(hours=4), duration_s=10**15),
        _item(8, base + timedelta(hours=5)),
    ]
    resp = _batch(client, w, pat, items)
    assert resp.status_code == 200, resp.json
    results = resp.json["results"]
    assert [r["status"] for r in results] == ["created"] + ["rejected"] * 6 + ["created"]
    reasons = [r["reason"] for r in results[1:7]]
    assert "surrogate" in reasons[0] and "NUL" in reasons[1] and "1900" in reasons[2]
    assert "steps" in reasons[3] and "distance_m" in reasons[4] and "week" in reasons[5]
    assert session.scalar(select(func.count()).select_from(Activity)) == 2
    assert points(session, w.challenge.id, pat.id) == 40


def test_an_item_whose_offset_postgresql_refuses_is_stored_at_its_utc_instant(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    local = (ago(days=1) + timedelta(hours=23, minutes=59)).replace(tzinfo=None).isoformat() + "+23:59"
    resp = _batch(client, w, pat, [_item(1, ago(days=1), started_at=local), _item(2, ago(hours=5))])
    assert [r["status"] for r in resp.json["results"]] == ["created", "created"], resp.json
    stored = session.get(Activity, resp.json["results"][0]["activity_id"])
    assert stored.started_at.replace(tzinfo=stored.started_at.tzinfo or UTC) == ago(days=1).astimezone(UTC)


def test_hostile_health_store_items_are_rejected_each_with_its_reason_and_the_others_are_stored(
        app, client, session):
    w = make_world(app, session, metric="steps")
    pat = w.users[0]
    start = ago(hours=6)
    end = start + timedelta(hours=1)

    def steps(uuid, quantity, begin=iso(start), until=iso(end)):
        return {"sampleType": "HKQuantityTypeIdentifierStepCount", "uuid": uuid, "startDate": begin,
                "endDate": until, "quantity": quantity}

    samples = [
        steps("hk-1", 1200),
        {"sampleType": "HKWorkoutTypeIdentifier", "uuid": "hk-2", "workoutActivityType": 52,
         "startDate": "0001-01-01T00:00:00+05:00", "endDate": "0001-01-01T01:00:00+05:00"},
        steps("hk-3", 1e308),
        steps("hk-\udc00", 50),
        {"sampleType": "HKQuantityTypeIdentifierDistanceWalkingRunning", "uuid": "hk-5", "startDate": iso(start),
         "endDate": iso(end), "quantity": 1e300},
        steps("hk-6", 800, iso(end), iso(end + timedelta(minutes=30))),
    ]
    resp = _batch(client, w, pat, samples, fmt="healthkit")
    assert resp.status_code == 200, resp.json
    results = resp.json["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "rejected", "rejected", "created"]
    assert "1900" in results[1]["reason"] and "steps" in results[2]["reason"]
    assert "surrogate" in results[3]["reason"] and "metres" in results[4]["reason"]
    assert points(session, w.challenge.id, pat.id) == 2000
    records = [{"recordType": "Steps", "count": 10**18, "startTime": iso(start), "endTime": iso(end),
                "metadata": {"id": "hc-1"}},
               {"recordType": "Steps", "count": 300, "startTime": iso(end + timedelta(hours=1)),
                "endTime": iso(end + timedelta(hours=1, minutes=9)), "metadata": {"id": "hc-2"}}]
    resp = _batch(client, w, pat, records, fmt="health_connect")
    assert [r["status"] for r in resp.json["results"]] == ["rejected", "created"], resp.json
    assert points(session, w.challenge.id, pat.id) == 2300


def test_an_item_that_supersedes_earlier_records_names_them(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    start = ago(days=1)
    typed = client.post("/api/v1/activities", headers=w.h(pat), json={
        "type": "walking", "started_at": iso(start), "duration_s": 1800}).json  # a manual entry
    items = [_item(1, start + timedelta(hours=3), source="manual"),
             _item(2, start + timedelta(hours=3)),   # the watch's record of the same walk as item 1
             _item(3, start)]                          # the watch's record of the walk typed in before
    results = _batch(client, w, pat, items).json["results"]
    assert [r["status"] for r in results] == ["duplicate", "created", "created"]
    assert results[1]["supersedes"] == [results[0]["activity_id"]]
    assert results[2]["supersedes"] == [typed["id"]]
    assert results[0]["supersedes"] == [] and f"activity {results[1]['activity_id']}" in results[0]["reason"]
    assert points(session, w.challenge.id, pat.id) == 40


def test_a_batch_item_whose_session_carries_steps_is_stored_and_its_result_says_they_do_not_count(
        app, client, session):
    w = make_world(app, session, metric="steps")
    pat = w.users[0]
    start = ago(days=1)
    results = _batch(client, w, w.users[0], [_item(1, start, steps=2400),
                                             _item(2, start + timedelta(hours=2))]).json["results"]
    assert [r["status"] for r in results] == ["created", "created"]
    assert [len(r["notes"]) for r in results] == [1, 0] and results[0]["notes"][0].startswith("steps-not-counted:")
    stored = session.get(Activity, results[0]["activity_id"])
    assert stored.steps == 2400 and points(session, w.challenge.id, pat.id) == 0
