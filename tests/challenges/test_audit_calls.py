"""Organisers' actions on challenges, badges, reviews, teams and locations leave an audit event, after real API
calls: actor, organisation, target and a detail without anyone's figures; a refused action leaves none."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from challenges.models import ChallengeFormat, Enrolment
from service.audit import ACTIONS
from service.models import AuditEvent, Role, User
from tests.challenges.activity_helpers import ago, iso, make_world, post
from tests.challenges.conftest import Cast
from tests.challenges.factories import challenge_body, enrol, make_challenge, make_team
from tests.factories import auth_headers, make_org, quick_user


def _events(session: Any, action: str | None = None) -> list[AuditEvent]:
    session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    return list(session.scalars(query.where(AuditEvent.action == action) if action else query))


def _one(session: Any, action: str) -> AuditEvent:
    [event] = _events(session, action)
    return event


def _is(event: AuditEvent, actor: User, organisation_id: int, target: tuple[str, int], **detail: Any) -> None:
    assert (event.actor_id, event.organisation_id, event.target_type, event.target_id) == (
        actor.id, organisation_id, *target)
    assert event.action in ACTIONS
    for key, value in detail.items():
        assert (event.detail or {})[key] == value, key


def test_a_challenge_created_edited_published_ended_copied_and_deleted_is_on_the_trail(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    h = cast.headers(app, "organiser")
    created = client.post("/api/v1/challenges", json=challenge_body(cast.org.id), headers=h)
    assert created.status_code == 201, created.json
    cid = created.json["id"]
    _is(_one(session, "challenge.created"), cast.organiser, cast.org.id, ("challenge", cid), format="individual",
        setting="public_space")
    edited = client.patch(f"/api/v1/challenges/{cid}", json={"title": "Walk more", "description": "Any pace",
                                                              "goal": None}, headers=h)
    assert edited.status_code == 200, edited.json
    _is(_one(session, "challenge.updated"), cast.organiser, cast.org.id, ("challenge", cid),
        fields=["description", "title"])
    assert client.patch(f"/api/v1/challenges/{cid}", json={"title": "Walk more"}, headers=h).status_code == 200
    assert len(_events(session, "challenge.updated")) == 1, "an edit that changes nothing is not an event"
    copy = client.post(f"/api/v1/challenges/{cid}/copy", json={"starts_at": "2031-05-01T00:00:00",
                                                               "ends_at": "2031-06-01T00:00:00"}, headers=h)
    assert copy.status_code == 201, copy.json
    _is(_one(session, "challenge.copied"), cast.organiser, cast.org.id, ("challenge", copy.json["id"]),
        source_challenge_id=cid)
    assert client.delete(f"/api/v1/challenges/{copy.json['id']}", headers=h).status_code == 204
    _is(_one(session, "challenge.deleted"), cast.organiser, cast.org.id, ("challenge", copy.json["id"]),
        title="Walk more")
    assert client.post(f"/api/v1/challenges/{cid}/publish", headers=h).status_code == 200
    _is(_one(session, "challenge.published"), cast.organiser, cast.org.id, ("challenge", cid))
    assert client.post(f"/api/v1/challenges/{cid}/end", headers=h).status_code == 200
    _is(_one(session, "challenge.ended"), cast.organiser, cast.org.id, ("challenge", cid))


def test_a_refused_action_records_nothing(app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    challenge = make_challenge(session, cast.org)  # running and published
    session.commit()
    h = cast.headers(app, "organiser")
    url = f"/api/v1/challenges/{challenge.id}"
    assert client.post(f"{url}/publish", headers=h).status_code == 409
    assert client.delete(url, headers=h).status_code == 409
    locked = client.patch(url, json={"title": "New title", "metric": "steps"}, headers=h)
    assert locked.status_code == 409 and locked.json["type"].endswith("rules-locked")
    assert client.post(f"{url}/end", headers=cast.headers(app, "member")).status_code in (403, 404)
    assert _events(session) == []


def test_a_change_of_time_zone_names_the_dates_it_moved(app: Flask, client: FlaskClient, session: Any,
                                                       cast: Cast) -> None:
    h = cast.headers(app, "organiser")
    cid = client.post("/api/v1/challenges", json=challenge_body(cast.org.id), headers=h).json["id"]
    assert client.patch(f"/api/v1/challenges/{cid}", json={"timezone": "Europe/Madrid"}, headers=h).status_code == 200
    assert _one(session, "challenge.updated").detail == {"fields": ["ends_at", "starts_at", "timezone"]}


def test_badges_defined_changed_and_deleted_are_on_the_trail(app: Flask, client: FlaskClient, session: Any) -> None:
    w = make_world(app, session)
    base = f"/api/v1/challenges/{w.challenge.id}/badges"
    created = client.post(base, json={"name": "Forty minutes", "criteria": {"kind": "total_at_least", "points": 40}},
                          headers=w.h(w.organiser))
    assert created.status_code == 201, created.json
    code = created.json["code"]
    badge = _one(session, "badge.created")
    _is(badge, w.organiser, w.org.id, ("badge", badge.target_id), challenge_id=w.challenge.id, code=code)
    assert client.patch(f"{base}/{code}", json={"name": "Forty", "description": "40 minutes"},
                        headers=w.h(w.organiser)).status_code == 200
    _is(_one(session, "badge.updated"), w.organiser, w.org.id, ("badge", badge.target_id),
        fields=["description", "name"], code=code)
    assert client.delete(f"{base}/{code}", headers=w.h(w.organiser)).status_code == 204
    _is(_one(session, "badge.deleted"), w.organiser, w.org.id, ("badge", badge.target_id), code=code)


def _too_fast(client: FlaskClient, w: Any, user: User) -> dict[str, Any]:
    return post(client, w, user, {"type": "cycling", "started_at": iso(ago(hours=3)), "duration_s": 3600,
                                  "distance_m": 80_000}).json


def test_approving_and_rejecting_record_the_challenge_and_the_flag_code_never_the_figures(
        app: Flask, client: FlaskClient, session: Any) -> None:
    w = make_world(app, session, participants=2)
    first, second = _too_fast(client, w, w.users[0]), _too_fast(client, w, w.users[1])
    assert client.post(f"/api/v1/activities/{first['id']}/approve", json={},
                       headers=w.h(w.organiser)).status_code == 200
    approved = _one(session, "activity.approved")
    _is(approved, w.organiser, w.org.id, ("activity", first["id"]), challenge_id=w.challenge.id, flags=["too-fast"])
    assert client.post(f"/api/v1/activities/{second['id']}/reject", json={"note": "80 km in an hour: a car"},
                       headers=w.h(w.organiser)).status_code == 200
    rejected = _one(session, "activity.rejected")
    _is(rejected, w.organiser, w.org.id, ("activity", second["id"]), note=True, flags=["too-fast"])
    assert "80" not in str(approved.detail) + str(rejected.detail) and "car" not in str(rejected.detail)
    assert client.post(f"/api/v1/activities/{first['id']}/approve", json={},
                       headers=w.h(w.organiser)).status_code == 409
    assert len(_events(session)) == 2


def test_a_decision_in_two_organisations_is_recorded_in_the_one_it_was_made_in(
        app: Flask, client: FlaskClient, session: Any) -> None:
    w = make_world(app, session)
    boss = quick_user(session)
    employer = make_org(session, kind="employer", members={boss: Role.ORGANISER})
    work = make_challenge(session, employer, creator=boss, metric="distance_m")
    enrol(session, work, w.users[0])
    session.commit()
    act = _too_fast(client, w, w.users[0])
    assert client.post(f"/api/v1/activities/{act['id']}/approve", json={}, headers=w.h(w.organiser)).status_code == 200
    [event] = _events(session)
    assert (event.organisation_id, event.detail["challenge_id"]) == (w.org.id, w.challenge.id)


def test_bulk_decisions_record_one_event_per_decision_made(app: Flask, client: FlaskClient, session: Any) -> None:
    w = make_world(app, session, participants=3)
    acts = [_too_fast(client, w, user)["id"] for user in w.users]
    resp = client.post(f"/api/v1/challenges/{w.challenge.id}/review-queue/decisions", headers=w.h(w.organiser),
                       json={"decisions": [{"activity_id": acts[0], "decision": "approve"},
                                           {"activity_id": acts[1], "decision": "reject"},
                                           {"activity_id": acts[0], "decision": "reject"},
                                           {"activity_id": 999999, "decision": "approve"}]})
    assert resp.status_code == 200 and resp.json["counts"] == {"approved": 1, "rejected": 1, "not-decided": 2}
    assert [(e.action, e.target_id, e.detail["bulk"]) for e in _events(session)] == [
        ("activity.approved", acts[0], True), ("activity.rejected", acts[1], True)]
    assert _events(session)[1].detail["note"] is False


def test_team_changes_by_organisers_are_on_the_trail_with_the_person_moved(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    other = make_team(session, challenge, cast.organiser, "Sales")
    enrol(session, challenge, cast.member, team_code=other.code)
    session.commit()
    h = cast.headers(app, "organiser")
    base = f"/api/v1/challenges/{challenge.id}/teams"
    created = client.post(base, json={"name": "Finance"}, headers=h)
    assert created.status_code == 201, created.json
    tid = created.json["id"]
    _is(_one(session, "team.created"), cast.organiser, cast.org.id, ("team", tid), challenge_id=challenge.id)
    assert client.patch(f"{base}/{tid}", json={"name": "Finances", "new_code": True}, headers=h).status_code == 200
    _is(_one(session, "team.renamed"), cast.organiser, cast.org.id, ("team", tid))
    _is(_one(session, "team.code_renewed"), cast.organiser, cast.org.id, ("team", tid))
    assert client.put(f"{base}/{tid}/members/{cast.member.id}", headers=h).status_code == 200
    assert client.put(f"{base}/{tid}/members/{cast.member.id}", headers=h).status_code == 200
    _is(_one(session, "team.member_assigned"), cast.organiser, cast.org.id, ("team", tid), user_id=cast.member.id)
    assert client.delete(f"{base}/{tid}/members/{cast.member.id}", headers=h).status_code == 200
    _is(_one(session, "team.member_removed"), cast.organiser, cast.org.id, ("team", tid), user_id=cast.member.id)
    assert session.scalar(select(Enrolment.team_id).where(Enrolment.user_id == cast.member.id)) is None
    assert client.delete(f"{base}/{other.id}", headers=h).status_code == 204
    _is(_one(session, "team.deleted"), cast.organiser, cast.org.id, ("team", other.id), name="Sales")


def test_a_participant_managing_their_own_team_is_not_an_admin_action(app: Flask, client: FlaskClient, session: Any,
                                                                      cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM, participants_create_teams=True)
    session.commit()
    h = auth_headers(app, cast.outsider)
    team = client.post(f"/api/v1/challenges/{challenge.id}/teams", json={"name": "Runners"}, headers=h)
    assert team.status_code == 201, team.json
    renamed = client.patch(f"/api/v1/challenges/{challenge.id}/teams/{team.json['id']}", json={"name": "Joggers"},
                           headers=h)
    assert renamed.status_code == 200
    assert _events(session) == []


def test_locations_added_edited_and_archived_are_on_the_trail(app: Flask, client: FlaskClient, session: Any,
                                                             cast: Cast) -> None:
    challenge = make_challenge(session, cast.org)
    session.commit()
    h = cast.headers(app, "admin")
    base = f"/api/v1/challenges/{challenge.id}/locations"
    created = client.post(base, json={"name": "Park gym", "lat": 61.5, "lon": 23.76}, headers=h)
    assert created.status_code == 201, created.json
    lid = created.json["id"]
    _is(_one(session, "location.created"), cast.admin, cast.org.id, ("location", lid), challenge_id=challenge.id)
    assert client.patch(f"{base}/{lid}", json={"radius_m": 120, "rotate_qr_secret": True},
                        headers=h).status_code == 200
    event = _one(session, "location.updated")
    _is(event, cast.admin, cast.org.id, ("location", lid), fields=["qr_secret", "radius_m"])
    assert client.delete(f"{base}/{lid}", headers=h).status_code == 204
    assert client.delete(f"{base}/{lid}", headers=h).status_code == 404
    _is(_one(session, "location.archived"), cast.admin, cast.org.id, ("location", lid))


def test_a_retried_create_replays_its_answer_and_records_once(app: Flask, client: FlaskClient, session: Any,
                                                              cast: Cast) -> None:
    h = {**cast.headers(app, "organiser"), "Idempotency-Key": "create-walk-1"}
    first = client.post("/api/v1/challenges", json=challenge_body(cast.org.id), headers=h)
    again = client.post("/api/v1/challenges", json=challenge_body(cast.org.id), headers=h)
    assert first.status_code == again.status_code == 201 and first.json["id"] == again.json["id"]
    assert [(e.action, e.target_id) for e in _events(session)] == [("challenge.created", first.json["id"])]
