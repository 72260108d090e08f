"""Challenges' export sections: enrolments (also left ones), activities as stored with their entries (deleted
and reviewed ones too), check-ins and merged distance samples; a team mate's rows never appear."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from challenges import exports
from challenges.activities.distance_samples import DistanceSample
from challenges.activities.models import Activity
from challenges.participation import enrolment
from challenges.places import checkins, locations
from challenges.places.checkins import CheckInProof
from service.clock import utcnow
from tests.challenges.activity_helpers import ago, iso, make_world, post
from tests.challenges.factories import enrol, make_challenge

SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"
PARK = (61.4978, 23.7610)


def _hc(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"format": "health_connect", "items": items}


def test_activities_with_entries_review_and_deletion_and_the_samples_merged_into_them(app, client, session):
    w = make_world(app, session, participants=2, metric="distance_m")
    pat, sam = w.users
    start = ago(hours=6)
    run = {"recordType": "ExerciseSession", "exerciseType": 56, "startTime": iso(start),
           "endTime": iso(start + timedelta(minutes=30)), "metadata": {"id": "hc-run-1", "dataOrigin": "com.watch"}}
    sample = {"recordType": "Distance", "startTime": iso(start), "endTime": iso(start + timedelta(minutes=20)),
              "distance": {"inMeters": 4200.0}, "metadata": {"id": "hc-dist-1", "dataOrigin": "com.watch"}}
    resp = client.post("/api/v1/activities/batch", json=_hc([run, sample]), headers=w.h(pat))
    assert resp.status_code == 200, resp.json
    run_id = resp.json["results"][0]["activity_id"]
    fast = post(client, w, pat, {"type": "running", "started_at": iso(ago(hours=3)), "duration_s": 600,
                                 "distance_m": 9000}).json
    assert fast["status"] == "flagged"
    assert client.post(f"/api/v1/activities/{fast['id']}/approve", json={}, headers=w.h(w.organiser)).status_code == 200
    gone = post(client, w, pat, {"type": "walking", "started_at": iso(ago(hours=1)), "duration_s": 900}).json
    assert client.delete(f"/api/v1/activities/{gone['id']}", headers=w.h(pat)).status_code == 204
    post(client, w, sam, {"type": "walking", "started_at": iso(ago(hours=2)), "duration_s": 900})
    session.expire_all()

    acts = {a["id"]: a for a in exports.activities(session, pat.id)}
    assert set(acts) == set(session.scalars(select(Activity.id).where(Activity.user_id == pat.id)))
    assert len(acts) == 3
    stored = session.get(Activity, run_id)
    assert acts[run_id]["distance_m"] == 4200.0 and acts[run_id]["external_id"] == "hc-run-1"
    assert acts[run_id]["source"] == "health_connect" and acts[run_id]["source_ref"] == stored.source_ref
    assert acts[run_id]["fingerprint"] == stored.fingerprint
    approved = acts[fast["id"]]
    assert approved["status"] == "accepted"
    [entry] = approved["entries"]
    assert entry["status"] == "counted" and entry["reviewed_at"] is not None
    assert entry["challenge_title"] == w.challenge.title and "reviewed_by_id" not in entry
    assert acts[gone["id"]]["deleted_at"] is not None
    assert [e["status"] for e in acts[gone["id"]]["entries"]] == ["withdrawn"]

    [merged] = exports.distance_samples(session, pat.id)
    assert (merged["external_id"], merged["activity_id"], merged["distance_m"], merged["source"]) == (
        "hc-dist-1", run_id, 4200.0, "health_connect")
    assert merged["started_at"] == start and "user_id" not in merged
    assert session.scalar(select(DistanceSample.source_ref)) == merged["source_ref"]
    assert exports.distance_samples(session, sam.id) == []


def test_enrolments_left_and_current_and_check_ins_with_their_place(app, session):
    w = make_world(app, session, participants=2, metric="checkins")
    pat, sam = w.users
    other = make_challenge(session, w.org, title="Cycle in June")
    enrol(session, other, pat)
    enrolment.leave(session, other, pat)
    spot = locations.create_location(session, w.challenge, {"name": "Koskipuisto gym", "lat": PARK[0],
                                                            "lon": PARK[1], "radius_m": 80})
    now = utcnow()
    for who in (pat, sam):
        checkins.check_in(session, w.challenge, who, spot.id, CheckInProof(lat=PARK[0] + 0.0002, lon=PARK[1]),
                          now=now, app_secret=SECRET)
    session.commit()

    rows = {e["challenge_title"]: e for e in exports.enrolments(session, pat.id)}
    assert set(rows) == {w.challenge.title, "Cycle in June"}
    assert rows["Cycle in June"]["left_at"] is not None and rows[w.challenge.title]["left_at"] is None
    assert rows[w.challenge.title]["team_name"] is None and rows[w.challenge.title]["organised_by"] == w.org.name
    [mine] = exports.checkins(session, pat.id)
    assert (mine["challenge_id"], mine["location_name"], mine["method"]) == (w.challenge.id, "Koskipuisto gym",
                                                                             "geofence")
    assert (mine["location_lat"], mine["location_lon"]) == PARK and mine["at"] == now
    assert "qr_secret" not in mine and spot.qr_secret not in str(mine)
