"""The page an invitation link opens, signed out: what it invites to, clear pages for codes that cannot be
used, nothing secret or external in the HTML."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from flask import Flask
from flask.testing import FlaskClient

from service.clock import utcnow
from service.invitations import create_invitation, revoke
from service.models import Invitation, Role
from tests.challenges.factories import make_challenge
from tests.factories import make_org, make_user


def _invitation(session: Any, **kwargs: Any) -> Invitation:
    organiser = make_user(session)
    org = make_org(session, name="Tampere & Co", members={organiser: Role.ORGANISER})
    invitation = create_invitation(session, organisation=org, created_by=organiser, inviter_role=Role.ORGANISER,
                                   **kwargs)
    session.commit()
    return invitation


def test_the_page_says_what_the_invitation_is_for_and_offers_sign_up_and_sign_in(
        client: FlaskClient, session: Any) -> None:
    invitation = _invitation(session, email="secret.person@example.org")
    page = client.get(f"/join/{invitation.code}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "You are invited to join Tampere &amp; Co." in html
    assert 'id="signup-form"' in html and 'id="signin-form"' in html and 'id="signup-consent"' in html
    assert "secret.person" not in html  # a reserved invitation never shows whom it is for
    assert "use the account it was sent to" in html


def test_the_page_loads_nothing_from_elsewhere_and_runs_under_a_strict_policy(
        client: FlaskClient, session: Any) -> None:
    invitation = _invitation(session)
    page = client.get(f"/join/{invitation.code}")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert not re.search(r"(src|href)=\"(https?:)?//", html)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert all('src="/join/static/' in attrs or 'type="application/json"' in attrs for attrs, _ in scripts)
    assert " style=" not in html and "<style" not in html and " on" + "submit=" not in html
    for asset in ("/join/static/join.js", "/join/static/join.css"):
        with client.get(asset) as resp:
            assert resp.status_code == 200
            assert "innerHTML" not in resp.get_data(as_text=True)


def test_unknown_expired_revoked_and_used_up_codes_get_a_page_saying_so(
        app: Flask, client: FlaskClient, session: Any) -> None:
    unknown = client.get("/join/no-such-code")
    assert unknown.status_code == 404 and "No invitation has this code" in unknown.get_data(as_text=True)
    revoked = _invitation(session)
    revoke(session, revoked)
    session.commit()
    gone = client.get(f"/join/{revoked.code}")
    assert gone.status_code == 410 and "withdrew this invitation" in gone.get_data(as_text=True)
    used = _invitation(session, max_uses=1)
    used.uses = 1
    session.commit()
    assert client.get(f"/join/{used.code}").status_code == 410
    soon = _invitation(session, expires_in=timedelta(days=1))
    with time_machine.travel(utcnow() + timedelta(days=2)):
        expired = client.get(f"/join/{soon.code}")
        preview = client.get(f"/api/v1/invitations/{soon.code}")
    assert expired.status_code == 410 and "has expired" in expired.get_data(as_text=True)
    assert preview.status_code == 200
    assert preview.json["valid"] is False and preview.json["status"] == "invitation-expired"


def _script_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="join-data">(.*?)</script>', html, re.S)
    assert found is not None
    return dict(json.loads(found.group(1)))


def test_the_page_answers_in_finnish_for_a_finnish_browser_with_dates_written_the_finnish_way(
        client: FlaskClient, session: Any) -> None:
    organiser = make_user(session)
    org = make_org(session, name="Tampere & Co", members={organiser: Role.ORGANISER})
    challenge = make_challenge(session, org, title="Kevätkisa", timezone="Europe/Helsinki",
                               starts_at=datetime(2026, 5, 31, 21, 30, tzinfo=UTC),
                               ends_at=datetime(2026, 6, 30, 20, 59, tzinfo=UTC))
    invitation = create_invitation(session, organisation=org, created_by=organiser, inviter_role=Role.ORGANISER,
                                   challenge_id=challenge.id)
    session.commit()
    page = client.get(f"/join/{invitation.code}", headers={"Accept-Language": "fi-FI,fi;q=0.9"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Content-Language"] == "fi"
    assert "Accept-Language" in page.headers["Vary"] and '<html lang="fi">' in html
    assert "Sinut on kutsuttu liittymään yhteisöön Tampere &amp; Co." in html
    # the challenge's own days in Helsinki: it starts on 1 June there, not on 31 May (UTC)
    assert "Haaste: Kevätkisa, 1. kesäkuuta 2026\u201330. kesäkuuta 2026 (Europe/Helsinki)." in html
    assert "Roolisi yhteisössä: jäsen." in html and "ilmoittaa sinut haasteeseen Kevätkisa" in html
    assert "You are invited" not in html and "Create account" not in html
    data = _script_data(html)
    assert data["locale"] == "fi" and data["texts"]["done_organisation"] == "Olet nyt yhteisön {organisation} jäsen."
    assert data["texts"]["error"] == "Se ei onnistunut: {detail}"  # fields kept for the script to fill


def test_the_page_answers_in_english_for_a_language_we_have_no_catalogue_of(
        client: FlaskClient, session: Any) -> None:
    invitation = _invitation(session)
    page = client.get(f"/join/{invitation.code}", headers={"Accept-Language": "de-DE,de;q=0.9,fr;q=0.5"})
    html = page.get_data(as_text=True)
    assert page.headers["Content-Language"] == "en" and '<html lang="en">' in html
    assert "You are invited to join Tampere &amp; Co." in html and "Your role there: member." in html
    assert _script_data(html)["texts"]["done_team"] == "Your team: {team}."


def test_pages_for_codes_that_cannot_be_used_speak_the_browsers_language_too(
        client: FlaskClient, session: Any) -> None:
    unknown = client.get("/join/no-such-code", headers={"Accept-Language": "es-ES"})
    assert unknown.status_code == 404 and "Ninguna invitación tiene este código." in unknown.get_data(as_text=True)
    revoked = _invitation(session)
    revoke(session, revoked)
    session.commit()
    gone = client.get(f"/join/{revoked.code}", headers={"Accept-Language": "nl-BE,nl;q=0.8"})
    html = gone.get_data(as_text=True)
    assert gone.status_code == 410 and '<html lang="nl">' in html
    assert "Deze uitnodiging kan niet meer worden gebruikt" in html and "heeft deze uitnodiging ingetrokken" in html
