"""Getting people in, walked through the public API and the join page as new users would (issue 15).

A citizen joins the city-versus-city challenge by picking their city and district in the enrolment call; an
employee joins an @work challenge and their department from one invitation link, signing up on the way; an
unverified address cannot use the employer's e-mail domain, a verified one can.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from challenges.models import ChallengeFormat, Enrolment, Visibility
from service.models import JoinedVia, Membership, Role, User
from tests.challenges.factories import make_challenge, make_team
from tests.factories import PASSWORD, make_org, make_user


def _sign_up(client: FlaskClient, email: str, name: str) -> dict[str, str]:
    made = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD, "display_name": name,
                                                      "health_data_consent_version": "2026-05"})
    assert made.status_code == 201, made.json
    token = client.post("/api/v1/auth/token", json={"grant_type": "password", "email": email, "password": PASSWORD})
    assert token.status_code == 200
    return {"Authorization": f"Bearer {token.json['access_token']}"}


def _admin(client: FlaskClient, app: Flask, session: Any, org_name: str, **policy: Any) -> tuple[Any, User]:
    from tests.factories import auth_headers

    admin = make_user(session)
    org = make_org(session, name=org_name, members={admin: Role.ADMIN})
    session.commit()
    if policy:
        resp = client.patch(f"/api/v1/organisations/{org.id}", json=policy, headers=auth_headers(app, admin))
        assert resp.status_code == 200, resp.json
    return org, admin


def test_a_citizen_joins_the_city_versus_city_challenge_by_picking_their_city(
        app: Flask, client: FlaskClient, session: Any) -> None:
    tampere, organiser = _admin(client, app, session, "Tampere", membership_policy="open",
                                areas=["Hervanta", "Kaleva"])
    espoo, _ = _admin(client, app, session, "Espoo", membership_policy="open")
    closed, _ = _admin(client, app, session, "Closed town")
    contest = make_challenge(session, tampere, format=ChallengeFormat.ORGANISATION, title="City vs city")
    for org in (tampere, espoo, closed):
        make_team(session, contest, organiser, org.name, organisation_id=org.id)
    session.commit()
    me = _sign_up(client, "citizen@example.org", "Cit Izen")
    url = f"/api/v1/challenges/{contest.id}/enrolment"
    asked = client.post(url, json={}, headers=me)
    assert asked.status_code == 400 and asked.json["type"].endswith("/choose-organisation")
    assert [o["name"] for o in asked.json["options"]] == ["Tampere", "Espoo"]  # the closed town admits no one
    tampere_option = next(o for o in asked.json["options"] if o["name"] == "Tampere")
    joined = client.post(url, json={"organisation_id": tampere_option["id"], "area": tampere_option["areas"][0]},
                         headers=me)
    assert joined.status_code == 201 and joined.json["organisation_id"] == tampere.id
    mine = client.get("/api/v1/organisations", headers=me).json["items"]
    assert [(o["name"], o["my_role"]) for o in mine] == [("Tampere", "member")]
    started = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    walk = client.post("/api/v1/activities", json={"type": "walking", "started_at": started, "duration_s": 1800},
                       headers=me)
    assert walk.status_code in (200, 201), walk.json
    board = client.get(f"/api/v1/challenges/{contest.id}/leaderboards?scope=organisation", headers=me).json
    assert [row["name"] for row in board["rows"] if row.get("points")] == ["Tampere"], board
    session.expire_all()
    member = session.scalar(select(Membership).join(User).where(User.email == "citizen@example.org"))
    assert member is not None and (member.joined_via, member.area) == (JoinedVia.OPEN, "Hervanta")


def test_an_employee_joins_the_work_challenge_and_their_department_from_one_link_signing_up_on_the_way(
        app: Flask, client: FlaskClient, session: Any) -> None:
    from tests.factories import auth_headers

    acme, hr = _admin(client, app, session, "Acme")
    challenge = make_challenge(session, acme, format=ChallengeFormat.TEAM, visibility=Visibility.INVITE,
                               setting="work", title="Acme moves")
    finance = make_team(session, challenge, hr, "Finance")
    make_team(session, challenge, hr, "Sales")
    session.commit()
    created = client.post(f"/api/v1/organisations/{acme.id}/invitations", headers=auth_headers(app, hr),
                          json={"challenge_id": challenge.id, "team_id": finance.id, "max_uses": 50})
    assert created.status_code == 201
    link = created.json["link"]
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get(f"/{path}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Acme moves" in html and "Finance" in html
    code = created.json["code"]
    preview = client.get(f"/api/v1/invitations/{code}").json
    assert preview["will"] == ["join_organisation", "enrol", "join_team"]
    me = _sign_up(client, "erin@acme.example", "Erin Employee")
    accepted = client.post(f"/api/v1/invitations/{code}/accept", headers=me)
    assert accepted.status_code == 200
    assert (accepted.json["challenge_id"], accepted.json["team_id"]) == (challenge.id, finance.id)
    mine = client.get("/api/v1/me/challenges", headers=me).json["items"]
    assert [(c["challenge"]["title"], c["enrolment"]["team_id"]) for c in mine] == [("Acme moves", finance.id)]
    assert mine[0]["enrolment"]["team_needed"] is False
    roster = client.get(f"/api/v1/challenges/{challenge.id}/teams/{finance.id}/members", headers=me)
    assert roster.status_code == 200 and [m["is_me"] for m in roster.json["items"]] == [True]


def test_an_unverified_address_cannot_use_email_domain_membership_and_a_verified_one_can(
        app: Flask, client: FlaskClient, session: Any) -> None:
    acme, _ = _admin(client, app, session, "Acme", membership_policy="email_domain", email_domains=["acme.example"])
    me = _sign_up(client, "dan@acme.example", "Dan")
    refused = client.post(f"/api/v1/organisations/{acme.id}/membership", json={}, headers=me)
    assert refused.status_code == 403 and refused.json["type"].endswith("/email-not-verified")
    assert client.get("/api/v1/organisations", headers=me).json["items"] == []
    person = session.scalar(select(User).where(User.email == "dan@acme.example"))
    person.email_verified_at = datetime.now(UTC)  # what following the mailed link does (service.mail.verification)
    session.commit()
    joined = client.post(f"/api/v1/organisations/{acme.id}/membership", json={}, headers=me)
    assert joined.status_code == 200 and joined.json["joined_via"] == "email_domain"
    assert [o["name"] for o in client.get("/api/v1/organisations", headers=me).json["items"]] == ["Acme"]
    person.email_verified_at = None  # the address is no longer verified: the membership it made ends
    session.commit()
    assert client.get("/api/v1/organisations", headers=me).json["items"] == []
    session.expire_all()
    assert session.scalar(select(Enrolment).where(Enrolment.user_id == person.id)) is None


def test_the_demo_prints_a_working_invitation_link_and_opens_its_cities(
        app: Flask, client: FlaskClient, session: Any) -> None:
    from challenges.demo import CYCLING_TITLE, seed
    from challenges.models import Challenge
    from service.demo import seed_accounts

    lines = seed(session, seed_accounts(session).city)
    session.commit()
    joining = next(line for line in lines if line.startswith("joining:"))
    link = joining.rsplit(" ", 1)[1]
    assert link.startswith(app.extensions["vcc_settings"].public_base_url + "/join/")
    code = link.rsplit("/", 1)[1]
    assert "Acme step challenge" in client.get(f"/join/{code}").get_data(as_text=True)
    me = _sign_up(client, "newcomer@example.org", "New Comer")
    accepted = client.post(f"/api/v1/invitations/{code}/accept", headers=me).json
    mine = client.get(f"/api/v1/challenges/{accepted['challenge_id']}/enrolment", headers=me).json
    assert accepted["team_id"] is not None and mine["team_id"] == accepted["team_id"]
    cycling = session.scalar(select(Challenge).where(Challenge.title == CYCLING_TITLE))
    asked = client.post(f"/api/v1/challenges/{cycling.id}/enrolment", json={}, headers=me).json
    assert {o["name"] for o in asked["options"]} == {"Demo City", "Northhaven", "Southport"}
    demo_city = next(o for o in asked["options"] if o["name"] == "Demo City")
    joined = client.post(f"/api/v1/challenges/{cycling.id}/enrolment", headers=me,
                         json={"organisation_id": demo_city["id"], "area": demo_city["areas"][0]})
    assert joined.status_code == 201
