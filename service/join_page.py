"""The page an invitation link opens (``/join/{code}``), for people who have no account yet.

Rendered on the server from the same preview the API answers (``service.invitations.preview``), so it says what
the person is invited to before any sign-in, and a bad code gets its own page with a 404 or 410. Signing up,
signing in and accepting run in the page's script against the public JSON API (same origin, the token kept in
memory only): the HTML holds no secret, the page loads nothing from elsewhere and runs under a strict
Content-Security-Policy (no inline script or style). Every text a person reads is in ``TEXTS`` (the script's
too, handed over as JSON data), so one catalogue can translate the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, render_template

from service.db import db
from service.errors import NotFound
from service.invitations import preview

NOTICE_VERSION = "join-page-2026-12"
"""The version of ``TEXTS["consent_notice"]``; consent given on this page is recorded against it."""

TEXTS: dict[str, str] = {
    "title": "You are invited",
    "invited_to": "You are invited to join {organisation}.",
    "as_role": "Your role there: {role}.",
    "challenge": "Challenge: {title}, {starts} to {ends} ({timezone}).",
    "team": "Team: {team}.",
    "will_heading": "When you sign in, this link will:",
    "will_join_organisation": "make you a member of {organisation}",
    "will_enrol": "enrol you in {challenge}",
    "will_join_team": "put you in the team {team}",
    "reserved": "This invitation is for one e-mail address: use the account it was sent to.",
    "signup_heading": "New here? Create your account",
    "display_name": "Your name",
    "email": "E-mail address",
    "password": "Password (at least 8 characters)",
    "consent_label": "I consent to the processing of my activity data (health data) so that my activity can count.",
    "consent_notice": "Logging activity means we process your activity records (types, times, durations, "
                      "distances), which are health data, on your explicit consent. Without it you can take "
                      "part but not log activity; you can give or withdraw consent later in the app.",
    "signup": "Create account and join",
    "signin_heading": "Already have an account? Sign in",
    "signin": "Sign in and join",
    "working": "One moment...",
    "done_heading": "You are in",
    "done_organisation": "You are a member of {organisation}.",
    "done_challenge": "You take part in {challenge}.",
    "done_team": "Your team: {team}.",
    "done_next": "Open the app and sign in with {email} to log your activity.",
    "error": "That did not work: {detail}",
    "email_taken": "There is already an account with this address: sign in below instead.",
    "noscript": "This page needs JavaScript to create your account. You can also open the app and enter the "
                "invitation code {code}.",
    "not_found_title": "Invitation not found",
    "not_found": "No invitation has this code. Check the link, or ask the organiser for a new one.",
    "gone_title": "This invitation cannot be used any more",
    "invitation-expired": "This invitation has expired. Ask the organiser for a new one.",
    "invitation-revoked": "The organiser withdrew this invitation. Ask them for a new one.",
    "invitation-used-up": "This invitation has been used as many times as it may be. Ask the organiser for a "
                          "new one.",
}

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def _day(value: datetime) -> str:
    return value.date().isoformat()


def lines(found: dict[str, Any]) -> dict[str, Any]:
    """The sentences the page shows for ``found`` (a preview), with names filled in."""
    org = found["organisation"]["name"]
    challenge, team = found["challenge"], found["team"]
    names = {"organisation": org, "challenge": challenge["title"] if challenge else "",
             "team": team["name"] if team else ""}
    return {
        "invited_to": TEXTS["invited_to"].format(organisation=org),
        "as_role": TEXTS["as_role"].format(role=found["role"].value),
        "challenge": TEXTS["challenge"].format(title=challenge["title"], starts=_day(challenge["starts_at"]),
                                               ends=_day(challenge["ends_at"]), timezone=challenge["timezone"])
        if challenge else None,
        "team": TEXTS["team"].format(team=team["name"]) if team else None,
        "will": [TEXTS[f"will_{step}"].format(**names) for step in found["will"]],
        "names": names,
    }


def _page(template: str, status: int, **context: Any) -> Response:
    response = Response(render_template(template, texts=TEXTS, **context), status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the code is in the URL
    return response


def render(code: str) -> Response:
    try:
        found = preview(db.session, code)
    except NotFound:
        return _page("join_unusable.html", 404, heading=TEXTS["not_found_title"], reason=TEXTS["not_found"])
    if not found["valid"]:
        return _page("join_unusable.html", 410, heading=TEXTS["gone_title"], reason=TEXTS[found["status"]])
    script_texts = {k: TEXTS[k] for k in ("working", "done_organisation", "done_challenge", "done_team",
                                          "done_next", "error", "email_taken")}
    return _page("join.html", 200, code=code, found=found, shown=lines(found), notice_version=NOTICE_VERSION,
                 script_data={"code": code, "notice_version": NOTICE_VERSION, "texts": script_texts,
                              **lines(found)["names"]})
