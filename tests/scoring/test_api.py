"""HTTP: activity catalogue, my badges, Open Badges 3.0 credential export (owner only), rescore CLI."""

from __future__ import annotations

import hashlib
from typing import Any

from scoring import badges, leaderboards, ledger
from scoring.cli import rescore
from scoring.models import BadgeDefinition, LeaderboardTotal
from scoring.types import Period, Scope, Subject
from tests.factories import auth_headers
from tests.scoring.factories import facts, rules


def award_first_move(session: Any, user: Any) -> int:
    session.add(BadgeDefinition(code="first", name="First move", description="Logged a first activity.",
                                criteria={"kind": "first_activity"}))
    ledger.score(session, rules(), Subject(user.id), "activity:1", facts())
    award = badges.evaluate(session, 1, [user.id])[0]
    session.commit()
    return award.id


def test_activity_types_list_the_compendium_catalogue(client: Any) -> None:
    res = client.get("/api/v1/activity-types")
    assert res.status_code == 200
    by_code = {t["code"]: t for t in res.get_json()}
    assert by_code["cycling_commute"]["compendium_code"] == "01011"
    assert by_code["cycling_commute"]["met"] == 6.8
    assert by_code["running_8mph"]["intensity"] == "vigorous"
    assert by_code["yoga"]["intensity"] == "light"


def test_my_badges_are_listed_and_need_a_token(app: Any, client: Any, session: Any, users: list[Any]) -> None:
    award_id = award_first_move(session, users[0])
    assert client.get("/api/v1/me/badges").status_code == 401
    res = client.get("/api/v1/me/badges", headers=auth_headers(app, users[0]))
    assert res.status_code == 200
    body = res.get_json()
    assert [a["id"] for a in body["items"]] == [award_id]
    assert body["items"][0]["badge"]["code"] == "first"
    assert body["items"][0]["credential_url"] == f"/api/v1/badge-awards/{award_id}/credential"
    other = client.get("/api/v1/me/badges", headers=auth_headers(app, users[1])).get_json()
    assert other["items"] == []
    bad = client.get("/api/v1/me/badges?limit=0", headers=auth_headers(app, users[0]))
    assert bad.status_code == 422 and bad.content_type.startswith("application/problem+json")


def test_credential_is_an_open_badges_3_document_for_the_owner_only(app: Any, client: Any, session: Any,
                                                                     users: list[Any]) -> None:
    award_id = award_first_move(session, users[0])
    email = users[0].email
    res = client.get(f"/api/v1/badge-awards/{award_id}/credential", headers=auth_headers(app, users[0]))
    assert res.status_code == 200
    doc = res.get_json()
    assert doc["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert doc["@context"][1].startswith("https://purl.imsglobal.org/spec/ob/v3p0/context")
    assert doc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    base = app.extensions["vcc_settings"].public_base_url
    assert doc["issuer"]["id"].startswith(base) and doc["issuer"]["type"] == ["Profile"]
    assert doc["validFrom"].endswith("Z")
    subject = doc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["achievement"]["type"] == ["Achievement"] and subject["achievement"]["name"] == "First move"
    ident = subject["identifier"][0]
    assert ident["identityHash"] == "sha256$" + hashlib.sha256((email + ident["salt"]).encode()).hexdigest()
    assert email not in res.get_data(as_text=True)
    assert client.get(f"/api/v1/badge-awards/{award_id}/credential", headers=auth_headers(app, users[0])).get_json() \
        == doc  # stable across exports
    stranger = client.get(f"/api/v1/badge-awards/{award_id}/credential", headers=auth_headers(app, users[1]))
    assert stranger.status_code == 404
    assert client.get("/api/v1/badge-awards/999999/credential", headers=auth_headers(app, users[0])).status_code == 404


def test_rescore_command_rebuilds_boards_from_the_ledger(app: Any, session: Any, users: list[Any]) -> None:
    for i, user in enumerate(users):
        ledger.score(session, rules(), Subject(user.id), f"activity:{i}", facts(minutes=10 + 10 * (i % 2)))
    session.commit()
    before = [(r.rank, r.subject_id) for r in leaderboards.board(session, 1, Scope.USER, Period.ALL).rows]
    session.execute(LeaderboardTotal.__table__.update().values(points=0))  # corrupt the derived totals
    session.commit()
    result = app.test_cli_runner().invoke(rescore, ["1"])
    assert result.exit_code == 0, result.output
    assert "rescored challenge 1" in result.output
    session.expire_all()
    assert [(r.rank, r.subject_id) for r in leaderboards.board(session, 1, Scope.USER, Period.ALL).rows] == before


def test_the_issuer_and_achievement_ids_in_a_credential_are_served(app: Any, client: Any, session: Any,
                                                                   users: list[Any]) -> None:
    award_id = award_first_move(session, users[0])
    doc = client.get(f"/api/v1/badge-awards/{award_id}/credential", headers=auth_headers(app, users[0])).get_json()
    base = app.extensions["vcc_settings"].public_base_url
    issuer = client.get(doc["issuer"]["id"].removeprefix(base))
    assert issuer.status_code == 200 and issuer.get_json() == doc["issuer"]
    achievement = client.get(doc["credentialSubject"]["achievement"]["id"].removeprefix(base))
    assert achievement.status_code == 200
    assert achievement.get_json() == doc["credentialSubject"]["achievement"]
    missing = client.get("/api/v1/achievements/no-such-badge")
    assert missing.status_code == 404 and missing.content_type.startswith("application/problem+json")
