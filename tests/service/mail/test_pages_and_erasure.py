"""The pages mailed links open (static, strict CSP, no token used by a GET), and erasure taking a person's mails
and link tokens with them."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.accounts import delete_user
from service.mail.models import EmailToken, OutboxMail
from service.models import User
from tests.factories import PASSWORD, make_user


def test_the_link_pages_load_only_their_own_assets_under_a_strict_policy_and_use_no_token(
        client: FlaskClient, session: Session) -> None:
    make_user(session, email="pat@example.org")
    session.commit()
    client.post("/api/v1/auth/password-reset", json={"email": "pat@example.org"})
    for path in ("/reset-password", "/verify-email"):
        with client.get(f"{path}?token=abc") as page:
            assert page.status_code == 200 and page.mimetype == "text/html"
            csp = page.headers["Content-Security-Policy"]
            assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert page.headers["Referrer-Policy"] == "no-referrer"
            html = page.get_data(as_text=True)
        assert "<script>" not in html and "style=" not in html and "http" not in html.replace("http-equiv", "")
        for asset in re.findall(r'(?:src|href)="(/[^"]+)"', html):
            with client.get(asset) as loaded:
                assert loaded.status_code == 200, asset
    assert session.scalar(select(func.count()).select_from(EmailToken).where(EmailToken.used_at.is_not(None))) == 0


def test_erasure_deletes_the_persons_mails_and_link_tokens_and_no_one_elses(app: Flask, client: FlaskClient,
                                                                            session: Session) -> None:
    for email in ("gone@example.org", "stays@example.org"):
        assert client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD,
                                                          "display_name": "Some One"}).status_code == 201
        client.post("/api/v1/auth/password-reset", json={"email": email})
    gone = session.scalars(select(User).where(User.email == "gone@example.org")).one()
    counts = delete_user(session, gone, secret=app.config["SECRET_KEY"])
    session.commit()
    assert (counts["email_outbox"], counts["email_tokens"]) == (2, 2)
    assert set(session.scalars(select(OutboxMail.recipient))) == {"stays@example.org"}
    assert session.scalar(select(func.count()).select_from(EmailToken)) == 2
