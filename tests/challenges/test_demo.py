"""The demo scenario shows real boards, lets a demo participant log in, and runs once."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from challenges.demo import BOARD, DEMO_PASSWORD, DEPARTMENTS, HR_EMAIL, KNOWN, seed
from challenges.models import Challenge, Enrolment
from service.demo import seed_accounts
from service.models import User


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


def _bearer(client: FlaskClient, email: str) -> dict[str, str]:
    token = client.post("/api/v1/auth/token", json={"grant_type": "password", "email": email,
                                                    "password": DEMO_PASSWORD}).json["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_the_demo_shows_hr_departments_only_and_colleagues_by_alias_or_first_name(client: FlaskClient,
                                                                                  session: Any) -> None:
    seed(session, seed_accounts(session).city)
    session.commit()
    steps = session.scalars(select(Challenge).where(Challenge.title == "Acme step challenge")).one()
    url = f"/api/v1/challenges/{steps.id}"
    hr = _bearer(client, HR_EMAIL)
    assert client.get(f"{url}/leaderboards?scope=user", headers=hr).status_code == 403
    departments = client.get(f"{url}/leaderboards?scope=team", headers=hr).json
    assert departments["hidden_groups"] == 2 and BOARD[0] not in {r["name"] for r in departments["rows"]}
    assert len(departments["rows"]) == len(DEPARTMENTS) - 1
    colleague = _bearer(client, KNOWN[0][0])
    names = {r["name"] for r in client.get(f"{url}/leaderboards?scope=user&limit=100", headers=colleague
                                           ).json["rows"]}
    full = set(session.scalars(select(User.display_name)))
    assert names and not names & full  # nobody by their full name
    assert "Ann Virtanen" not in names and any(n.endswith(".") for n in names)
    assert client.get(f"{url}/leaderboards?scope=team").status_code == 401
