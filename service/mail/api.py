"""The e-mail endpoints: re-send my verification mail, verify an address, ask for and use a reset link.

Every one only writes rows (tokens, outbox); the scheduler sends the mails. Limits: the client address's
``LOGIN_RATELIMIT`` on the public ones, and ``MAIL_RATELIMIT`` per e-mail address (reset requests, keyed by
a keyed hash of the address, so the limiter's storage holds no address) and per signed-in person (re-sends).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from service.auth import auth_required, current_user
from service.clock import utcnow
from service.db import db
from service.extensions import limiter
from service.login_throttle import account_key
from service.mail import erasure, reset, verification  # noqa: F401  (erasure connects its user_deleted receiver)
from service.mail.schemas import (
    AcceptedSchema,
    PasswordResetConfirmSchema,
    PasswordResetRequestSchema,
    VerifyEmailSchema,
)

blp = Blueprint("email", __name__, url_prefix="/api/v1",
                description="E-mail: verify an address, reset a forgotten password by a mailed link.")

RESET_ASKED = {"status": "accepted", "detail": "If an account has this address, a mail with a link to choose a new "
               "password is on its way; the link works once, for 30 minutes."}


def _settings() -> Any:
    return current_app.extensions["vcc_settings"]


def _client_limit() -> str:
    return str(_settings().login_ratelimit)


def _mail_limit() -> str:
    return str(_settings().mail_ratelimit)


def _per_address() -> str:
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return "reset-address:" + account_key(str(email or ""), current_app.config["SECRET_KEY"])


def _per_person() -> str:
    return f"verify-user:{current_user().id}"


@blp.route("/me/email-verification")
class MyEmailVerification(MethodView):
    @auth_required
    @blp.response(202, AcceptedSchema)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @limiter.limit(_mail_limit, key_func=_per_person)
    def post(self) -> dict[str, Any]:
        """Send me a new verification mail (the newest link replaces the older ones; a few per hour)"""
        verification.send(db.session, current_user(), _settings().public_base_url, utcnow())
        db.session.commit()
        return {"status": "accepted", "detail": "A mail with a link to verify your address is on its way."}


@blp.route("/auth/verify-email")
class VerifyEmail(MethodView):
    decorators = [limiter.limit(_client_limit, methods=["POST"])]

    @blp.arguments(VerifyEmailSchema)
    @blp.response(200, AcceptedSchema)
    @blp.alt_response(410, response="GONE")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Verify an e-mail address with the token of the mailed link (once)"""
        verification.verify(db.session, data["token"], utcnow())
        db.session.commit()
        return {"status": "verified", "detail": "Your e-mail address is verified."}


@blp.route("/auth/password-reset")
class PasswordReset(MethodView):
    decorators = [limiter.limit(_client_limit, methods=["POST"]),
                  limiter.limit(_mail_limit, key_func=_per_address, methods=["POST"])]

    @blp.arguments(PasswordResetRequestSchema)
    @blp.response(202, AcceptedSchema)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Ask for a password-reset mail (the answer is the same whether or not an account has the address)"""
        reset.request(db.session, data["email"], _settings().public_base_url, utcnow())
        db.session.commit()
        return RESET_ASKED


@blp.route("/auth/password-reset/confirm")
class PasswordResetConfirm(MethodView):
    decorators = [limiter.limit(_client_limit, methods=["POST"])]

    @blp.arguments(PasswordResetConfirmSchema)
    @blp.response(200, AcceptedSchema)
    @blp.alt_response(410, response="GONE")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Choose a new password with the token of the mailed link; every session is signed out"""
        reset.confirm(db.session, data["token"], data["password"], utcnow(), current_app.config["SECRET_KEY"])
        db.session.commit()
        return {"status": "password-changed", "detail": "Your password is changed; sign in with the new one on "
                "every device."}


blueprints: list[Blueprint] = [blp]
