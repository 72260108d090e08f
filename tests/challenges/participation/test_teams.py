"""Teams: who may create them, codes, size caps, and points that stay with the team after leaving."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from challenges.models import ChallengeFormat
from challenges.participation.enrolment import active_enrolments
from scoring import leaderboards
from scoring.types import Period, Scope
from service.clock import utcnow
from tests.challenges.conftest import Cast
from tests.challenges.factories import enrol, make_challenge, make_team, score_walk
from tests.factories import auth_headers, quick_user


@pytest.mark.parametrize(("who", "allowed", "status"), [
    ("organiser", False, 201), ("admin", False, 201), ("member", False, 403), ("outsider", False, 403),
    ("foreign_organiser", False, 403), ("outsider", True, 201)])
def test_who_may_create_teams(app: Flask, client: FlaskClient, session: Any, cast: Cast, who: str, allowed: bool,
                              status: int) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM, participants_create_teams=allowed)
    session.commit()
    resp = client.post(f"/api/v1/challenges/{challenge.id}/teams", json={"name": "Sales"},
                       headers=cast.headers(app, who))
    assert resp.status_code == status, resp.json
    if status == 201:
        assert resp.json["code"] and resp.json["name"] == "Sales"


def test_participant_who_creates_a_team_is_in_it(app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM, participants_create_teams=True)
    session.commit()
    headers = cast.headers(app, "outsider")
    team = client.post(f"/api/v1/challenges/{challenge.id}/teams", json={"name": "Runners"}, headers=headers).json
    mine = client.get(f"/api/v1/challenges/{challenge.id}/enrolment", headers=headers).json
    assert mine["team_id"] == team["id"] and team["members"] == 1
    dup = client.post(f"/api/v1/challenges/{challenge.id}/teams", json={"name": "Runners"},
                      headers=cast.headers(app, "organiser"))
    assert dup.status_code == 409 and dup.json["type"].endswith("/team-name-taken")


def test_team_codes_join_and_the_size_cap_holds(app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM, team_size_cap=2)
    team = make_team(session, challenge, cast.organiser, "Finance")
    people = [quick_user(session) for _ in range(3)]
    session.commit()
    url = f"/api/v1/challenges/{challenge.id}/enrolment"
    for person in people[:2]:
        resp = client.post(url, json={"team_code": team.code.lower()}, headers=auth_headers(app, person))
        assert resp.status_code == 201 and resp.json["team_id"] == team.id
    full = client.post(url, json={"team_code": team.code}, headers=auth_headers(app, people[2]))
    assert full.status_code == 409 and full.json["type"].endswith("/team-full")
    same_again = client.post(url, json={"team_code": team.code}, headers=auth_headers(app, people[0]))
    assert same_again.status_code == 201
    unknown = client.post(url, json={"team_code": "ZZZZZZZZ"}, headers=auth_headers(app, people[2]))
    assert unknown.status_code == 404 and unknown.json["type"].endswith("/team-code-unknown")
    listed = client.get(f"/api/v1/challenges/{challenge.id}/teams").json["items"]
    assert listed == [{"id": team.id, "challenge_id": challenge.id, "name": "Finance", "organisation_id": None,
                       "members": 2, "code": None}]
    client.delete(url, headers=auth_headers(app, people[0]))
    freed = client.post(url, json={"team_code": team.code}, headers=auth_headers(app, people[2]))
    assert freed.status_code == 201
    back = client.post(url, json={}, headers=auth_headers(app, people[0]))
    assert back.status_code == 409 and back.json["type"].endswith("/team-full")


def test_team_codes_do_not_apply_to_individual_challenges(app: Flask, client: FlaskClient, session: Any,
                                                          cast: Cast) -> None:
    challenge = make_challenge(session, cast.org)
    session.commit()
    resp = client.post(f"/api/v1/challenges/{challenge.id}/enrolment", json={"team_code": "ABCDEFGH"},
                       headers=cast.headers(app, "member"))
    assert resp.status_code == 400 and resp.json["type"].endswith("/no-teams")


def test_leaving_keeps_the_teams_past_points(session: Any, cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    team = make_team(session, challenge, cast.organiser, "Logistics")
    leaver, stayer = quick_user(session), quick_user(session)
    enrol(session, challenge, leaver, team_code=team.code)
    enrol(session, challenge, stayer, team_code=team.code)
    at = utcnow() - timedelta(hours=2)
    score_walk(session, leaver.id, at, "activity:1")
    score_walk(session, stayer.id, at, "activity:2")
    session.commit()
    from challenges.participation.enrolment import leave

    leave(session, challenge, leaver)
    score_walk(session, leaver.id, at, "activity:3")  # after leaving: counts nowhere
    session.commit()
    assert active_enrolments(session, leaver.id, at) == []
    page = leaderboards.board(session, challenge.id, Scope.TEAM, Period.ALL, tz=challenge.timezone)
    assert [(r.subject_id, r.points) for r in page.rows] == [(team.id, 60)]


@pytest.mark.postgres
def test_two_people_racing_for_the_last_place_in_a_team_get_one_place(app: Flask, session: Any,
                                                                      cast: Cast) -> None:
    import threading

    from challenges.models import Challenge, Team
    from challenges.participation.enrolment import join
    from service.db import db
    from service.errors import Conflict
    from service.models import User

    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM, team_size_cap=1)
    team = make_team(session, challenge, cast.organiser, "Solo")
    racers = [quick_user(session), quick_user(session)]
    session.commit()
    ids = (challenge.id, team.code, [r.id for r in racers], team.id)
    barrier, outcomes = threading.Barrier(2), []

    def race(user_id: int) -> None:
        with app.app_context():
            s = db.session
            c, u = s.get(Challenge, ids[0]), s.get(User, user_id)
            s.get(Team, ids[3])
            barrier.wait()
            try:
                join(s, c, u, team_code=ids[1])
                s.commit()
                outcomes.append("joined")
            except Conflict as exc:
                s.rollback()
                outcomes.append(exc.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=race, args=(uid,)) for uid in ids[2]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["joined", "team-full"]


def test_teams_are_a_page_in_name_order_with_their_member_counts(app: Flask, client: FlaskClient, session: Any,
                                                                 cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    teams = {name: make_team(session, challenge, cast.organiser, name) for name in ("Sales", "Finance", "Legal")}
    for person in (quick_user(session), quick_user(session)):
        enrol(session, challenge, person, team_code=teams["Sales"].code)
    session.commit()
    url = f"/api/v1/challenges/{challenge.id}/teams"
    first = client.get(f"{url}?limit=2").json
    rest = client.get(f"{url}?limit=2&cursor={first['next']}").json
    assert [(t["name"], t["members"]) for t in first["items"]] == [("Finance", 0), ("Legal", 0)]
    assert [(t["name"], t["members"]) for t in rest["items"]] == [("Sales", 2)]
    assert first["next"] and rest["next"] is None


def test_joining_a_team_challenge_without_a_team_says_the_activity_counts_for_no_team_and_how_to_get_one(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    steps = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    department = make_team(session, steps, cast.organiser, "Finance")
    open_teams = make_challenge(session, cast.org, format=ChallengeFormat.TEAM, participants_create_teams=True)
    solo = make_challenge(session, cast.org)
    session.commit()
    headers = cast.headers(app, "member")

    def join(challenge_id: int, **body: Any) -> Any:
        return client.post(f"/api/v1/challenges/{challenge_id}/enrolment", json=body, headers=headers)

    teamless = join(steps.id)
    assert teamless.status_code == 201 and teamless.json["team_id"] is None and teamless.json["team_needed"]
    hint = teamless.json["next_step"]
    assert "no team" in hint and "team_code" in hint and "organisers" in hint
    assert client.get(f"/api/v1/challenges/{steps.id}/enrolment", headers=headers).json["next_step"] == hint
    placed = join(steps.id, team_code=department.code)
    assert (placed.json["team_id"], placed.json["team_needed"], placed.json["next_step"]) == (department.id, False,
                                                                                            None)
    own = join(open_teams.id).json
    assert own["team_needed"] and f"POST /api/v1/challenges/{open_teams.id}/teams" in own["next_step"]
    alone = join(solo.id).json
    assert (alone["team_needed"], alone["next_step"]) == (False, None)
