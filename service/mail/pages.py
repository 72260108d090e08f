"""The two pages mailed links open in a browser: choose a new password, confirm an address.

A GET never uses a token (mail scanners open links before people do): each page is HTML whose script posts
the token from its URL to the JSON API, as an app would. The page speaks the mail's language (the link's
``lang``, which is the account's), else what ``Accept-Language`` asks for, else English; the script's texts
come translated in the page's JSON data block. No external assets and a strict Content-Security-Policy
(script and style from this origin only, no inline code, no framing); the token stays out of the ``Referer``
of anything the page loads.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, render_template, request

from service.i18n import N_, catalogue, for_request

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")

TEXTS: dict[str, str] = {
    "reset_title": N_("Choose a new password"),
    "new_password": N_("New password (at least 8 characters)"),
    "again": N_("The same again"),
    "reset_button": N_("Change my password"),
    "reset_done": N_("Your password is changed. Sign in with it in the app."),
    "verify_title": N_("Confirm your e-mail address"),
    "verify_button": N_("Confirm my address"),
    "verify_done": N_("Your e-mail address is confirmed. You can close this page."),
    "no_token": N_("This link has no token; open the link from the mail again."),
    "passwords_differ": N_("The two passwords differ."),
    "failed": N_("Something went wrong; try again later."),
    "unreachable": N_("The service cannot be reached; try again."),
}
SCRIPT_TEXTS = ("no_token", "passwords_differ", "failed", "unreachable")

bp = Blueprint("mail-pages", __name__, static_folder=str(STATIC), static_url_path="/mail/static",
               template_folder="templates")


@bp.after_request
def _strict(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(template: str, done: str) -> Response:
    tr = for_request(request.args.get("lang"))
    texts = {key: catalogue(tr.language).gettext(text) for key, text in TEXTS.items()}
    script_texts = {**{key: texts[key] for key in SCRIPT_TEXTS}, "done": texts[done]}
    response = Response(render_template(template, texts=texts, script_texts=script_texts, lang=tr.language),
                        mimetype="text/html")
    response.headers["Content-Language"] = tr.language
    response.vary.add("Accept-Language")
    return response


@bp.get("/reset-password")
def reset_password() -> Response:
    return _page("reset-password.html", "reset_done")


@bp.get("/verify-email")
def verify_email() -> Response:
    return _page("verify-email.html", "verify_done")
