"""Managing teams: renaming and new codes, deleting a team without history, placing people in teams, and
the team roster with each member's points (hidden members keep their alias before teammates)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from challenges.lifecycle import end_challenge
from challenges.models import ChallengeFormat, Enrolment
from scoring import leaderboards
from scoring.types import Period, Scope
from service.clock import utcnow
from tests.challenges.conftest import Cast
from tests.challenges.factories import enrol, make_challenge, make_team, score_walk
from tests.factories import auth_headers, quick_user


def _team_url(challenge_id: int, team_id: int, rest: str = "") -> str:
    return f"/api/v1/challenges/{challenge_id}/teams/{team_id}{rest}"


def test_an_organiser_renames_a_team_and_a_new_code_replaces_the_leaked_one(app: Flask, client: FlaskClient,
                                                                           session: Any, cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    team = make_team(session, challenge, cast.organiser, "Finanse")
    make_team(session, challenge, cast.organiser, "Sales")
    member = quick_user(session)
    enrol(session, challenge, member, team_code=team.code)
    session.commit()
    old_code = team.code
    resp = client.patch(_team_url(challenge.id, team.id), json={"name": " Finance ", "new_code": True},
                        headers=cast.headers(app, "organiser"))
    assert resp.status_code == 200, resp.json
    assert resp.json["name"] == "Finance" and resp.json["members"] == 1
    assert resp.json["code"] and resp.json["code"] != old_code
    newcomer = quick_user(session)
    session.commit()
    url = f"/api/v1/challenges/{challenge.id}/enrolment"
    stale = client.post(url, json={"team_code": old_code}, headers=auth_headers(app, newcomer))
    assert stale.status_code == 404 and stale.json["type"].endswith("/team-code-unknown")
    fresh = client.post(url, json={"team_code": resp.json["code"]}, headers=auth_headers(app, newcomer))
    assert fresh.status_code == 201 and fresh.json["team_id"] == team.id
    assert session.scalar(select(Enrolment.team_id).where(Enrolment.user_id == member.id)) == team.id
    taken = client.patch(_team_url(challenge.id, team.id), json={"name": "Sales"},
                         headers=cast.headers(app, "organiser"))
    assert taken.status_code == 409 and taken.json["type"].endswith("/team-name-taken")
    shown = client.get(_team_url(challenge.id, team.id)).json
    assert shown == {"id": team.id, "challenge_id": challenge.id, "name": "Finance", "organisation_id": None,
                     "members": 2, "code": None}


@pytest.mark.parametrize(("who", "status"), [("creator", 200), ("organiser", 200), ("teammate", 403),
                                              ("outsider", 403)])
def test_who_may_change_a_participant_made_team(app: Flask, client: FlaskClient, session: Any, cast: Cast,
                                                who: str, status: int) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM, participants_create_teams=True)
    creator, teammate = quick_user(session), quick_user(session)
    session.commit()
    team = client.post(f"/api/v1/challenges/{challenge.id}/teams", json={"name": "Runers"},
                       headers=auth_headers(app, creator)).json
    enrol(session, challenge, teammate, team_code=team["code"])
    session.commit()
    people = {"creator": creator, "teammate": teammate, "organiser": cast.organiser, "outsider": cast.outsider}
    resp = client.patch(_team_url(challenge.id, team["id"]), json={"name": "Runners"},
                        headers=auth_headers(app, people[who]))
    assert resp.status_code == status, resp.json
    if status == 403:
        assert resp.json["type"].endswith("/team-managers-only")
    assert client.get(_team_url(challenge.id, team["id"])).json["name"] == ("Runners" if status == 200 else "Runers")


def test_a_team_is_deleted_only_when_empty_and_without_points(app: Flask, client: FlaskClient, session: Any,
                                                              cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    empty, scored = make_team(session, challenge, cast.organiser, "Typo"), make_team(session, challenge,
                                                                                    cast.organiser, "Logistics")
    walker = quick_user(session)
    enrol(session, challenge, walker, team_code=scored.code)
    score_walk(session, walker.id, utcnow() - timedelta(hours=1), "activity:1")
    session.commit()
    organiser = cast.headers(app, "organiser")
    assert client.delete(_team_url(challenge.id, empty.id), headers=cast.headers(app, "member")).status_code == 403
    busy = client.delete(_team_url(challenge.id, scored.id), headers=organiser)
    assert busy.status_code == 409 and busy.json["type"].endswith("/team-not-empty")
    client.delete(f"/api/v1/challenges/{challenge.id}/enrolment", headers=auth_headers(app, walker))
    history = client.delete(_team_url(challenge.id, scored.id), headers=organiser)
    assert history.status_code == 409 and history.json["type"].endswith("/team-has-points")
    assert client.delete(_team_url(challenge.id, empty.id), headers=organiser).status_code == 204
    assert client.get(_team_url(challenge.id, empty.id)).status_code == 404
    assert [t["name"] for t in client.get(f"/api/v1/challenges/{challenge.id}/teams").json["items"]] == [
        "Logistics"]
    page = leaderboards.board(session, challenge.id, Scope.TEAM, Period.ALL, tz=challenge.timezone)
    assert [(r.subject_id, r.points) for r in page.rows] == [(scored.id, 30)]


def test_deleting_a_team_a_participant_left_keeps_their_enrolment_without_a_team(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    team = make_team(session, challenge, cast.organiser, "Short-lived", organisation_id=cast.org.id)
    person = quick_user(session)
    assert enrol(session, challenge, person, team_code=team.code).organisation_id == cast.org.id
    session.commit()
    client.delete(f"/api/v1/challenges/{challenge.id}/enrolment", headers=auth_headers(app, person))
    assert client.delete(_team_url(challenge.id, team.id), headers=cast.headers(app, "organiser")).status_code == 204
    back = client.post(f"/api/v1/challenges/{challenge.id}/enrolment", json={}, headers=auth_headers(app, person))
    assert back.status_code == 201 and back.json["team_id"] is None and back.json["organisation_id"] is None


def test_an_organiser_places_a_participant_in_a_team_and_takes_them_out(app: Flask, client: FlaskClient,
                                                                       session: Any, cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM, team_size_cap=1)
    sales, finance = make_team(session, challenge, cast.organiser, "Sales"), make_team(session, challenge,
                                                                                      cast.organiser, "Finance")
    moved, other, stranger = quick_user(session), quick_user(session), quick_user(session)
    enrol(session, challenge, moved, team_code=sales.code)
    enrol(session, challenge, other, team_code=finance.code)
    at = utcnow() - timedelta(hours=3)
    score_walk(session, moved.id, at, "activity:1")
    session.commit()
    organiser = cast.headers(app, "organiser")
    full = client.put(_team_url(challenge.id, finance.id, f"/members/{moved.id}"), headers=organiser)
    assert full.status_code == 409 and full.json["type"].endswith("/team-full")
    out = client.delete(_team_url(challenge.id, finance.id, f"/members/{other.id}"), headers=organiser)
    assert out.status_code == 200 and out.json["team_id"] is None
    placed = client.put(_team_url(challenge.id, finance.id, f"/members/{moved.id}"), headers=organiser)
    assert placed.status_code == 200 and placed.json["team_id"] == finance.id
    again = client.put(_team_url(challenge.id, finance.id, f"/members/{moved.id}"), headers=organiser)
    assert again.status_code == 200 and again.json["team_id"] == finance.id
    score_walk(session, moved.id, at + timedelta(hours=1), "activity:2")  # after the move: for Finance
    session.commit()
    page = leaderboards.board(session, challenge.id, Scope.TEAM, Period.ALL, tz=challenge.timezone)
    assert sorted((r.subject_id, r.points) for r in page.rows) == sorted([(sales.id, 30), (finance.id, 30)])
    nobody = client.put(_team_url(challenge.id, sales.id, f"/members/{stranger.id}"), headers=organiser)
    assert nobody.status_code == 404 and nobody.json["type"].endswith("/not-enrolled")
    not_there = client.delete(_team_url(challenge.id, sales.id, f"/members/{other.id}"), headers=organiser)
    assert not_there.status_code == 404 and not_there.json["type"].endswith("/not-in-team")
    member = client.put(_team_url(challenge.id, sales.id, f"/members/{other.id}"),
                        headers=cast.headers(app, "member"))
    assert member.status_code == 403


def test_the_roster_shows_members_with_their_points_and_never_a_hidden_members_name_with_figures(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    team, rival = make_team(session, challenge, cast.organiser, "Blue"), make_team(session, challenge,
                                                                                   cast.organiser, "Red")
    ann, hidden, ben = (quick_user(session, display_name="Ann"), quick_user(session, display_name="Secret",
                        hide_from_leaderboards=True), quick_user(session, display_name="Ben"))
    outsider = quick_user(session)
    for person in (ann, hidden, ben):
        enrol(session, challenge, person, team_code=team.code)
    enrol(session, challenge, outsider, team_code=rival.code)
    at = utcnow() - timedelta(hours=5)
    score_walk(session, ann.id, at, "activity:1")
    score_walk(session, ann.id, at + timedelta(hours=1), "activity:2")
    score_walk(session, hidden.id, at, "activity:3")
    session.commit()
    url = _team_url(challenge.id, team.id, "/members")
    seen = client.get(url, headers=auth_headers(app, ben))
    assert seen.status_code == 200, seen.json
    alias = leaderboards.alias_for(hidden.id)
    assert [(m["user_id"], m["name"], m["is_alias"], m["is_me"], m["points"]) for m in seen.json["items"]] == [
        (ann.id, "Ann", False, False, 60), (None, alias, True, False, 30), (ben.id, "Ben", False, True, 0)]
    assert seen.json["next"] is None
    by_organiser = client.get(url, headers=cast.headers(app, "organiser")).json["items"]
    # organisers see who is in the team, but a hidden member's figures stay apart from their name
    assert [(m["user_id"], m["name"], m["points"]) for m in by_organiser] == [
        (ann.id, "Ann", 60), (hidden.id, "Secret", None), (ben.id, "Ben", 0)]
    first = client.get(url + "?limit=2", headers=auth_headers(app, hidden)).json
    assert [m["name"] for m in first["items"]] == ["Ann", "Secret"] and first["items"][1]["is_me"]
    rest = client.get(url + f"?limit=2&cursor={first['next']}", headers=auth_headers(app, hidden)).json
    assert [m["name"] for m in rest["items"]] == ["Ben"] and rest["next"] is None
    other_team = client.get(url, headers=auth_headers(app, outsider))
    assert other_team.status_code == 403 and other_team.json["type"].endswith("/team-members-only")
    bad = client.get(url + "?cursor=nonsense", headers=auth_headers(app, ben))
    assert bad.status_code == 400 and bad.json["type"].endswith("/bad-cursor")


def test_teams_are_final_once_the_challenge_has_ended(app: Flask, client: FlaskClient, session: Any,
                                                      cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    team = make_team(session, challenge, cast.organiser, "Green")
    person = quick_user(session)
    enrol(session, challenge, person, team_code=team.code)
    end_challenge(session, challenge)
    session.commit()
    organiser = cast.headers(app, "organiser")
    renamed = client.patch(_team_url(challenge.id, team.id), json={"name": "Olive"}, headers=organiser)
    assert renamed.status_code == 409 and renamed.json["type"].endswith("/challenge-ended")
    out = client.delete(_team_url(challenge.id, team.id, f"/members/{person.id}"), headers=organiser)
    assert out.status_code == 409 and out.json["type"].endswith("/challenge-ended")


def test_team_management_answers_404_for_a_team_of_another_challenge_and_409_without_teams(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    one = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    other = make_challenge(session, cast.org, format=ChallengeFormat.TEAM)
    theirs = make_team(session, other, cast.organiser, "Elsewhere")
    city = make_challenge(session, cast.org, format=ChallengeFormat.ORGANISATION)
    town = make_team(session, city, cast.organiser, "Tampere", organisation_id=cast.org.id)
    person = quick_user(session)
    session.commit()
    organiser = cast.headers(app, "organiser")
    wrong = client.patch(_team_url(one.id, theirs.id), json={"name": "Mine"}, headers=organiser)
    assert wrong.status_code == 404 and wrong.json["type"].endswith("/team-not-found")
    no_teams = client.put(_team_url(city.id, town.id, f"/members/{person.id}"), headers=organiser)
    assert no_teams.status_code == 409 and no_teams.json["type"].endswith("/no-teams")
    empty_name = client.patch(_team_url(other.id, theirs.id), json={"name": ""}, headers=organiser)
    assert empty_name.status_code == 422
    unknown = client.patch(_team_url(other.id, theirs.id), json={"colour": "red"}, headers=organiser)
    assert unknown.status_code == 422


def test_in_organisation_format_the_roster_is_the_organisations_participants(app: Flask, client: FlaskClient,
                                                                               session: Any, cast: Cast) -> None:
    city = make_challenge(session, cast.org, format=ChallengeFormat.ORGANISATION)
    home = make_team(session, city, cast.organiser, "Tampere", organisation_id=cast.org.id)
    away = make_team(session, city, cast.organiser, "Espoo", organisation_id=cast.other_org.id)
    enrol(session, city, cast.member)
    enrol(session, city, cast.foreign_organiser)
    score_walk(session, cast.member.id, utcnow() - timedelta(hours=2), "activity:1")
    session.commit()
    roster = client.get(_team_url(city.id, home.id, "/members"), headers=cast.headers(app, "member")).json
    assert [(m["user_id"], m["points"]) for m in roster["items"]] == [(cast.member.id, 30)]
    organiser = cast.headers(app, "organiser")
    scored = client.delete(_team_url(city.id, home.id), headers=organiser)
    assert scored.status_code == 409 and scored.json["type"].endswith("/team-not-empty")
    client.delete(f"/api/v1/challenges/{city.id}/enrolment", headers=cast.headers(app, "member"))
    history = client.delete(_team_url(city.id, home.id), headers=organiser)
    assert history.status_code == 409 and history.json["type"].endswith("/team-has-points")
    busy = client.delete(_team_url(city.id, away.id), headers=organiser)
    assert busy.status_code == 409 and busy.json["type"].endswith("/team-not-empty")
