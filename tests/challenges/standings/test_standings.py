"""Leaderboard endpoints (ranks, names, aliases, around me), my progress and collective progress."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from challenges.lifecycle import rules_for
from challenges.models import ChallengeFormat
from challenges.participation.enrolment import subject_for
from scoring import ledger
from scoring.types import ActivityFacts
from service.clock import utcnow
from tests.challenges.conftest import Cast
from tests.challenges.factories import enrol, make_challenge, make_team, midday_soon, walk
from tests.factories import auth_headers, quick_user


@pytest.fixture(autouse=True)
def _midday() -> Any:
    with time_machine.travel(midday_soon()):
        yield


@pytest.fixture
def league(session: Any, cast: Cast) -> SimpleNamespace:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.TEAM, goal=100)
    red, blue = make_team(session, challenge, cast.organiser, "Red"), make_team(session, challenge, cast.organiser,
                                                                               "Blue")
    ann, bob = quick_user(session, display_name="Ann"), quick_user(session, display_name="Bob")
    cid = quick_user(session, display_name="Cid", hide_from_leaderboards=True)
    dee = quick_user(session, display_name="Dee")
    for person, team in ((ann, red), (bob, red), (cid, blue), (dee, blue)):
        enrol(session, challenge, person, team_code=team.code)
    walk(session, ann, 40, key="a1")
    walk(session, bob, 30, key="b1", days_ago=1)
    walk(session, cid, 40, key="c1")
    walk(session, dee, 10, key="d1")
    session.commit()
    return SimpleNamespace(challenge=challenge, red=red, blue=blue, ann=ann, bob=bob, cid=cid, dee=dee,
                           url=f"/api/v1/challenges/{challenge.id}")


def test_the_contest_line_is_not_a_board_anyone_can_ask_for(client: FlaskClient, league: SimpleNamespace) -> None:
    resp = client.get(f"{league.url}/leaderboards?scope=contest")
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json" and "scope" in resp.json["errors"]


def test_user_board_ranks_ties_and_hides_hidden_people_behind_an_alias(app: Flask, client: FlaskClient,
                                                                       league: SimpleNamespace) -> None:
    rows = client.get(f"{league.url}/leaderboards?scope=user", headers=auth_headers(app, league.dee)).json["rows"]
    assert [(r["rank"], r["points"]) for r in rows] == [(1, 40), (1, 40), (3, 30), (4, 10)]
    names = {r["name"] for r in rows}
    assert {"Ann", "Bob", "Dee"} <= names and "Cid" not in names
    hidden = next(r for r in rows if r["is_alias"])
    assert hidden["name"].startswith("Participant #") and hidden["id"] is None


def test_team_board_names_teams_and_pages_with_a_cursor(client: FlaskClient, league: SimpleNamespace) -> None:
    board = client.get(f"{league.url}/leaderboards?scope=team&limit=1").json
    assert board["rows"] == [{"rank": 1, "id": league.red.id, "name": "Red", "points": 70, "is_alias": False,
                              "is_me": False}]
    rest = client.get(f"{league.url}/leaderboards?scope=team&limit=1&cursor={board['next']}").json
    assert [(r["rank"], r["name"], r["points"]) for r in rest["rows"]] == [(2, "Blue", 50)]
    assert rest["next"] is None  # Blue is the last team: no cursor to an empty page


def test_a_board_of_exactly_limit_rows_has_no_next(client: FlaskClient, league: SimpleNamespace) -> None:
    teams = client.get(f"{league.url}/leaderboards?scope=team&limit=2").json
    assert [r["name"] for r in teams["rows"]] == ["Red", "Blue"] and teams["next"] is None
    people = client.get(f"{league.url}/leaderboards?scope=user&limit=4").json
    assert len(people["rows"]) == 4 and people["next"] is None


def test_day_board_counts_only_that_local_day(app: Flask, client: FlaskClient, league: SimpleNamespace) -> None:
    today = client.get(f"{league.url}/leaderboards?scope=user&period=day").json
    assert {r["points"] for r in today["rows"]} == {40, 10}
    yesterday_local = (utcnow() - timedelta(days=1, minutes=35)).astimezone(
        __import__("zoneinfo").ZoneInfo(league.challenge.timezone)).date()
    past = client.get(f"{league.url}/leaderboards?scope=user&period=day&date={yesterday_local}",
                      headers=auth_headers(app, league.ann)).json
    assert [(r["name"], r["points"]) for r in past["rows"]] == [("Bob", 30)]
    assert past["period_key"] == f"d{yesterday_local.isoformat()}"


def test_around_me_marks_my_row_even_when_i_am_hidden(app: Flask, client: FlaskClient,
                                                      league: SimpleNamespace) -> None:
    rows = client.get(f"{league.url}/leaderboards?scope=user&around=me&k=1",
                      headers=auth_headers(app, league.cid)).json["rows"]
    mine = [r for r in rows if r["is_me"]]
    assert len(mine) == 1 and mine[0]["id"] == league.cid.id and mine[0]["rank"] == 1 and mine[0]["is_alias"]
    team_rows = client.get(f"{league.url}/leaderboards?scope=team&around=me",
                           headers=auth_headers(app, league.dee)).json["rows"]
    assert [(r["name"], r["is_me"]) for r in team_rows] == [("Red", False), ("Blue", True)]
    assert client.get(f"{league.url}/leaderboards?around=me").status_code == 400


def test_bad_leaderboard_queries_get_problems(client: FlaskClient, league: SimpleNamespace) -> None:
    for query in ("scope=galaxy", "period=decade", "limit=0", "date=yesterday", "around=you"):
        resp = client.get(f"{league.url}/leaderboards?{query}")
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json", query
    assert client.get("/api/v1/challenges/999999/leaderboards").status_code == 404


def test_my_progress_has_totals_rank_streak_and_team_goal(app: Flask, client: FlaskClient,
                                                          league: SimpleNamespace) -> None:
    body = client.get(f"{league.url}/progress", headers=auth_headers(app, league.ann)).json
    assert body["points"] == {"day": 40, "week": body["points"]["week"], "all": 40}
    assert body["rank"] == 1 and body["enrolled"] and body["team_id"] == league.red.id
    assert body["streak"]["days"] == 1 and body["streak"]["today_met"]
    assert body["goal"] == {"value": 70, "goal": 100.0, "fraction": 0.7, "scope": "team"}
    assert body["collective"]["value"] == 120


def test_collective_progress_sums_everyone_against_the_goal(app: Flask, client: FlaskClient, session: Any,
                                                            cast: Cast) -> None:
    challenge = make_challenge(session, cast.org, format=ChallengeFormat.COLLECTIVE, goal=200)
    people = [quick_user(session) for _ in range(3)]
    for n, person in enumerate(people):
        enrol(session, challenge, person)
        walk(session, person, 20 * (n + 1), key=f"w{n}")
    session.commit()
    body = client.get(f"/api/v1/challenges/{challenge.id}/progress", headers=auth_headers(app, people[0])).json
    assert body["collective"] == {"value": 120, "goal": 200.0, "fraction": 0.6}
    assert body["goal"]["scope"] == "collective" and body["goal"]["value"] == 120
    assert client.get(f"/api/v1/challenges/{challenge.id}/progress").status_code == 401


def test_day_board_of_an_ended_challenge_defaults_to_its_last_day(app: Flask, client: FlaskClient, session: Any,
                                                                  cast: Cast) -> None:
    now = utcnow()
    challenge = make_challenge(session, cast.org, starts_at=now - timedelta(days=10), ends_at=now - timedelta(days=1))
    person = quick_user(session, display_name="Eve")
    enrol(session, challenge, person, now=now - timedelta(days=5))
    at = challenge.ends_at - timedelta(hours=2)
    ledger.score(session, rules_for(challenge), subject_for(challenge, challenge_enrolment(session, challenge)),
                 "late", ActivityFacts(type_code="walking_brisk", started_at=at, duration_s=1200))
    session.commit()
    board = client.get(f"/api/v1/challenges/{challenge.id}/leaderboards?period=day",
                       headers=auth_headers(app, person)).json
    assert [(r["name"], r["points"]) for r in board["rows"]] == [("Eve", 20)]


def challenge_enrolment(session: Any, challenge: Any) -> Any:
    from sqlalchemy import select

    from challenges.models import Enrolment

    return session.scalars(select(Enrolment).where(Enrolment.challenge_id == challenge.id)).one()
