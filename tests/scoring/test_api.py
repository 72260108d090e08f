"""HTTP: activity catalogue, my badges, rescore CLI."""

from __future__ import annotations

from typing import Any

from scoring import leaderboards, ledger
from scoring.cli import rescore
from scoring.models import LeaderboardTotal
from scoring.types import Period, Scope, Subject
from tests.factories import auth_headers
from tests.scoring.factories import award_first_move, facts, rules


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
