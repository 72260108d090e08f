"""Implausible data is flagged (kept, scoring nothing until approved), impossible input is refused (4xx)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from challenges.activities.plausibility import Limits, judge
from service.clock import utcnow
from tests.challenges.activity_helpers import ago, iso, make_world, points, post, walk


def test_a_run_faster_than_world_record_pace_is_flagged_and_scores_nothing(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    resp = post(client, w, pat, {"type": "running", "started_at": iso(ago(hours=3)), "duration_s": 1800,
                                 "distance_m": 20_000})
    assert resp.status_code == 201
    assert resp.json["status"] == "flagged" and resp.json["result"] == "flagged"
    assert "too-fast" in resp.json["reason"] and "40.0 km/h" in resp.json["reason"]
    assert resp.json["entries"][0]["status"] == "flagged" and resp.json["entries"][0]["points"] == 0
    assert points(session, w.challenge.id) == 0


def test_a_session_longer_than_a_day_is_flagged(app, client, session):
    w = make_world(app, session)
    resp = post(client, w, w.users[0], walk(ago(hours=30), 26 * 60))
    assert resp.json["status"] == "flagged" and "too-long" in resp.json["reason"]


@pytest.mark.parametrize(("steps", "status"), [(12_000, "accepted"), (45_000, "flagged"), (120_000, "rejected")])
def test_a_day_of_steps_is_accepted_flagged_or_rejected_by_the_limits(app, client, session, steps, status):
    w = make_world(app, session, metric="steps")
    resp = post(client, w, w.users[0], {"type": "walking", "kind": "steps", "started_at": iso(ago(hours=20)),
                                        "duration_s": 16 * 3600, "steps": steps})
    assert resp.status_code == 201
    assert resp.json["status"] == status
    expected = steps if status == "accepted" else 0
    assert points(session, w.challenge.id) == expected


def test_step_records_add_up_per_day_towards_the_flag_limit(app, client, session):
    w = make_world(app, session, metric="steps")
    helsinki = ZoneInfo("Europe/Helsinki")
    day = (utcnow() - timedelta(days=1)).astimezone(helsinki).date()
    morning = datetime.combine(day, time(7), helsinki)
    first = post(client, w, w.users[0], {"type": "walking", "kind": "steps", "started_at": iso(morning),
                                         "duration_s": 4 * 3600, "steps": 30_000})
    later = post(client, w, w.users[0], {"type": "walking", "kind": "steps",
                                         "started_at": iso(morning + timedelta(hours=6)),
                                         "duration_s": 3 * 3600, "steps": 15_000})
    assert first.json["status"] == "accepted"
    assert later.json["status"] == "flagged" and "45000 steps in a day" in later.json["reason"]
    assert points(session, w.challenge.id) == 30_000


@pytest.mark.parametrize(("body", "slug", "words"), [
    ({"type": "walking", "started_at": "2026-05-04T07:00:00", "duration_s": 60}, "validation-error", "offset"),
    ({"type": "walking", "started_at": "2026-05-04T07:00:00+00:00", "ended_at": "2026-05-04T06:00:00+00:00"},
     "validation-error", "ends before"),
    ({"type": "moonwalking", "started_at": "2026-05-04T07:00:00+00:00", "duration_s": 60}, "unknown-type",
     "moonwalking"),
    ({"type": "walking", "started_at": "2999-01-01T07:00:00+00:00", "duration_s": 60}, "future-start", "future"),
    ({"type": "walking", "started_at": "2026-05-04T07:00:00+00:00"}, "validation-error", "duration_s"),
])
def test_bad_times_and_unknown_types_get_a_clear_4xx(app, client, session, body, slug, words):
    w = make_world(app, session)
    resp = post(client, w, w.users[0], body)
    assert resp.status_code == 422, resp.json
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert resp.json["type"].endswith(slug)
    assert words in resp.json["detail"]


def test_an_activity_synced_after_the_grace_period_is_flagged_for_that_challenge(app, client, session):
    w = make_world(app, session, grace_days=2)
    resp = post(client, w, w.users[0], walk(ago(days=4), 30))
    assert resp.json["status"] == "accepted" and resp.json["result"] == "flagged"
    assert resp.json["entries"][0]["status"] == "flagged"
    assert "late-sync" in resp.json["entries"][0]["reason"]
    assert points(session, w.challenge.id) == 0


def test_an_activity_reaching_into_the_window_from_before_the_start_is_flagged(app, client, session):
    w = make_world(app, session, starts_at=ago(hours=1), grace_days=7)
    resp = post(client, w, w.users[0], walk(ago(hours=2), 90))
    assert resp.json["entries"][0]["status"] == "flagged"
    assert "outside-window" in resp.json["entries"][0]["reason"]


def test_activity_wholly_outside_the_window_is_not_entered_in_the_challenge(app, client, session):
    w = make_world(app, session, starts_at=ago(hours=1), grace_days=7)
    resp = post(client, w, w.users[0], walk(ago(hours=5), 30))
    assert resp.status_code == 201 and resp.json["entries"] == []


@given(distance=st.floats(0, 200_000), minutes=st.integers(1, 24 * 60))
def test_judge_flags_exactly_the_runs_faster_than_the_ceiling(distance, minutes):
    verdict = judge(type_code="running", duration_s=minutes * 60, moving_time_s=None, distance_m=distance,
                    steps=None, limits=Limits())
    too_fast = distance / 1000 / (minutes / 60) > 25
    assert (verdict.status == "flagged") == too_fast


def test_a_deployment_can_set_its_own_step_limits(app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "ACTIVITY_STEPS_FLAG_PER_DAY", 10_000)
    w = make_world(app, session, metric="steps")
    resp = post(client, w, w.users[0], {"type": "walking", "kind": "steps", "started_at": iso(ago(hours=20)),
                                        "duration_s": 10 * 3600, "steps": 12_000})
    assert resp.json["status"] == "flagged" and "beyond 10000" in resp.json["reason"]


def test_a_deployment_can_set_a_smaller_batch_limit(app, client, session, monkeypatch):
    monkeypatch.setitem(app.config, "ACTIVITY_MAX_BATCH_ITEMS", 2)
    w = make_world(app, session)
    items = [{"source": "wearable", "external_id": str(n), "type": "walking", "started_at": iso(ago(hours=n + 2)),
              "duration_s": 600} for n in range(3)]
    resp = client.post("/api/v1/activities/batch", json={"items": items}, headers=w.h(w.users[0]))
    assert resp.status_code == 413 and "at most 2 items" in resp.json["detail"]
