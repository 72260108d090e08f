"""Mails in the reader's language: a person's own locale for their mails, the invitee's, the inviter's or the
organisation's for an invitation, English otherwise; plurals and dates the language's way; the link pages in
the mail's language."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.bulk_invitations import mail_invitation
from service.clock import utcnow
from service.i18n import translator
from service.invitations import create_invitation
from service.mail import texts, verification
from service.mail.models import MailKind, OutboxMail
from service.models import Organisation, Role, User
from tests.factories import auth_headers, make_org, make_user
from tests.service.mail.conftest import SmtpServer, link_in, text_of

BASE = "https://vcc.test"


def test_a_dutch_persons_reset_mail_read_from_the_smtp_server_is_in_dutch(
        client: FlaskClient, session: Session, smtp: SmtpServer) -> None:
    make_user(session, email="daan@example.nl", display_name="Daan", locale="nl-NL", timezone="Europe/Amsterdam")
    session.commit()
    assert client.post("/api/v1/auth/password-reset", json={"email": "daan@example.nl"},
                       headers={"Accept-Language": "en"}).status_code == 202
    assert smtp.deliver(session).sent == 1
    [mail] = smtp.messages
    assert mail["Subject"] == "Uw wachtwoord voor Vital Cities Challenge opnieuw instellen"
    body = text_of(mail)
    assert body.startswith("Beste Daan,") and "30 minuten lang" in body and "uw wachtwoord blijft ongewijzigd" in body
    assert not any(english in body for english in ("Hello", "minutes", "ignore this mail", "In the app"))
    html = mail.get_body(preferencelist=("html",))
    assert html is not None and '<html lang="nl">' in html.get_content() and "Nieuw wachtwoord kiezen" in str(html)
    assert link_in(mail, "/reset-password")["lang"] == "nl"
    with client.get(f"/reset-password?token={link_in(mail, '/reset-password')['token']}&lang=nl",
                    headers={"Accept-Language": "en-GB,en;q=0.9"}) as page:  # the mail's language, not the browser's
        shown = page.get_data(as_text=True)
    assert '<html lang="nl">' in shown and "Kies een nieuw wachtwoord" in shown
    assert page.headers["Content-Language"] == "nl"


def test_verification_mails_count_hours_with_the_plural_forms_of_their_language(session: Session) -> None:
    now = utcnow()
    aino = make_user(session, display_name="Aino", locale="fi", email_verified_at=None)
    verification.send(session, aino, BASE, now)
    mail = session.scalars(select(OutboxMail).where(OutboxMail.user_id == aino.id)).one()
    assert (mail.locale, mail.subject) == ("fi", "Vahvista sähköpostiosoitteesi palvelussa Vital Cities Challenge")
    assert "Hei Aino," in mail.body_text and "voimassa 48 tuntia" in mail.body_text and "&lang=fi" in mail.body_text
    params = {"name": "Ann", "link": f"{BASE}/verify-email?token=t", "token": "t"}
    assert "for 1 hour." in texts.render(MailKind.VERIFY_EMAIL, "en", {**params, "hours": 1}).text
    assert "voimassa 1 tunnin." in texts.render(MailKind.VERIFY_EMAIL, "fi", {**params, "hours": 1}).text
    assert "durante 1 hora." in texts.render(MailKind.VERIFY_EMAIL, "es", {**params, "hours": 1}).text
    assert "48 hours" in texts.render(MailKind.VERIFY_EMAIL, "de-DE", {**params, "hours": 48}).text  # German: none


def _invite(session: Session, org: Organisation, inviter: User, email: str) -> OutboxMail:
    invitation = create_invitation(session, organisation=org, created_by=inviter, inviter_role=Role.ORGANISER,
                                   email=email, max_uses=1)
    mail_invitation(session, invitation, inviter, BASE, utcnow())
    return session.scalars(select(OutboxMail).where(OutboxMail.recipient == email)).one()


def test_an_invitation_to_an_address_without_an_account_is_in_the_inviters_language_with_a_local_date(
        app: Flask, client: FlaskClient, session: Session, smtp: SmtpServer) -> None:
    inviter = make_user(session, display_name="Lucía", locale="es-ES")
    org = make_org(session, name="Acme", timezone="Pacific/Auckland", members={inviter: Role.ORGANISER})
    session.commit()
    made = client.post(f"/api/v1/organisations/{org.id}/invitations", json={"email": "new@acme.example"},
                       headers=auth_headers(app, inviter))
    assert made.status_code == 201, made.json
    assert smtp.deliver(session).sent == 1
    [mail] = smtp.messages
    assert mail["Subject"] == "Invitación para unirse a Acme en Vital Cities Challenge"
    expires = datetime.fromisoformat(made.json["expires_at"]).astimezone(UTC)
    local_day = translator("es", "Pacific/Auckland").date(expires)  # the organisation's day: "17 de diciembre de 2026"
    body = text_of(mail)
    assert body.startswith("Hola:") and "Lucía le invita a unirse a Acme en Vital Cities Challenge." in body
    assert f"funciona hasta el {local_day}." in body and " de 20" in local_day
    assert made.json["link"] in body


def test_an_invitation_to_someone_with_an_account_is_in_their_own_language(session: Session) -> None:
    inviter = make_user(session, locale="es")
    make_user(session, email="aino@example.fi", locale="fi-FI")
    org = make_org(session, name="Tampere", members={inviter: Role.ORGANISER})
    mail = _invite(session, org, inviter, "aino@example.fi")
    assert (mail.locale, mail.subject) == ("fi", "Kutsu liittyä yhteisöön Tampere palvelussa Vital Cities Challenge")
    assert mail.body_text.startswith("Hei,") and "asti." in mail.body_text


@pytest.mark.parametrize(("inviter_locale", "country", "language", "greeting"), [
    ("de-DE", "FI", "fi", "Hei,"),        # no German: the organisation's country speaks Finnish
    ("sv-FI", "FI", "en", "Hello,"),      # a Swedish-speaking Finn: not Finnish, English
    ("de-DE", None, "en", "Hello,"),      # no country: English
    ("nl", "FI", "nl", "Goedendag,"),     # the inviter's language first
])
def test_without_an_invitee_account_the_inviters_then_the_organisations_language_then_english(
        session: Session, inviter_locale: str, country: str | None, language: str, greeting: str) -> None:
    inviter = make_user(session, locale=inviter_locale)
    org = make_org(session, members={inviter: Role.ORGANISER})
    org.country = country
    mail = _invite(session, org, inviter, f"someone.{inviter_locale.lower()}.{country}@example.org".lower())
    assert mail.locale == language and mail.body_text.startswith(greeting)


def test_an_invitation_names_challenge_and_team_in_one_sentence_of_the_language() -> None:
    params = {"inviter": "Ann", "organisation": "Acme", "challenge": "Step up", "team": "Finance",
              "link": f"{BASE}/join/x", "expires": None}
    nl = texts.render(MailKind.INVITATION, "nl", params)
    assert ("Ann nodigt u uit om lid te worden van Acme op Vital Cities Challenge en mee te doen aan Step up in het "
            "team Finance.") in nl.text
    assert "werkt tot de organisator de uitnodiging intrekt" in nl.text
    en = texts.render(MailKind.INVITATION, "en", {**params, "team": None})
    assert "Ann invites you to join Acme on Vital Cities Challenge, to take part in Step up." in en.text


def test_the_link_pages_follow_accept_language_without_a_lang_and_hand_the_script_its_texts(
        client: FlaskClient) -> None:
    with client.get("/verify-email?token=abc", headers={"Accept-Language": "es-MX,es;q=0.9"}) as page:
        shown = page.get_data(as_text=True)
    assert '<html lang="es">' in shown and "Confirmar mi dirección" in shown
    done = _script_texts(shown)["done"]
    assert done == "Su dirección de correo electrónico está confirmada. Puede cerrar esta página."
    with client.get("/reset-password?token=abc&lang=xx", headers={"Accept-Language": "de"}) as page:
        shown = page.get_data(as_text=True)
    assert '<html lang="en">' in shown and _script_texts(shown)["passwords_differ"] == "The two passwords differ."


def _script_texts(html: str) -> dict[str, str]:
    found = re.search(r'<script type="application/json" id="mail-data">(.*?)</script>', html, re.S)
    assert found is not None
    return dict(json.loads(found.group(1)))
