"""Registration, token issue and refresh, logout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from service import consent, firebase_auth, login_throttle, tokens
from service.account_schemas import LogoutSchema, RegisterSchema, TokenRequestSchema, TokenSchema, UserSchema
from service.accounts import check_password, find_user_by_email, register_user
from service.auth import issue_access_token
from service.clock import utcnow
from service.db import db
from service.errors import Conflict, Unauthenticated
from service.extensions import limiter
from service.mail import verification
from service.models import AuditNote, User

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth",
                description="Sign up, sign in (password or refresh token) and sign out.")
blp.record_once(lambda state: firebase_auth.init_app(state.app))


def _login_limit() -> str:
    return str(current_app.extensions["vcc_settings"].login_ratelimit)


def _refresh_lifetime() -> timedelta:
    return timedelta(days=current_app.extensions["vcc_settings"].refresh_token_days)


def token_response(user: User, refresh: tokens.IssuedRefresh) -> dict[str, Any]:
    access, expires_in = issue_access_token(user)
    return {"access_token": access, "token_type": "Bearer", "expires_in": expires_in,
            "refresh_token": refresh.token, "refresh_expires_in": refresh.expires_in}


@blp.route("/register")
class Register(MethodView):
    decorators = [limiter.limit(_login_limit, methods=["POST"])]  # also curbs scripted sign-ups

    @blp.arguments(RegisterSchema)
    @blp.response(201, UserSchema)
    def post(self, data: dict[str, Any]) -> User:
        """Create an account (email and password); a mail with a link to verify the address is sent"""
        try:
            notice_version = data.pop("health_data_consent_version")
            user = register_user(db.session, **data)
            if notice_version:
                consent.grant(db.session, user, notice_version)
            verification.send(db.session, user, current_app.extensions["vcc_settings"].public_base_url, utcnow())
            db.session.commit()
        except IntegrityError as exc:  # lost a race with another sign-up for the same email
            db.session.rollback()
            raise Conflict("An account with this email already exists.", code="email-taken") from exc
        return user


@blp.route("/token")
class Token(MethodView):
    decorators = [limiter.limit(_login_limit, methods=["POST"])]

    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Issue an access token and a rotating refresh token

        `grant_type=password` takes `email` and `password`; `grant_type=refresh_token` takes
        `refresh_token`, which is then used up: keep the new one. Presenting a used refresh token
        again signs out every session of that login. After `LOGIN_FREE_FAILURES` wrong passwords in a
        row for one email address each attempt must wait (1 s, 2 s, 4 s ...): a 429 with `Retry-After`.
        """
        lifetime = _refresh_lifetime()
        if data["grant_type"] == "refresh_token":
            user, refresh = tokens.rotate(db.session, data["refresh_token"], lifetime=lifetime)
        else:
            settings = current_app.extensions["vcc_settings"]
            throttle = login_throttle.account_key(data["email"], current_app.config["SECRET_KEY"])
            login_throttle.charge(db.session, throttle, now=utcnow(), free=settings.login_free_failures,
                                  cap_s=settings.login_backoff_max_s)
            db.session.commit()  # counted before the password is checked: concurrent guesses see it
            user = find_user_by_email(db.session, data["email"])
            if not check_password(user, data["password"]) or user is None or user.deleted_at is not None:
                db.session.add(AuditNote(user_id=user.id if user else None, event="login-refused"))
                db.session.commit()
                raise Unauthenticated("The email or password is wrong.", code="invalid-credentials")
            login_throttle.clear(db.session, throttle)
            refresh = tokens.issue(db.session, user, lifetime=lifetime)
        body = token_response(user, refresh)
        db.session.commit()
        return body


@blp.route("/logout")
class Logout(MethodView):
    @blp.arguments(LogoutSchema)
    @blp.response(204)
    def post(self, data: dict[str, Any]) -> Response:
        """Sign out: revoke the refresh token and every token rotated from the same login"""
        tokens.revoke(db.session, data["refresh_token"])
        db.session.commit()
        return Response(status=204)


blueprints: list[Blueprint] = [blp]
