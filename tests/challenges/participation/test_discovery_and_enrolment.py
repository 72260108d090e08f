"""Discovery filters and pagination; invite codes; join and leave."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from challenges.models import ChallengeFormat, Setting, Visibility
from service.clock import utcnow
from tests.challenges.conftest import Cast
from tests.challenges.factories import make_challenge
from tests.factories import auth_headers


@pytest.fixture
def catalogue(session: Any, cast: Cast) -> dict[str, Any]:
    now = utcnow()
    cast.other_org.region = "Uusimaa"
    found = {
        "running": make_challenge(session, cast.org, title="Running walk", setting=Setting.PUBLIC_SPACE,
                                  region="Pirkanmaa"),
        "upcoming": make_challenge(session, cast.org, title="Upcoming steps", setting=Setting.WORK,
                                   starts_at=now + timedelta(days=5), ends_at=now + timedelta(days=30),
                                   region="Pirkanmaa"),
        "ended": make_challenge(session, cast.org, title="Old ride", setting=Setting.PUBLIC_SPACE,
                                starts_at=now - timedelta(days=60), ends_at=now - timedelta(days=30)),
        "draft": make_challenge(session, cast.org, title="Secret draft", publish=False),
        "invite": make_challenge(session, cast.org, title="Invite only", visibility=Visibility.INVITE),
        "foreign": make_challenge(session, cast.other_org, title="Espoo run", setting=Setting.SCHOOL,
                                  region="Uusimaa"),
    }
    session.commit()
    return found


def _titles(resp: Any) -> set[str]:
    assert resp.status_code == 200, resp.json
    return {c["title"] for c in resp.json["items"]}


def test_discovery_lists_published_public_challenges_only(client: FlaskClient, catalogue: dict[str, Any]) -> None:
    assert _titles(client.get("/api/v1/challenges")) == {"Running walk", "Upcoming steps", "Old ride", "Espoo run"}


@pytest.mark.parametrize(("query", "expected"), [
    ("status=running", {"Running walk", "Espoo run"}),
    ("status=upcoming", {"Upcoming steps"}),
    ("status=ended", {"Old ride"}),
    ("setting=work", {"Upcoming steps"}),
    ("region=Uusimaa", {"Espoo run"}),
    ("region=Pirkanmaa&status=running", {"Running walk"}),
])
def test_discovery_filters(client: FlaskClient, catalogue: dict[str, Any], query: str, expected: set[str]) -> None:
    assert _titles(client.get(f"/api/v1/challenges?{query}")) == expected


def test_discovery_filters_by_organisation(client: FlaskClient, cast: Cast, catalogue: dict[str, Any]) -> None:
    assert _titles(client.get(f"/api/v1/challenges?organisation_id={cast.other_org.id}")) == {"Espoo run"}


def test_organisers_see_their_drafts_and_invite_only_challenges_with_codes(
        app: Flask, client: FlaskClient, cast: Cast, catalogue: dict[str, Any]) -> None:
    resp = client.get(f"/api/v1/challenges?organisation_id={cast.org.id}", headers=cast.headers(app, "organiser"))
    assert {"Secret draft", "Invite only"} <= _titles(resp)
    invite = next(c for c in resp.json["items"] if c["title"] == "Invite only")
    assert invite["invite_code"] == catalogue["invite"].invite_code
    drafts = client.get(f"/api/v1/challenges?organisation_id={cast.org.id}&status=draft",
                        headers=cast.headers(app, "member"))
    assert drafts.status_code == 403


def test_discovery_pages_with_a_cursor_without_repeats(client: FlaskClient, catalogue: dict[str, Any]) -> None:
    seen: list[str] = []
    url = "/api/v1/challenges?limit=1"
    while True:
        page = client.get(url).json
        seen += [c["title"] for c in page["items"]]
        if not page["next"]:
            break
        url = f"/api/v1/challenges?limit=1&cursor={page['next']}"
    assert len(seen) == 4 and set(seen) == {"Running walk", "Upcoming steps", "Old ride", "Espoo run"}
    assert client.get("/api/v1/challenges?cursor=garbage!").status_code == 400
    assert client.get("/api/v1/challenges?status=sideways").status_code == 422


def test_discovery_gives_next_only_when_another_challenge_exists(client: FlaskClient,
                                                                 catalogue: dict[str, Any]) -> None:
    exact = client.get("/api/v1/challenges?limit=4").json
    assert len(exact["items"]) == 4 and exact["next"] is None
    first = client.get("/api/v1/challenges?limit=3").json
    assert len(first["items"]) == 3 and first["next"]
    last = client.get(f"/api/v1/challenges?limit=3&cursor={first['next']}").json
    assert len(last["items"]) == 1 and last["next"] is None
    titles = {c["title"] for c in first["items"] + last["items"]}
    assert titles == {"Running walk", "Upcoming steps", "Old ride", "Espoo run"}


def test_invite_only_challenge_is_hidden_and_joinable_with_its_code(
        app: Flask, client: FlaskClient, cast: Cast, catalogue: dict[str, Any]) -> None:
    challenge = catalogue["invite"]
    url = f"/api/v1/challenges/{challenge.id}"
    headers = cast.headers(app, "outsider")
    assert client.get(url, headers=headers).status_code == 404
    assert client.get(f"{url}?invite_code={challenge.invite_code}", headers=headers).json["invite_code"] is None
    missing = client.post(f"{url}/enrolment", json={}, headers=headers)
    assert missing.status_code == 403 and missing.json["type"].endswith("/invite-code-required")
    wrong = client.post(f"{url}/enrolment", json={"invite_code": "NOPE"}, headers=headers)
    assert wrong.status_code == 403 and wrong.json["type"].endswith("/invite-code-wrong")
    joined = client.post(f"{url}/enrolment", json={"invite_code": challenge.invite_code.lower()}, headers=headers)
    assert joined.status_code == 201 and joined.json["active"] is True
    assert client.get(url, headers=headers).status_code == 200


def test_drafts_cannot_be_seen_or_joined_by_participants(app: Flask, client: FlaskClient, cast: Cast,
                                                         catalogue: dict[str, Any]) -> None:
    url = f"/api/v1/challenges/{catalogue['draft'].id}"
    assert client.get(url).status_code == 404
    assert client.post(f"{url}/enrolment", json={}, headers=cast.headers(app, "member")).status_code == 404


def test_join_is_idempotent_leave_then_rejoin(app: Flask, client: FlaskClient, cast: Cast,
                                              catalogue: dict[str, Any]) -> None:
    url = f"/api/v1/challenges/{catalogue['running'].id}/enrolment"
    headers = cast.headers(app, "outsider")
    first = client.post(url, json={}, headers=headers)
    again = client.post(url, json={}, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json == again.json
    left = client.delete(url, headers=headers)
    assert left.status_code == 200 and left.json["active"] is False
    assert client.delete(url, headers=headers).status_code == 404
    back = client.post(url, json={}, headers=headers)
    assert back.status_code == 201 and back.json["active"] is True


def test_ended_challenge_takes_no_new_participants(app: Flask, client: FlaskClient, cast: Cast,
                                                   catalogue: dict[str, Any]) -> None:
    resp = client.post(f"/api/v1/challenges/{catalogue['ended'].id}/enrolment", json={},
                       headers=cast.headers(app, "outsider"))
    assert resp.status_code == 409 and resp.json["type"].endswith("/challenge-ended")


def test_organisation_format_counts_each_participant_for_their_own_organisation(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    from service.accounts import set_membership
    from service.models import Role
    from tests.challenges.factories import make_team
    from tests.factories import quick_user

    challenge = make_challenge(session, cast.org, format=ChallengeFormat.ORGANISATION)
    make_team(session, challenge, cast.organiser, "Tampere", organisation_id=cast.org.id)
    make_team(session, challenge, cast.organiser, "Espoo", organisation_id=cast.other_org.id)
    both = quick_user(session)
    set_membership(session, user=both, organisation=cast.org, role=Role.MEMBER)
    set_membership(session, user=both, organisation=cast.other_org, role=Role.MEMBER)
    session.commit()
    url = f"/api/v1/challenges/{challenge.id}/enrolment"
    member = client.post(url, json={}, headers=cast.headers(app, "member"))
    assert member.status_code == 201 and member.json["organisation_id"] == cast.org.id
    outsider = client.post(url, json={}, headers=cast.headers(app, "outsider"))
    assert outsider.status_code == 409 and outsider.json["type"].endswith("/no-participating-organisation")
    ambiguous = client.post(url, json={}, headers=auth_headers(app, both))
    assert ambiguous.status_code == 400 and set(ambiguous.json["choices"]) == {cast.org.id, cast.other_org.id}
    chosen = client.post(url, json={"organisation_id": cast.other_org.id}, headers=auth_headers(app, both))
    assert chosen.status_code == 201 and chosen.json["organisation_id"] == cast.other_org.id
    foreign = client.post(url, json={"organisation_id": cast.other_org.id}, headers=cast.headers(app, "member"))
    assert foreign.status_code == 403
    listed = client.get(f"/api/v1/challenges/{challenge.id}/teams").json["items"]
    assert {t["name"]: t["members"] for t in listed} == {"Tampere": 1, "Espoo": 1}


def test_my_challenges_lists_what_i_joined_invite_only_included_newest_start_first(
        app: Flask, client: FlaskClient, session: Any, cast: Cast) -> None:
    from challenges.participation import enrolment
    from tests.challenges.factories import enrol, make_team

    now = utcnow()
    me, other = cast.member, cast.outsider
    running = make_challenge(session, cast.org, format=ChallengeFormat.TEAM, starts_at=now - timedelta(days=3))
    private = make_challenge(session, cast.org, visibility=Visibility.INVITE, starts_at=now + timedelta(days=2),
                             ends_at=now + timedelta(days=30))
    past = make_challenge(session, cast.org, starts_at=now - timedelta(days=40))
    left = make_challenge(session, cast.org, starts_at=now - timedelta(days=5))
    not_mine = make_challenge(session, cast.org)
    team = make_team(session, running, cast.organiser)
    enrol(session, running, me, team_code=team.code)
    enrol(session, private, me, invite_code=private.invite_code)
    for challenge in (past, left):
        enrol(session, challenge, me)
    enrol(session, not_mine, other)
    enrolment.leave(session, left, me)
    past.ends_at = now - timedelta(days=10)  # joined while it ran; it has ended since
    session.commit()
    headers = auth_headers(app, me)

    page = client.get("/api/v1/me/challenges", headers=headers).json
    assert [i["challenge"]["id"] for i in page["items"]] == [private.id, running.id, past.id]
    mine = page["items"][1]
    assert mine["enrolment"]["team_id"] == team.id and mine["enrolment"]["active"] is True
    invited = page["items"][0]["challenge"]
    assert invited["visibility"] == "invite" and invited["invite_code"] is None  # the code is for organisers
    with_left = client.get("/api/v1/me/challenges?include_left=true", headers=headers).json["items"]
    assert [i["challenge"]["id"] for i in with_left] == [private.id, running.id, left.id, past.id]
    assert with_left[2]["enrolment"]["left_at"] is not None
    running_only = client.get("/api/v1/me/challenges?status=running&include_left=true", headers=headers).json
    assert [i["challenge"]["id"] for i in running_only["items"]] == [running.id, left.id]
    first = client.get("/api/v1/me/challenges?limit=2", headers=headers).json
    rest = client.get(f"/api/v1/me/challenges?limit=2&cursor={first['next']}", headers=headers).json
    assert [i["challenge"]["id"] for i in first["items"] + rest["items"]] == [private.id, running.id, past.id]
    assert rest["next"] is None


def test_my_challenges_needs_a_sign_in_and_a_real_status(app: Flask, client: FlaskClient, cast: Cast) -> None:
    assert client.get("/api/v1/me/challenges").status_code == 401
    resp = client.get("/api/v1/me/challenges?status=draft", headers=auth_headers(app, cast.member))
    assert resp.status_code == 422 and "status" in resp.json["errors"]
