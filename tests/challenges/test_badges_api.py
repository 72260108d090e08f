"""A challenge's badges: the list a participant sees, and badges organisers define, change and delete."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from challenges.models import ChallengeFormat
from scoring import badges
from scoring.models import BadgeAward, BadgeDefinition
from service.clock import utcnow
from tests.challenges.activity_helpers import World, ago, make_world, post, walk
from tests.factories import auth_headers, quick_user

FORTY = {"name": "Forty minutes", "description": "40 active minutes in the challenge.",
         "criteria": {"kind": "total_at_least", "points": 40}}


def _url(world: World, code: str | None = None) -> str:
    base = f"/api/v1/challenges/{world.challenge.id}/badges"
    return f"{base}/{code}" if code else base


def _define(client: FlaskClient, world: World, body: dict[str, Any] = FORTY, **headers: str) -> Any:
    return client.post(_url(world), json=body, headers={**world.h(world.organiser), **headers})


def _awards(session: Session, badge_code: str) -> list[int]:
    session.expire_all()
    return list(session.scalars(select(BadgeAward.user_id).join(BadgeDefinition, BadgeDefinition.id ==
                                                                BadgeAward.badge_id)
                                .where(BadgeDefinition.code == badge_code)))


def test_an_organisers_badge_is_listed_and_earned_by_real_activity(app: Flask, client: FlaskClient,
                                                                   session: Session) -> None:
    badges.ensure_definitions(session)
    w = make_world(app, session, participants=2)
    pat, sam = w.users
    created = _define(client, w, FORTY, **{"Idempotency-Key": "define-forty"})
    assert created.status_code == 201, created.get_json()
    badge = created.get_json()
    assert badge["code"] == f"c{w.challenge.id}-forty-minutes" and badge["challenge_id"] == w.challenge.id
    retry = _define(client, w, FORTY, **{"Idempotency-Key": "define-forty"})
    assert retry.get_json() == badge  # a retried create stores nothing twice
    listed = client.get(_url(w)).get_json()
    assert [b["code"] for b in listed][-1] == badge["code"] and listed[0]["challenge_id"] is None  # built-ins first
    assert len([b for b in listed if b["challenge_id"] == w.challenge.id]) == 1

    assert post(client, w, pat, walk(ago(hours=5), 30)).status_code == 201
    assert post(client, w, sam, walk(ago(hours=5), 25)).status_code == 201
    assert _awards(session, badge["code"]) == []
    assert post(client, w, pat, walk(ago(hours=3), 15)).status_code == 201  # 45 minutes: earned
    assert _awards(session, badge["code"]) == [pat.id]
    mine = client.get("/api/v1/me/badges", headers=w.h(pat)).get_json()["items"]
    assert badge["code"] in {a["badge"]["code"] for a in mine}
    achievement = client.get(badge["achievement_url"])
    assert achievement.status_code == 200 and achievement.get_json()["name"] == "Forty minutes"


def test_what_earns_a_badge_is_fixed_once_someone_holds_it(app: Flask, client: FlaskClient,
                                                           session: Session) -> None:
    w = make_world(app, session)
    code = _define(client, w).get_json()["code"]
    organiser = w.h(w.organiser)
    tighter = client.patch(_url(w, code), json={"criteria": {"kind": "total_at_least", "points": 20}},
                           headers=organiser)
    assert tighter.status_code == 200 and tighter.get_json()["criteria"] == {"kind": "total_at_least", "points": 20}
    assert post(client, w, w.users[0], walk(ago(hours=4), 30)).status_code == 201
    assert _awards(session, code) == [w.users[0].id]
    locked = client.patch(_url(w, code), json={"criteria": {"kind": "total_at_least", "points": 60}},
                          headers=organiser)
    assert locked.status_code == 409 and locked.get_json()["type"].endswith("/badge-awarded")
    renamed = client.patch(_url(w, code), json={"name": "Twenty minutes", "image_url": "https://example.org/b.png"},
                           headers=organiser)
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Twenty minutes"
    assert renamed.get_json()["criteria"]["points"] == 20
    gone = client.delete(_url(w, code), headers=organiser)
    assert gone.status_code == 409 and gone.get_json()["type"].endswith("/badge-awarded")
    assert _awards(session, code) == [w.users[0].id]


def test_an_unheld_badge_can_be_deleted_and_built_in_ones_cannot(app: Flask, client: FlaskClient,
                                                                 session: Session) -> None:
    badges.ensure_definitions(session)
    session.commit()
    w = make_world(app, session)
    code = _define(client, w).get_json()["code"]
    assert client.delete(_url(w, code), headers=w.h(w.organiser)).status_code == 204
    assert session.scalar(select(func.count()).select_from(BadgeDefinition).where(BadgeDefinition.code == code)) == 0
    built_in = client.delete(_url(w, "first-move"), headers=w.h(w.organiser))
    assert built_in.status_code == 404 and built_in.get_json()["type"].endswith("/badge-not-found")
    other = make_world(app, session)  # another organisation's challenge: its badges are not this one's
    theirs = _define(client, other).get_json()["code"]
    assert client.patch(_url(w, theirs), json={"name": "x"}, headers=w.h(w.organiser)).status_code == 404


def test_only_the_challenges_organisers_define_badges(app: Flask, client: FlaskClient, session: Session) -> None:
    w = make_world(app, session)
    assert client.post(_url(w), json=FORTY).status_code == 401
    assert client.post(_url(w), json=FORTY, headers=w.h(w.users[0])).status_code == 403
    outsider = quick_user(session)
    session.commit()
    assert client.post(_url(w), json=FORTY, headers=auth_headers(app, outsider)).status_code == 403
    code = _define(client, w).get_json()["code"]
    assert client.patch(_url(w, code), json={"name": "Mine now"}, headers=w.h(w.users[0])).status_code == 403
    assert client.delete(_url(w, code), headers=w.h(w.users[0])).status_code == 403


@pytest.mark.parametrize(("criteria", "field"), [
    ({"kind": "marathon"}, "kind"),
    ({"points": 10}, "kind"),
    ({"kind": "total_at_least"}, "points"),
    ({"kind": "total_at_least", "points": 0}, "points"),
    ({"kind": "total_at_least", "points": "40"}, "points"),
    ({"kind": "total_at_least", "points": 40, "bonus": 5}, "bonus"),
    ({"kind": "streak", "length": 7, "unit": "month"}, "unit"),
    ({"kind": "streak", "length": 1}, "length"),
    ({"kind": "checkin_locations", "count": 5000}, "count"),
    ({"kind": "collective_goal"}, "goal"),  # the challenge has no goal of its own
    ({"kind": "collective_goal", "goal": 1000, "scope": "team"}, "scope"),  # an individual challenge
])
def test_criteria_that_could_never_work_are_a_422_naming_the_field(app: Flask, client: FlaskClient, session: Session,
                                                                   criteria: dict[str, Any], field: str) -> None:
    w = make_world(app, session, goal=None, format=ChallengeFormat.INDIVIDUAL)
    resp = _define(client, w, {**FORTY, "criteria": criteria})
    assert resp.status_code == 422 and resp.content_type.startswith("application/problem+json")
    assert field in resp.get_json()["errors"]["criteria"], resp.get_json()
    assert [b for b in client.get(_url(w)).get_json() if b["challenge_id"] is not None] == []


def test_bad_badge_bodies_are_422(app: Flask, client: FlaskClient, session: Session) -> None:
    w = make_world(app, session)
    for body in ({"criteria": FORTY["criteria"]}, {**FORTY, "name": ""}, {**FORTY, "image_url": "javascript:x"},
                 {**FORTY, "criteria": "total"}, {**FORTY, "extra": 1}):
        assert _define(client, w, body).status_code == 422, body
    code = _define(client, w).get_json()["code"]
    assert client.patch(_url(w, code), json={}, headers=w.h(w.organiser)).status_code == 422


def test_an_ended_challenge_takes_no_new_badges(app: Flask, client: FlaskClient, session: Session) -> None:
    w = make_world(app, session, participants=0)
    w.challenge.ends_at = utcnow() - timedelta(hours=1)
    session.commit()
    ended = _define(client, w)
    assert ended.status_code == 409 and ended.get_json()["type"].endswith("/challenge-ended")
