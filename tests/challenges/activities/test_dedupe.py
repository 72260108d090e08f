"""Counting once: the same record, the same movement from two sources, and steps from phone and watch."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from challenges.activities.dedupe import overlaps, resolve
from challenges.activities.models import Activity, ActivityIn, ActivityKind, ActivitySource, ActivityStatus
from tests.challenges.activity_files import gpx, track
from tests.challenges.activity_helpers import ago, iso, make_world, points, post


def _import(client, w, user, data, name="run.gpx"):
    import io

    return client.post("/api/v1/activities/import", data={"file": (io.BytesIO(data), name)},
                       headers=w.h(user), content_type="multipart/form-data")


def test_a_gps_track_supersedes_the_manual_entry_of_the_same_run_and_its_points_are_reversed(app, client,
                                                                                               session):
    w = make_world(app, session, metric="distance_m")
    pat = w.users[0]
    start = ago(hours=3)
    manual = post(client, w, pat, {"type": "running", "started_at": iso(start), "duration_s": 1800,
                                   "distance_m": 6000}).json
    assert points(session, w.challenge.id, pat.id) == 6000
    tracked = _import(client, w, pat, gpx(track(start + timedelta(seconds=30), minutes=30, speed_ms=3.0)))
    assert tracked.status_code == 201, tracked.json
    assert tracked.json["result"] == "created"
    assert points(session, w.challenge.id, pat.id) == 5400
    old = session.get(Activity, manual["id"])
    assert old.status == ActivityStatus.SUPERSEDED and old.superseded_by_id == tracked.json["id"]
    entry = client.get(f"/api/v1/activities/{manual['id']}", headers=w.h(pat)).json["entries"][0]
    assert entry["status"] == "withdrawn" and entry["points"] == 0


def test_a_poorer_record_arriving_after_a_richer_one_is_kept_as_superseded_and_scores_nothing(app, client,
                                                                                              session):
    w = make_world(app, session)
    pat = w.users[0]
    start = ago(hours=3)
    _import(client, w, pat, gpx(track(start, minutes=30)))
    later = post(client, w, pat, {"type": "running", "started_at": iso(start), "duration_s": 1800,
                                  "source": "wearable", "external_id": "w-1"})
    assert later.status_code == 201
    assert later.json["result"] == "duplicate" and later.json["status"] == "superseded"
    assert "counted once" in later.json["reason"]
    assert points(session, w.challenge.id, pat.id) == 30


def test_deleting_the_richer_record_lets_the_superseded_one_count_again(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    start = ago(hours=3)
    manual = post(client, w, pat, {"type": "walking", "started_at": iso(start), "duration_s": 40 * 60}).json
    tracked = _import(client, w, pat, gpx(track(start, minutes=30, speed_ms=1.4), sport="walking")).json
    assert points(session, w.challenge.id, pat.id) == 30
    client.delete(f"/api/v1/activities/{tracked['id']}", headers=w.h(pat))
    assert points(session, w.challenge.id, pat.id) == 40
    assert session.get(Activity, manual["id"]).status == ActivityStatus.ACCEPTED


def test_an_edit_moving_a_manual_entry_onto_a_tracked_one_keeps_who_superseded_it(app, client, session):
    """Edited onto the time of a GPS track, the manual walk is superseded by it; deleting the track later
    must find it (by that pointer) and let it count again."""
    w = make_world(app, session)
    pat = w.users[0]
    start = ago(hours=3)
    tracked = _import(client, w, pat, gpx(track(start, minutes=30, speed_ms=1.4), sport="walking")).json
    manual = post(client, w, pat, {"type": "walking", "started_at": iso(start - timedelta(hours=2)),
                                   "duration_s": 40 * 60}).json
    assert points(session, w.challenge.id, pat.id) == 70
    edited = client.patch(f"/api/v1/activities/{manual['id']}", json={"started_at": iso(start)}, headers=w.h(pat))
    assert edited.status_code == 200 and edited.json["status"] == "superseded"
    assert edited.json["superseded_by_id"] == tracked["id"]
    assert points(session, w.challenge.id, pat.id) == 30
    client.delete(f"/api/v1/activities/{tracked['id']}", headers=w.h(pat))
    assert points(session, w.challenge.id, pat.id) == 40
    assert session.get(Activity, manual["id"]).status == ActivityStatus.ACCEPTED


def test_steps_from_phone_and_watch_for_the_same_hours_are_not_added(app, client, session):
    """The phone's hour came first: the watch's quarter hours, each smaller than it, are not added."""
    w = make_world(app, session, metric="steps")
    pat = w.users[0]
    hour = ago(hours=6).replace(minute=0, second=0)
    phone = {"source": "health_connect", "external_id": "phone-1", "type": "walking", "kind": "steps",
             "started_at": iso(hour), "duration_s": 3600, "steps": 4000}
    watch = [{"source": "wearable", "external_id": f"watch-{i}", "type": "walking", "kind": "steps",
              "started_at": iso(hour + timedelta(minutes=15 * i)), "duration_s": 900, "steps": 1100}
             for i in range(4)]
    resp = client.post("/api/v1/activities/batch", json={"items": [phone, *watch]}, headers=w.h(pat))
    statuses = [r["status"] for r in resp.json["results"]]
    assert statuses == ["created", "duplicate", "duplicate", "duplicate", "duplicate"]
    assert points(session, w.challenge.id, pat.id) == 4000


def test_a_larger_count_replaces_the_smaller_records_it_covers(app, client, session):
    """The watch's quarter hours came first; the phone's hour counts more, so it replaces them (not added)."""
    w = make_world(app, session, metric="steps")
    pat = w.users[0]
    hour = ago(hours=6).replace(minute=0, second=0)
    watch = [{"source": "wearable", "external_id": f"watch-{i}", "type": "walking", "kind": "steps",
              "started_at": iso(hour + timedelta(minutes=15 * i)), "duration_s": 900, "steps": 900}
             for i in range(4)]
    phone = {"source": "health_connect", "external_id": "phone-1", "type": "walking", "kind": "steps",
             "started_at": iso(hour), "duration_s": 3600, "steps": 4000}
    client.post("/api/v1/activities/batch", json={"items": watch}, headers=w.h(pat))
    assert points(session, w.challenge.id, pat.id) == 3600
    resp = client.post("/api/v1/activities/batch", json={"items": [phone]}, headers=w.h(pat))
    assert resp.json["results"][0]["status"] == "created"
    assert points(session, w.challenge.id, pat.id) == 4000
    superseded = session.scalars(select(Activity).where(Activity.source == ActivitySource.WEARABLE)).all()
    assert {a.status for a in superseded} == {ActivityStatus.SUPERSEDED}


def test_a_smaller_count_for_the_same_hour_from_another_device_is_not_added(app, client, session):
    w = make_world(app, session, metric="steps")
    pat = w.users[0]
    hour = ago(hours=6).replace(minute=0, second=0)
    body = {"type": "walking", "kind": "steps", "started_at": iso(hour), "duration_s": 3600}
    post(client, w, pat, {**body, "steps": 5000, "source": "wearable", "external_id": "w"})
    resp = post(client, w, pat, {**body, "steps": 4200, "source": "health_connect", "external_id": "p"})
    assert resp.json["result"] == "duplicate"
    assert points(session, w.challenge.id, pat.id) == 5000


def _rec(id_: int, source: ActivitySource, start_min: int, minutes: int) -> Activity:
    base = ago(days=1)
    return Activity(id=id_, user_id=1, type_code="running", kind=ActivityKind.SESSION,
                    started_at=base + timedelta(minutes=start_min),
                    ended_at=base + timedelta(minutes=start_min + minutes), duration_s=minutes * 60,
                    source=source, richness={"manual": 1, "wearable": 2, "gpx": 3}[source.value],
                    status=ActivityStatus.ACCEPTED, deleted_at=None, steps=None)


SOURCES = [ActivitySource.MANUAL, ActivitySource.WEARABLE, ActivitySource.GPX]


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(order=st.permutations(SOURCES), skews=st.lists(st.integers(-5, 5), min_size=3, max_size=3))
def test_whatever_the_arrival_order_the_richest_of_overlapping_records_is_the_one_that_counts(order, skews):
    live: list[Activity] = []
    for n, (source, skew) in enumerate(zip(order, skews, strict=True), start=1):
        rec = _rec(n, source, skew, 30)
        item = ActivityIn("running", rec.started_at, rec.duration_s, source)
        rivals = [a for a in live if overlaps(rec.started_at, rec.ended_at, a.started_at, a.ended_at)]
        res = resolve(item, rivals)
        if res.keep_new:
            for loser in res.supersede:
                live.remove(loser)
            live.append(rec)
    assert [a.source for a in live] == [ActivitySource.GPX]


def test_records_sharing_less_than_half_the_shorter_one_both_count(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    start = ago(hours=5)
    post(client, w, pat, {"type": "walking", "started_at": iso(start), "duration_s": 3600})
    resp = post(client, w, pat, {"type": "running", "started_at": iso(start + timedelta(minutes=50)),
                                 "duration_s": 1800, "source": "wearable", "external_id": "x"})
    assert resp.json["result"] == "created"
    assert len(list(session.scalars(select(Activity).where(Activity.status == ActivityStatus.ACCEPTED)))) == 2


def test_inside_one_batch_the_richer_of_two_records_of_the_same_walk_counts(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    start = ago(hours=4)
    items = [{"source": "manual", "external_id": "m", "type": "walking", "started_at": iso(start),
              "duration_s": 1800},
             {"source": "wearable", "external_id": "w", "type": "walking",
              "started_at": iso(start + timedelta(minutes=1)), "duration_s": 1740}]
    results = client.post("/api/v1/activities/batch", json={"items": items}, headers=w.h(pat)).json["results"]
    assert [r["status"] for r in results] == ["duplicate", "created"]
    assert "richer record" in results[0]["reason"]
    assert points(session, w.challenge.id, pat.id) == 29
    manual = session.get(Activity, results[0]["activity_id"])
    assert manual.status == ActivityStatus.SUPERSEDED and manual.superseded_by_id == results[1]["activity_id"]
