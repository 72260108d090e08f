"""Organisers review flagged activity of their own challenges: approve scores it, reject keeps it at zero."""

from __future__ import annotations

from challenges.activities.models import ActivityEntry, EntryStatus
from service.models import Role
from tests.challenges.activity_helpers import ago, iso, make_world, points, post
from tests.challenges.factories import enrol, make_challenge
from tests.factories import auth_headers, make_org, quick_user


def _too_fast(client, w, user):
    return post(client, w, user, {"type": "cycling", "started_at": iso(ago(hours=3)), "duration_s": 3600,
                                  "distance_m": 80_000}).json


def test_the_queue_lists_flagged_entries_and_approval_scores_them(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    act = _too_fast(client, w, pat)
    queue = client.get(f"/api/v1/challenges/{w.challenge.id}/review-queue", headers=w.h(w.organiser))
    assert queue.status_code == 200
    [item] = queue.json["items"]
    assert item["activity"]["id"] == act["id"] and item["display_name"] == "Pat 0"
    assert "too-fast" in item["reason"]
    resp = client.post(f"/api/v1/activities/{act['id']}/approve", json={}, headers=w.h(w.organiser))
    assert resp.status_code == 200, resp.json
    assert resp.json["status"] == "accepted"
    assert resp.json["entries"][0]["status"] == "counted" and resp.json["entries"][0]["points"] == 60
    assert points(session, w.challenge.id, pat.id) == 60
    again = client.get(f"/api/v1/challenges/{w.challenge.id}/review-queue", headers=w.h(w.organiser))
    assert again.json["items"] == []


def test_rejecting_keeps_the_entry_at_zero_with_the_decision(app, client, session):
    w = make_world(app, session)
    act = _too_fast(client, w, w.users[0])
    resp = client.post(f"/api/v1/activities/{act['id']}/reject", json={"note": "a car ride"},
                       headers=w.h(w.organiser))
    assert resp.status_code == 200
    entry = resp.json["entries"][0]
    assert entry["status"] == "rejected" and "a car ride" in entry["reason"]
    assert points(session, w.challenge.id) == 0
    row = session.query(ActivityEntry).one()
    assert row.reviewed_by_id == w.organiser.id and row.status == EntryStatus.REJECTED


def test_an_organiser_of_another_organisation_cannot_approve_or_see_the_queue(app, client, session):
    w = make_world(app, session)
    act = _too_fast(client, w, w.users[0])
    stranger = quick_user(session)
    other_org = make_org(session, members={stranger: Role.ORGANISER})
    make_challenge(session, other_org, creator=stranger)
    session.commit()
    headers = auth_headers(app, stranger)
    resp = client.post(f"/api/v1/activities/{act['id']}/approve", json={}, headers=headers)
    assert resp.status_code == 403 and resp.json["type"].endswith("foreign-challenge")
    queue = client.get(f"/api/v1/challenges/{w.challenge.id}/review-queue", headers=headers)
    assert queue.status_code == 403
    assert points(session, w.challenge.id) == 0


def test_a_participant_cannot_approve_their_own_flagged_activity(app, client, session):
    w = make_world(app, session)
    act = _too_fast(client, w, w.users[0])
    resp = client.post(f"/api/v1/activities/{act['id']}/approve", json={}, headers=w.h(w.users[0]))
    assert resp.status_code == 403
    assert points(session, w.challenge.id) == 0


def test_approving_an_entry_that_is_not_flagged_is_a_conflict(app, client, session):
    w = make_world(app, session)
    act = post(client, w, w.users[0], {"type": "walking", "started_at": iso(ago(hours=3)),
                                       "duration_s": 600}).json
    resp = client.post(f"/api/v1/activities/{act['id']}/approve", json={}, headers=w.h(w.organiser))
    assert resp.status_code == 409 and resp.json["type"].endswith("not-flagged")


def test_approval_in_one_challenge_leaves_the_other_organisations_challenge_flagged(app, client, session):
    w = make_world(app, session)
    pat = w.users[0]
    boss = quick_user(session)
    employer = make_org(session, kind="employer", members={boss: Role.ORGANISER})
    work = make_challenge(session, employer, creator=boss, metric="distance_m")
    enrol(session, work, pat)
    session.commit()
    act = _too_fast(client, w, pat)
    assert {e["status"] for e in act["entries"]} == {"flagged"} and len(act["entries"]) == 2
    client.post(f"/api/v1/activities/{act['id']}/approve", json={}, headers=w.h(w.organiser))
    assert points(session, w.challenge.id, pat.id) == 60
    assert points(session, work.id, pat.id) == 0
    resp = client.post(f"/api/v1/activities/{act['id']}/approve", json={"challenge_id": work.id},
                       headers=auth_headers(app, boss))
    assert resp.status_code == 200
    assert points(session, work.id, pat.id) == 80_000


def test_many_decisions_at_once_each_answered_on_its_own(app, client, session):
    from tests.challenges.activity_helpers import walk

    w = make_world(app, session, participants=3)
    ann, ben, cleo = w.users
    fast_ann, fast_ben, fast_cleo = (_too_fast(client, w, u) for u in (ann, ben, cleo))
    fine = post(client, w, ann, walk(ago(hours=8), 20)).json
    url = f"/api/v1/challenges/{w.challenge.id}/review-queue/decisions"
    body = {"decisions": [{"activity_id": fast_ann["id"], "decision": "approve"},
                          {"activity_id": fast_ben["id"], "decision": "reject", "note": "a car ride"},
                          {"activity_id": fine["id"], "decision": "approve"},
                          {"activity_id": 999_999, "decision": "approve"}]}
    resp = client.post(url, json=body, headers={**w.h(w.organiser), "Idempotency-Key": "review-monday"})
    assert resp.status_code == 200, resp.json
    results = resp.json["results"]
    assert [(r["activity_id"], r["result"], r["status"]) for r in results[:2]] == [
        (fast_ann["id"], "approved", "accepted"), (fast_ben["id"], "rejected", "flagged")]
    assert results[2]["result"] == "not-decided" and results[2]["code"] == "not-flagged"
    assert results[3]["result"] == "not-decided" and results[3]["code"] == "activity-not-found"
    assert resp.json["counts"] == {"approved": 1, "rejected": 1, "not-decided": 2}
    assert points(session, w.challenge.id, ann.id) == 60 + 20 and points(session, w.challenge.id, ben.id) == 0
    queue = client.get(f"/api/v1/challenges/{w.challenge.id}/review-queue", headers=w.h(w.organiser)).json
    assert [i["activity"]["id"] for i in queue["items"]] == [fast_cleo["id"]]
    retry = client.post(url, json=body, headers={**w.h(w.organiser), "Idempotency-Key": "review-monday"})
    assert retry.json == resp.json and points(session, w.challenge.id, ann.id) == 80  # replayed, not redone


def test_many_decisions_need_the_organiser_and_a_sane_list(app, client, session):
    w = make_world(app, session)
    act = _too_fast(client, w, w.users[0])
    url = f"/api/v1/challenges/{w.challenge.id}/review-queue/decisions"
    one = {"decisions": [{"activity_id": act["id"], "decision": "approve"}]}
    assert client.post(url, json=one, headers=w.h(w.users[0])).status_code == 403
    assert client.post(url, json={"decisions": []}, headers=w.h(w.organiser)).status_code == 422
    bad = client.post(url, json={"decisions": [{"activity_id": act["id"], "decision": "maybe"}]},
                      headers=w.h(w.organiser))
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    too_many = {"decisions": [{"activity_id": act["id"], "decision": "reject"}] * 201}
    assert client.post(url, json=too_many, headers=w.h(w.organiser)).status_code == 422
    assert points(session, w.challenge.id) == 0
