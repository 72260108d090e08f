"""The page an invitation link opens (``/join/{code}``), for people who have no account yet.

Rendered on the server from the same preview the API answers (``service.invitations.preview``), so it says what
the person is invited to before any sign-in, and a bad code gets its own page with a 404 or 410. Signing up,
signing in and accepting run in the page's script against the public JSON API (same origin, the token kept in
memory only): the HTML holds no secret, the page loads nothing from elsewhere and runs under a strict
Content-Security-Policy (no inline script or style). Every text a person reads is in ``TEXTS``, marked for the
gettext catalogues and translated per request into the language ``Accept-Language`` asks for (the script's texts
too, handed over translated in the page's JSON data, so the script needs no catalogue of its own).
"""

from __future__ import annotations

from typing import Any

from flask import Response, render_template

from service.db import db
from service.errors import NotFound
from service.i18n import N_, Translator, catalogue, for_request
from service.invitations import preview
from service.models import Role

NOTICE_VERSION = "join-page-2026-12"
"""The version of ``TEXTS["consent_notice"]``; consent given on this page is recorded against it."""

TEXTS: dict[str, str] = {
    "title": N_("You are invited"),
    "invited_to": N_("You are invited to join {organisation}."),
    "as_role": N_("Your role there: {role}."),
    "challenge": N_("Challenge: {title}, {starts} to {ends} ({timezone})."),
    "team": N_("Team: {team}."),
    "will_heading": N_("When you sign in, this link will:"),
    "will_join_organisation": N_("make you a member of {organisation}"),
    "will_enrol": N_("enrol you in {challenge}"),
    "will_join_team": N_("put you in the team {team}"),
    "reserved": N_("This invitation is for one e-mail address: use the account it was sent to."),
    "signup_heading": N_("New here? Create your account"),
    "display_name": N_("Your name"),
    "email": N_("E-mail address"),
    "password": N_("Password (at least 8 characters)"),
    "consent_label": N_("I consent to the processing of my activity data (health data) so that my activity can "
                        "count."),
    "consent_notice": N_("Logging activity means we process your activity records (types, times, durations, "
                         "distances), which are health data, on your explicit consent. Without it you can take "
                         "part but not log activity; you can give or withdraw consent later in the app."),
    "signup": N_("Create account and join"),
    "signin_heading": N_("Already have an account? Sign in"),
    "signin": N_("Sign in and join"),
    "working": N_("One moment..."),
    "done_heading": N_("You are in"),
    "done_organisation": N_("You are a member of {organisation}."),
    "done_challenge": N_("You take part in {challenge}."),
    "done_team": N_("Your team: {team}."),
    "done_next": N_("Open the app and sign in with {email} to log your activity."),
    "error": N_("That did not work: {detail}"),
    "email_taken": N_("There is already an account with this address: sign in below instead."),
    "noscript": N_("This page needs JavaScript to create your account. You can also open the app and enter the "
                   "invitation code {code}."),
    "not_found_title": N_("Invitation not found"),
    "not_found": N_("No invitation has this code. Check the link, or ask the organiser for a new one."),
    "gone_title": N_("This invitation cannot be used any more"),
    "invitation-expired": N_("This invitation has expired. Ask the organiser for a new one."),
    "invitation-revoked": N_("The organiser withdrew this invitation. Ask them for a new one."),
    "invitation-used-up": N_("This invitation has been used as many times as it may be. Ask the organiser for a "
                             "new one."),
}

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


ROLES: dict[Role, str] = {
    # TRANSLATORS: a role in an organisation, shown as "Your role there: {role}."
    Role.MEMBER: N_("member"), Role.ORGANISER: N_("organiser"), Role.ADMIN: N_("admin"),
}
SCRIPT_TEXTS = ("working", "done_organisation", "done_challenge", "done_team", "done_next", "error", "email_taken")
"""The texts the page's script shows, handed to it translated in the page's JSON data block."""


def lines(found: dict[str, Any], tr: Translator) -> dict[str, Any]:
    """The sentences the page shows for ``found`` (a preview), in ``tr``'s language with names filled in;
    the challenge's dates are its own days, written the language's way."""
    org = found["organisation"]["name"]
    challenge, team = found["challenge"], found["team"]
    names = {"organisation": org, "challenge": challenge["title"] if challenge else "",
             "team": team["name"] if team else ""}
    there = Translator(tr.language, challenge["timezone"]) if challenge else tr
    return {
        "invited_to": tr.gettext(TEXTS["invited_to"], organisation=org),
        "as_role": tr.gettext(TEXTS["as_role"], role=tr.gettext(ROLES[found["role"]])),
        "challenge": tr.gettext(TEXTS["challenge"], title=challenge["title"], starts=there.date(challenge["starts_at"]),
                                ends=there.date(challenge["ends_at"]), timezone=challenge["timezone"])
        if challenge else None,
        "team": tr.gettext(TEXTS["team"], team=team["name"]) if team else None,
        "will": [tr.gettext(TEXTS[f"will_{step}"], **names) for step in found["will"]],
        "names": names,
    }


def _unfilled(tr: Translator, text: str) -> str:
    """The translation with its ``{fields}`` kept, for the script to fill (``gettext`` would fill them empty)."""
    return catalogue(tr.language).gettext(text)


def _page(template: str, status: int, tr: Translator, **context: Any) -> Response:
    texts = {key: _unfilled(tr, text) for key, text in TEXTS.items()}
    response = Response(render_template(template, texts=texts, lang=tr.language, **context), status=status,
                        mimetype="text/html")
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the code is in the URL
    response.headers["Content-Language"] = tr.language
    response.vary.add("Accept-Language")
    return response


def render(code: str) -> Response:
    """The page in the language the browser prefers (``Accept-Language``) of those we have, else English: the
    visitor is signed out, so no account says otherwise."""
    tr = for_request()
    try:
        found = preview(db.session, code)
    except NotFound:
        return _page("join_unusable.html", 404, tr, heading=tr.gettext(TEXTS["not_found_title"]),
                     reason=tr.gettext(TEXTS["not_found"]))
    if not found["valid"]:
        return _page("join_unusable.html", 410, tr, heading=tr.gettext(TEXTS["gone_title"]),
                     reason=tr.gettext(TEXTS[found["status"]]))
    shown = lines(found, tr)
    script_texts = {key: _unfilled(tr, TEXTS[key]) for key in SCRIPT_TEXTS}
    return _page("join.html", 200, tr, code=code, found=found, shown=shown, notice_version=NOTICE_VERSION,
                 noscript=tr.gettext(TEXTS["noscript"], code=code),
                 script_data={"code": code, "notice_version": NOTICE_VERSION, "locale": tr.language,
                              "texts": script_texts, **shown["names"]})
