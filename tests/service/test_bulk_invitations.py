"""Invitations by e-mail: a pasted list or CSV reported line by line, one mail per new invitee through the
outbox and a real SMTP server, the mailed link leading a newcomer into the team, and sending again inviting
no one twice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from challenges.models import ChallengeFormat, Enrolment
from service.mail.models import MailKind, OutboxMail
from service.models import AuditEvent, Invitation, Role
from tests.challenges.factories import make_challenge, make_team
from tests.factories import PASSWORD, auth_headers, make_org, make_user
from tests.service.mail.conftest import SmtpServer

UPLOAD = """email,name
erin@acme.example,Erin
Finn@Acme.Example ; Finn
not-an-address,Someone
bad@,Bad
erin@acme.example,Erin again
member@acme.example

gil@acme.example, hal@acme.example
"""


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def acme(session: Any) -> dict[str, Any]:
    hr, member = make_user(session), make_user(session, email="member@acme.example")
    org = make_org(session, name="Acme", kind="employer", members={hr: Role.ORGANISER, member: Role.MEMBER})
    challenge = make_challenge(session, org, format=ChallengeFormat.TEAM, title="Acme moves")
    team = make_team(session, challenge, hr, "Finance")
    session.commit()
    return {"org": org, "hr": hr, "challenge": challenge, "team": team}


def _bulk(client: FlaskClient, app: Flask, acme: dict[str, Any], text: str, **body: Any) -> Any:
    return client.post(f"/api/v1/organisations/{acme['org'].id}/invitations/bulk", json={"text": text, **body},
                       headers=auth_headers(app, acme["hr"]))


def test_every_line_is_reported_and_each_new_address_gets_one_invitation_and_one_mail(
        app: Flask, client: FlaskClient, session: Any, acme: dict[str, Any]) -> None:
    resp = _bulk(client, app, acme, UPLOAD)
    assert resp.status_code == 200
    assert [(r["line"], r["email"], r["status"]) for r in resp.json["items"]] == [
        (2, "erin@acme.example", "invited"),
        (3, "Finn@Acme.Example ; Finn", "invalid"),  # one cell (no comma), not an address
        (4, "not-an-address", "invalid"),
        (5, "bad@", "invalid"),
        (6, "erin@acme.example", "duplicate"),
        (7, "member@acme.example", "already-member"),
        (9, "gil@acme.example", "invited"),
        (9, "hal@acme.example", "invited"),
    ]
    assert resp.json["counts"] == {"invited": 3, "invalid": 3, "duplicate": 1, "already-member": 1}
    reserved = session.scalars(select(Invitation.email).where(Invitation.email.is_not(None))
                               .order_by(Invitation.id)).all()
    assert reserved == ["erin@acme.example", "gil@acme.example", "hal@acme.example"]
    mails = session.scalars(select(OutboxMail.recipient).where(OutboxMail.kind == MailKind.INVITATION)).all()
    assert sorted(mails) == reserved
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "invitation.bulk_created"))
    assert event is not None and event.detail["counts"]["invited"] == 3
    assert "@" not in str(event.detail)


def test_sending_the_same_list_again_invites_and_mails_no_one_twice(
        app: Flask, client: FlaskClient, session: Any, acme: dict[str, Any]) -> None:
    text = "a@acme.example\nb@acme.example\n"
    assert [r["status"] for r in _bulk(client, app, acme, text).json["items"]] == ["invited", "invited"]
    again = _bulk(client, app, acme, text)
    assert [r["status"] for r in again.json["items"]] == ["already-invited", "already-invited"]
    assert session.scalar(select(func.count()).select_from(Invitation)) == 2
    assert session.scalar(select(func.count()).select_from(OutboxMail)) == 2
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "invitation.bulk_created")) == 1


def test_more_than_a_thousand_addresses_are_refused_whole(
        app: Flask, client: FlaskClient, session: Any, acme: dict[str, Any]) -> None:
    resp = _bulk(client, app, acme, "\n".join(f"p{i}@acme.example" for i in range(1001)))
    assert resp.status_code == 422 and resp.json["type"].endswith("/too-many-addresses")
    assert session.scalar(select(func.count()).select_from(Invitation)) == 0


def test_the_mailed_link_brings_a_newcomer_into_the_challenge_and_team(
        app: Flask, client: FlaskClient, session: Any, acme: dict[str, Any], smtp: SmtpServer) -> None:
    resp = _bulk(client, app, acme, "erin@acme.example", challenge_id=acme["challenge"].id,
                 team_id=acme["team"].id)
    assert resp.json["counts"] == {"invited": 1}
    session.commit()
    assert smtp.deliver(session).sent == 1
    message = smtp.messages[0]
    assert message["To"] == "erin@acme.example" and "Acme" in message["Subject"]
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Acme moves" in body and "Finance" in body
    link = re.search(r"http\S+/join/(\S+)", body)
    assert link is not None
    code = link.group(1)
    assert "Finance" in client.get(f"/join/{code}").get_data(as_text=True)
    made = client.post("/api/v1/auth/register", json={"email": "erin@acme.example", "password": PASSWORD,
                                                      "display_name": "Erin"})
    assert made.status_code == 201
    token = client.post("/api/v1/auth/token", json={"grant_type": "password", "email": "erin@acme.example",
                                                    "password": PASSWORD}).json["access_token"]
    accepted = client.post(f"/api/v1/invitations/{code}/accept", headers={"Authorization": f"Bearer {token}"})
    assert accepted.status_code == 200 and accepted.json["team_id"] == acme["team"].id
    session.expire_all()
    assert session.scalar(select(Enrolment.team_id).where(Enrolment.user_id == made.json["id"])) == acme["team"].id


def test_a_single_invitation_is_mailed_only_when_it_is_reserved_for_an_address(
        app: Flask, client: FlaskClient, session: Any, acme: dict[str, Any]) -> None:
    url = f"/api/v1/organisations/{acme['org'].id}/invitations"
    open_link = client.post(url, json={"max_uses": 10}, headers=auth_headers(app, acme["hr"]))
    reserved = client.post(url, json={"email": "ida@acme.example"}, headers=auth_headers(app, acme["hr"]))
    assert open_link.status_code == reserved.status_code == 201
    mails = session.scalars(select(OutboxMail)).all()
    assert [m.recipient for m in mails] == ["ida@acme.example"]
    assert reserved.json["link"] in mails[0].body_text
