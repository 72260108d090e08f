"""Every ingested item is counted once under its outcome, whichever path (single, batch) brought it."""

from __future__ import annotations

from datetime import timedelta

from tests.challenges.activity_helpers import ago, iso, make_world, post, walk
from tests.factories import moved, scrape

ITEMS = "vcc_ingest_items_total"


def test_items_are_counted_by_outcome_accepted_duplicate_flagged_rejected_superseded(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    before = scrape(client)
    repeated = walk(ago(hours=30), 30, source="wearable", external_id="watch-1")
    assert post(client, w, pat, repeated).json["result"] == "created"
    assert post(client, w, pat, repeated).json["result"] == "duplicate"
    base = ago(hours=20)
    batch = [{"source": "wearable", "external_id": "fast", "type": "running", "started_at": iso(base),
              "duration_s": 1800, "distance_m": 30_000},  # faster than any runner: flagged
             {"source": "wearable", "external_id": "odd", "type": "unicycling", "started_at": iso(base),
              "duration_s": 600},
             "not an object"]
    resp = client.post("/api/v1/activities/batch", json={"items": batch}, headers=w.h(pat))
    assert [r["status"] for r in resp.json["results"]] == ["flagged", "rejected", "rejected"]
    future = post(client, w, pat, walk(ago(hours=-3), 30))
    assert future.status_code == 422 and future.json["type"].endswith("/future-start")  # refused, still counted
    first = post(client, w, pat, walk(ago(hours=10), 40))
    again = post(client, w, pat, walk(ago(hours=10) + timedelta(minutes=1), 39))  # the same walk, typed twice
    assert first.json["result"] == "created" and again.json["status"] == "superseded"
    after = scrape(client)
    counts = {outcome: moved(before, after, ITEMS, outcome=outcome)
              for outcome in ("accepted", "flagged", "rejected", "duplicate", "superseded")}
    assert counts == {"accepted": 2, "flagged": 1, "rejected": 3, "duplicate": 1, "superseded": 1}
