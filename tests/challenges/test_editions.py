"""Running a challenge again (a copy as a new draft) and deleting a draft that was a mistake."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from challenges.models import Challenge, ChallengeFormat, ChallengeStatus, Enrolment, Location, Team, Visibility
from challenges.places.locations import archive_location, create_location
from notifications.models import Announcement, Nudge
from scoring import badge_definitions
from scoring.models import BadgeAward, BadgeDefinition, LeaderboardTotal
from service.clock import utcnow
from tests.challenges.conftest import Cast
from tests.challenges.factories import challenge_body, enrol, make_challenge, make_team, score_walk
from tests.factories import quick_user


def _count(session: Any, model: Any, challenge_id: int) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.challenge_id == challenge_id))


def test_a_copy_is_a_draft_with_the_rules_teams_and_places_but_none_of_the_history(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    source = make_challenge(session, cast.org, format=ChallengeFormat.TEAM, visibility=Visibility.INVITE,
                            allowed_types=["walking", "cycling"], daily_cap=90, team_size_cap=12, grace_days=3,
                            vigorous_counts_double=True, plausibility={"steps_flag_per_day": 60000},
                            description="Walk to work in May", region="Pirkanmaa")
    blue, red = make_team(session, source, cast.organiser, "Blue"), make_team(session, source, cast.organiser, "Red")
    park = create_location(session, source, {"name": "Park gym", "lat": 61.5, "lon": 23.76, "radius_m": 80.0})
    gone = create_location(session, source, {"name": "Closed pier", "lat": 61.4, "lon": 23.7})
    archive_location(session, gone)
    spots = badge_definitions.define(session, source.id, name="Every spot", description="All the park gyms.",
                                     criteria={"kind": "checkin_locations", "count": 1})
    walker = quick_user(session)
    enrol(session, source, walker, team_code=blue.code, invite_code=source.invite_code)
    score_walk(session, walker.id, utcnow() - timedelta(hours=1), "activity:1")
    session.add(BadgeAward(user_id=walker.id, badge_id=spots.id, contest_id=source.id, awarded_at=utcnow()))
    session.commit()
    resp = client.post(f"/api/v1/challenges/{source.id}/copy", headers=cast.headers(app, "organiser"),
                       json={"starts_at": "2031-05-01T00:00:00", "ends_at": "2031-06-01T00:00:00"})
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert body["status"] == "draft" and body["id"] != source.id and body["title"] == source.title
    assert body["starts_at"].startswith("2031-05-01T00:00:00") and body["ends_at"].startswith("2031-06-01T00:00:00")
    copy = session.get(Challenge, body["id"])
    for key in ("description", "setting", "metric", "format", "timezone", "visibility", "allowed_types", "daily_cap",
                "vigorous_counts_double", "grace_days", "region", "team_size_cap", "plausibility",
                "organisation_id"):
        assert getattr(copy, key) == getattr(source, key), key
    assert copy.invite_code and copy.invite_code != source.invite_code
    copied_teams = session.scalars(select(Team).where(Team.challenge_id == copy.id).order_by(Team.name)).all()
    assert [t.name for t in copied_teams] == ["Blue", "Red"]
    assert not {t.code for t in copied_teams} & {blue.code, red.code}
    places = session.scalars(select(Location).where(Location.challenge_id == copy.id)).all()
    assert [(p.name, p.lat, p.lon, p.radius_m) for p in places] == [("Park gym", 61.5, 23.76, 80.0)]
    assert places[0].qr_secret != park.qr_secret
    assert _count(session, Enrolment, copy.id) == 0
    assert session.scalar(select(func.count()).where(LeaderboardTotal.contest_id == copy.id)) == 0
    own = badge_definitions.for_contest(session, copy.id)
    copied_badges = [(b.code, b.name, b.description, b.criteria) for b in own if b.contest_id == copy.id]
    assert copied_badges == [(f"c{copy.id}-every-spot", "Every spot", "All the park gyms.",
                              {"kind": "checkin_locations", "count": 1})]
    assert session.scalar(select(func.count()).select_from(BadgeAward).where(BadgeAward.contest_id == copy.id)) == 0
    assert session.get(Challenge, source.id).status == ChallengeStatus.PUBLISHED
    assert _count(session, Team, source.id) == 2 and _count(session, Enrolment, source.id) == 1


def test_a_copy_can_leave_teams_and_places_behind_and_take_a_new_title(app: Flask, client: FlaskClient,
                                                                        session: Any, cast: Cast) -> None:
    source = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    make_team(session, source, cast.organiser, "Blue")
    create_location(session, source, {"name": "Park gym", "lat": 61.5, "lon": 23.76})
    session.commit()
    resp = client.post(f"/api/v1/challenges/{source.id}/copy", headers=cast.headers(app, "organiser"),
                       json={"title": "Bike May 2031", "starts_at": "2031-05-01T00:00:00+03:00",
                             "ends_at": "2031-06-01T00:00:00+03:00", "teams": False, "locations": False})
    assert resp.status_code == 201, resp.json
    assert resp.json["title"] == "Bike May 2031"
    assert _count(session, Team, resp.json["id"]) == 0 and _count(session, Location, resp.json["id"]) == 0


def test_copying_needs_an_organiser_and_a_valid_window(app: Flask, client: FlaskClient, session: Any,
                                                       cast: Cast) -> None:
    source = make_challenge(session, cast.org)
    session.commit()
    url = f"/api/v1/challenges/{source.id}/copy"
    window = {"starts_at": "2031-05-01T00:00:00", "ends_at": "2031-06-01T00:00:00"}
    assert client.post(url, json=window, headers=cast.headers(app, "member")).status_code == 403
    assert client.post(url, json=window, headers=cast.headers(app, "foreign_organiser")).status_code == 403
    backwards = client.post(url, json={"starts_at": window["ends_at"], "ends_at": window["starts_at"]},
                            headers=cast.headers(app, "organiser"))
    assert backwards.status_code == 400 and backwards.json["type"].endswith("/bad-window")
    missing = client.post(url, json={"starts_at": window["starts_at"]}, headers=cast.headers(app, "organiser"))
    assert missing.status_code == 422 and "ends_at" in missing.json["errors"]
    assert client.post("/api/v1/challenges/999999/copy", json=window,
                       headers=cast.headers(app, "organiser")).status_code == 404
    before = session.scalar(select(func.count()).select_from(Challenge))
    key = {"Idempotency-Key": "copy-once-1", **cast.headers(app, "organiser")}
    first = client.post(url, json=window, headers=key)
    again = client.post(url, json=window, headers=key)
    assert first.status_code == 201 and again.json["id"] == first.json["id"]
    assert session.scalar(select(func.count()).select_from(Challenge)) == before + 1


def test_a_draft_is_deleted_with_its_teams_places_badges_and_announcements(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    organiser = cast.headers(app, "organiser")
    draft = client.post("/api/v1/challenges", json=challenge_body(cast.org.id, format="team"), headers=organiser).json
    url = f"/api/v1/challenges/{draft['id']}"
    assert client.post(f"{url}/teams", json={"name": "Blue"}, headers=organiser).status_code == 201
    assert client.post(f"{url}/locations", json={"name": "Gym", "lat": 61.5, "lon": 23.7},
                       headers=organiser).status_code == 201
    said = client.post(f"{url}/announcements", json={"title": "Soon", "body": "Get ready"}, headers=organiser)
    assert said.status_code == 201, said.json
    badge = client.post(f"{url}/badges", headers=organiser, json={
        "name": "Gym regular", "criteria": {"kind": "checkin_locations", "count": 1}})
    assert badge.status_code == 201, badge.json
    assert client.delete(url, headers=cast.headers(app, "member")).status_code == 403
    assert client.delete(url, headers=organiser).status_code == 204
    assert client.get(url, headers=organiser).status_code == 404
    for model in (Team, Location, Announcement, Nudge):
        assert _count(session, model, draft["id"]) == 0, model.__name__
    assert session.scalar(select(func.count()).select_from(BadgeDefinition)
                          .where(BadgeDefinition.contest_id == draft["id"])) == 0


def test_a_published_challenge_is_never_deleted(app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    running = make_challenge(session, cast.org)
    session.commit()
    resp = client.delete(f"/api/v1/challenges/{running.id}", headers=cast.headers(app, "organiser"))
    assert resp.status_code == 409 and resp.json["type"].endswith("/not-a-draft")
    assert client.get(f"/api/v1/challenges/{running.id}").status_code == 200
