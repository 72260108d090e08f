"""The demo scenario shows real boards, lets a demo participant log in, and runs once."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from challenges.demo import DEMO_PASSWORD, KNOWN, seed
from challenges.models import Challenge, Enrolment
from service.demo import seed_accounts


def test_demo_seeds_three_challenges_with_boards_and_only_once(client: FlaskClient, session: Any) -> None:
    lines = seed(session, seed_accounts(session).city)
    session.commit()
    assert any("cycling" in line for line in lines)
    challenges = list(session.scalars(select(Challenge).order_by(Challenge.id)))
    assert [c.format.value for c in challenges] == ["organisation", "team", "individual"]
    assert session.scalar(select(func.count(Enrolment.id))) >= 300
    park = challenges[2]
    top = client.get(f"/api/v1/challenges/{park.id}/leaderboards?limit=3").json["rows"]
    assert len(top) == 3 and top[0]["points"] > 0
    token = client.post("/api/v1/auth/token", json={"grant_type": "password", "email": KNOWN[0][0],
                                                    "password": DEMO_PASSWORD})
    assert token.status_code == 200, token.json
    assert seed(session, None) == ["challenge demo already present"]
