"""The two pages mailed links open in a browser: choose a new password, confirm an address.

A GET never uses a token (mail scanners open links before people do): each page is static HTML whose script
posts the token from its URL to the JSON API, as an app would. No external assets and a strict
Content-Security-Policy (script and style from this origin only, no inline code, no framing); the token
stays out of the ``Referer`` of anything the page loads.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")

bp = Blueprint("mail-pages", __name__, static_folder=str(STATIC), static_url_path="/mail/static")


@bp.after_request
def _strict(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/reset-password")
def reset_password() -> Response:
    return send_from_directory(STATIC, "reset-password.html", max_age=0)


@bp.get("/verify-email")
def verify_email() -> Response:
    return send_from_directory(STATIC, "verify-email.html", max_age=0)
