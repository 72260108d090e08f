"""Verified addresses: sign-up mails a link over real SMTP, the link verifies once, newer links supersede older
ones, links expire after 48 hours, re-sends are limited per person."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.clock import utcnow
from service.mail.models import EmailToken, MailKind, MailStatus, OutboxMail
from service.models import User
from tests.factories import PASSWORD, auth_headers, make_user
from tests.service.mail.conftest import SmtpServer, text_of, token_in


def sign_up(client: FlaskClient, email: str = "vera@example.org") -> int:
    response = client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD,
                                                          "display_name": "Vera Verifier"})
    assert response.status_code == 201, response.json
    assert response.json["email_verified_at"] is None
    return int(response.json["id"])


def verify(client: FlaskClient, token: str) -> object:
    return client.post("/api/v1/auth/verify-email", json={"token": token})


def test_sign_up_mails_a_verification_link_over_smtp_that_verifies_the_address_once(
        app: Flask, client: FlaskClient, session: Session, smtp: SmtpServer) -> None:
    user_id = sign_up(client)
    assert smtp.deliver(session).sent == 1
    [mail] = smtp.messages
    assert smtp.mailbox.envelopes == [("no-reply@vcc.test", ["vera@example.org"])]
    assert (mail["To"], mail["From"]) == ("vera@example.org", "Vital Cities Challenge <no-reply@vcc.test>")
    assert mail["Subject"] == "Confirm your e-mail address for Vital Cities Challenge"
    assert "Vera Verifier" in text_of(mail) and "48 hours" in text_of(mail)
    assert mail.get_body(preferencelist=("html",)) is not None
    token = token_in(mail, "http://127.0.0.1:5000/verify-email")
    assert session.scalar(select(EmailToken.token_hash)) != token  # only the hash is stored

    answer = verify(client, token)
    assert answer.status_code == 200 and answer.json["status"] == "verified"  # type: ignore[attr-defined]
    user = session.get(User, user_id)
    me = client.get("/api/v1/me", headers=auth_headers(app, user)).json
    assert me["email_verified_at"] is not None
    again = verify(client, token)
    assert again.status_code == 410 and again.json["type"].endswith("/token-used")  # type: ignore[attr-defined]

    sent = session.scalars(select(OutboxMail)).one()
    assert (sent.status, sent.body_text, sent.body_html, sent.sent_at is not None) == (MailStatus.SENT, "", None, True)


def test_a_new_verification_mail_supersedes_the_older_link_and_a_verified_address_gets_none(
        app: Flask, client: FlaskClient, session: Session, smtp: SmtpServer) -> None:
    user = session.get(User, sign_up(client))
    headers = auth_headers(app, user)
    resent = client.post("/api/v1/me/email-verification", headers=headers)
    assert resent.status_code == 202, resent.json
    assert smtp.deliver(session).sent == 2
    first, second = (token_in(m, "/verify-email") for m in smtp.messages)
    old = verify(client, first)
    assert old.status_code == 400 and old.json["type"].endswith("/invalid-token")  # type: ignore[attr-defined]
    assert verify(client, second).status_code == 200  # type: ignore[attr-defined]
    refused = client.post("/api/v1/me/email-verification", headers=headers)
    assert refused.status_code == 409 and refused.json["type"].endswith("/email-already-verified")
    assert client.post("/api/v1/me/email-verification").status_code == 401


def test_a_verification_link_expires_after_48_hours(client: FlaskClient, session: Session,
                                                    smtp: SmtpServer) -> None:
    start = utcnow()
    with time_machine.travel(start, tick=False):
        user_id = sign_up(client)
        smtp.deliver(session)
    token = token_in(smtp.messages[0], "/verify-email")
    with time_machine.travel(start + timedelta(hours=48, seconds=1), tick=False):
        late = verify(client, token)
    assert late.status_code == 410 and late.json["type"].endswith("/token-expired")  # type: ignore[attr-defined]
    session.expire_all()
    assert session.get(User, user_id).email_verified_at is None


def test_a_mistyped_or_empty_token_is_a_clear_problem(client: FlaskClient) -> None:
    wrong = verify(client, "not-a-token")
    assert wrong.status_code == 400 and wrong.json["type"].endswith("/invalid-token")  # type: ignore[attr-defined]
    assert verify(client, "").status_code == 422  # type: ignore[attr-defined]


def test_re_sending_the_verification_mail_is_limited_per_person(side_app: Callable[..., Flask],
                                                                session: Session) -> None:
    limited = side_app(RATELIMIT_ENABLED="true", MAIL_RATELIMIT="2 per hour")
    alice, bob = make_user(session, email="alice@example.org"), make_user(session, email="bob@example.org")
    session.commit()
    client = limited.test_client()
    with limited.app_context():
        a, b = auth_headers(limited, alice), auth_headers(limited, bob)
    assert [client.post("/api/v1/me/email-verification", headers=a).status_code for _ in range(3)] == [202, 202, 429]
    assert client.post("/api/v1/me/email-verification", headers=b).status_code == 202
    kinds = session.scalars(select(OutboxMail.kind)).all()
    assert kinds == [MailKind.VERIFY_EMAIL] * 3
