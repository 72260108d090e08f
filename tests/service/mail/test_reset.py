"""Password reset by a mailed link, read from a real SMTP server: the old password stops working, the new one
works, every refresh token is revoked, the link works once and for 30 minutes, and the answer never tells
whether an account has the address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.clock import utcnow
from service.login_throttle import account_key
from service.mail.models import EmailToken, OutboxMail
from service.models import AuditNote, LoginThrottle, User
from tests.factories import PASSWORD, make_user
from tests.service.mail.conftest import SmtpServer, text_of, token_in

NEW_PASSWORD = "a brand new passphrase"


def sign_in(client: FlaskClient, email: str, password: str) -> object:
    return client.post("/api/v1/auth/token", json={"grant_type": "password", "email": email, "password": password})


def ask(client: FlaskClient, email: str) -> object:
    return client.post("/api/v1/auth/password-reset", json={"email": email})


def confirm(client: FlaskClient, token: str, password: str = NEW_PASSWORD) -> object:
    return client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": password})


def test_a_mailed_reset_link_sets_the_new_password_once_and_signs_out_every_session(
        app: Flask, client: FlaskClient, session: Session, smtp: SmtpServer) -> None:
    rita = make_user(session, email="rita@example.org", display_name="Rita Reset")
    session.commit()
    refresh = [sign_in(client, rita.email, PASSWORD).json["refresh_token"] for _ in range(2)]  # type: ignore[attr-defined]
    assert sign_in(client, rita.email, "wrong password").status_code == 401  # type: ignore[attr-defined]

    asked = ask(client, " Rita@Example.org ")
    assert asked.status_code == 202  # type: ignore[attr-defined]
    assert smtp.deliver(session).sent == 1
    [mail] = smtp.messages
    assert mail["To"] == "rita@example.org" and mail["Subject"] == "Reset your Vital Cities Challenge password"
    assert "30 minutes" in text_of(mail)
    token = token_in(mail, "http://127.0.0.1:5000/reset-password")

    done = confirm(client, token)
    assert done.status_code == 200 and done.json["status"] == "password-changed"  # type: ignore[attr-defined]
    assert sign_in(client, rita.email, PASSWORD).status_code == 401  # type: ignore[attr-defined]
    assert sign_in(client, rita.email, NEW_PASSWORD).status_code == 200  # type: ignore[attr-defined]
    for old in refresh:
        rotated = client.post("/api/v1/auth/token", json={"grant_type": "refresh_token", "refresh_token": old})
        assert rotated.status_code == 401, rotated.json
    again = confirm(client, token, "yet another passphrase")
    assert again.status_code == 410 and again.json["type"].endswith("/token-used")  # type: ignore[attr-defined]
    assert sign_in(client, rita.email, NEW_PASSWORD).status_code == 200  # type: ignore[attr-defined]

    session.expire_all()
    assert session.get(User, rita.id).email_verified_at is not None  # the link proved the mailbox
    note = session.scalars(select(AuditNote).where(AuditNote.event == "password-reset")).one()
    assert note.user_id == rita.id and token not in (note.detail or "") and NEW_PASSWORD not in (note.detail or "")
    assert session.get(LoginThrottle, account_key(rita.email, app.config["SECRET_KEY"])) is None


def test_a_reset_link_expires_after_30_minutes(client: FlaskClient, session: Session, smtp: SmtpServer) -> None:
    make_user(session, email="tom@example.org")
    session.commit()
    start = utcnow()
    with time_machine.travel(start, tick=False):
        ask(client, "tom@example.org")
        smtp.deliver(session)
    token = token_in(smtp.messages[0], "/reset-password")
    with time_machine.travel(start + timedelta(minutes=30, seconds=1), tick=False):
        late = confirm(client, token)
    assert late.status_code == 410 and late.json["type"].endswith("/token-expired")  # type: ignore[attr-defined]
    assert sign_in(client, "tom@example.org", PASSWORD).status_code == 200  # type: ignore[attr-defined]


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client: FlaskClient, session: Session,
                                                              smtp: SmtpServer) -> None:
    make_user(session, email="known@example.org")
    session.commit()
    known, unknown = ask(client, "known@example.org"), ask(client, "nobody@example.org")
    assert (known.status_code, unknown.status_code) == (202, 202)  # type: ignore[attr-defined]
    assert known.json == unknown.json  # type: ignore[attr-defined]
    assert known.headers.get("Content-Length") == unknown.headers.get("Content-Length")  # type: ignore[attr-defined]
    smtp.deliver(session)
    assert [m["To"] for m in smtp.messages] == ["known@example.org"]
    assert session.scalar(select(func.count()).select_from(EmailToken)) == 1


def test_a_weak_new_password_is_refused_and_the_link_still_works(client: FlaskClient, session: Session,
                                                                  smtp: SmtpServer) -> None:
    make_user(session, email="wes@example.org")
    session.commit()
    ask(client, "wes@example.org")
    smtp.deliver(session)
    token = token_in(smtp.messages[0], "/reset-password")
    weak = confirm(client, token, "short")
    assert weak.status_code == 422 and "password" in weak.json["errors"]  # type: ignore[attr-defined]
    assert confirm(client, token).status_code == 200  # type: ignore[attr-defined]


def test_a_newer_reset_mail_supersedes_the_older_link(client: FlaskClient, session: Session,
                                                      smtp: SmtpServer) -> None:
    make_user(session, email="nia@example.org")
    session.commit()
    ask(client, "nia@example.org")
    ask(client, "nia@example.org")
    smtp.deliver(session)
    first, second = (token_in(m, "/reset-password") for m in smtp.messages)
    old = confirm(client, first)
    assert old.status_code == 400 and old.json["type"].endswith("/invalid-token")  # type: ignore[attr-defined]
    assert confirm(client, second).status_code == 200  # type: ignore[attr-defined]


def test_reset_requests_are_limited_per_address_and_per_client(side_app: Callable[..., Flask],
                                                               session: Session) -> None:
    make_user(session, email="lim@example.org")
    session.commit()
    limited = side_app(RATELIMIT_ENABLED="true", MAIL_RATELIMIT="2 per hour", LOGIN_RATELIMIT="4 per minute")
    client = limited.test_client()
    same = [ask(client, "lim@example.org").status_code for _ in range(3)]  # type: ignore[attr-defined]
    assert same == [202, 202, 429]
    assert ask(client, "other@example.org").status_code == 202  # type: ignore[attr-defined]
    assert ask(client, "third@example.org").status_code == 429  # type: ignore[attr-defined]  # 5th of this client
    elsewhere = limited.test_client()
    refused = elsewhere.post("/api/v1/auth/password-reset", json={"email": "fourth@example.org"},
                             environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert refused.status_code == 202
    assert session.scalar(select(func.count()).select_from(OutboxMail)) == 2
