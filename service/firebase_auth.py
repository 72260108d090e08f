"""Accept Firebase ID tokens (RS256) as bearer tokens when Firebase is configured.

``service.auth`` hands every RS256 bearer token to ``app.extensions["firebase_verifier"]``, which this
module installs when ``FIREBASE_PROJECT_ID`` or ``FIREBASE_CREDENTIALS`` is set. Verification is
firebase-admin's own ``auth.verify_id_token`` (signature against Google's published certificates,
audience = project id, issuer ``https://securetoken.google.com/<project>``, expiry). The caller's
account is found by Firebase uid, else linked by verified email, else created without a password.

The one test seam: firebase-admin 7.7 fetches the signing certificates from the constant
``_token_gen.ID_TOKEN_CERT_URI`` through ``TokenVerifier.id_token_verifier.cert_url``. When
``FIREBASE_CERT_URL`` is set, ``_point_cert_url`` replaces that attribute on this app's auth client so
tests can serve a locally made certificate from 127.0.0.1 and sign tokens with its key. Everything
else (decoding, checks, certificate fetch over HTTP, signature) is the SDK's real code path.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.accounts import find_user_by_email, normalise_email
from service.db import db
from service.errors import Unauthenticated, Unavailable
from service.models import User

log = logging.getLogger(__name__)


def _firebase_app(project_id: str | None, credentials_path: str | None) -> Any:
    import firebase_admin
    import google.auth.credentials
    from firebase_admin import credentials

    class _Anonymous(credentials.Base):
        """Verifying ID tokens needs only public certificates, so no service account is required."""

        def get_credential(self) -> google.auth.credentials.Credentials:
            return google.auth.credentials.AnonymousCredentials()

    from service.firebase_credentials import load_service_account

    cred: credentials.Base = (credentials.Certificate(load_service_account(credentials_path))
                              if credentials_path else _Anonymous())
    options = {"projectId": project_id} if project_id else {}
    # One named Firebase app per Flask app (never the default app, which push delivery may own).
    return firebase_admin.initialize_app(cred, options, name=f"vcc-auth-{uuid.uuid4().hex}")


def _point_cert_url(fb_app: Any, cert_url: str) -> None:
    """The seam described in the module docstring (firebase-admin 7.7 internals, kept in one place)."""
    from firebase_admin import auth

    auth._get_client(fb_app)._token_verifier.id_token_verifier.cert_url = cert_url


def user_for_claims(claims: dict[str, Any]) -> User:
    """Find or create the account behind verified Firebase claims; commits a newly created or linked user."""
    session = db.session
    uid = str(claims["uid"])
    user = session.scalar(select(User).where(User.firebase_uid == uid))
    if user is None:
        email = claims.get("email")
        if email and claims.get("email_verified"):
            user = find_user_by_email(session, email)
            if user is not None and user.firebase_uid is None and user.deleted_at is None:
                user.firebase_uid = uid
        if user is None:
            address = normalise_email(email) if email else f"{uid.lower()}@firebase.invalid"
            name = str(claims.get("name") or address.split("@")[0])[:80]
            user = User(email=address, display_name=name, firebase_uid=uid, password_hash=None)
            session.add(user)
        try:
            session.commit()
        except IntegrityError:  # a parallel first request created it, or the email belongs to someone else
            session.rollback()
            user = session.scalar(select(User).where(User.firebase_uid == uid))
            if user is None:
                raise Unauthenticated("This Firebase account's email is already used by another account; "
                                      "sign in with a password.", code="firebase-email-taken") from None
    if user.deleted_at is not None:
        raise Unauthenticated("The account behind this token no longer exists.", code="invalid-token")
    return user


def make_verifier(fb_app: Any) -> Callable[[str], User]:
    from firebase_admin import auth

    def verify(token: str) -> User:
        try:
            claims = auth.verify_id_token(token, app=fb_app, clock_skew_seconds=5)
        except auth.ExpiredIdTokenError as exc:
            raise Unauthenticated("The Firebase ID token has expired.", code="token-expired") from exc
        except auth.CertificateFetchError as exc:
            log.warning("firebase certificate fetch failed: %s", exc)
            raise Unavailable("Cannot check Firebase tokens right now; retry shortly.",
                              code="firebase-unavailable") from exc
        except (auth.InvalidIdTokenError, ValueError) as exc:
            raise Unauthenticated("The Firebase ID token is not valid.", code="invalid-token") from exc
        return user_for_claims(claims)

    return verify


def init_app(flask_app: Flask) -> None:
    settings = flask_app.extensions["vcc_settings"]
    if not (settings.firebase_project_id or settings.firebase_credentials):
        return
    fb_app = _firebase_app(settings.firebase_project_id, settings.firebase_credentials)
    if settings.firebase_cert_url:
        _point_cert_url(fb_app, settings.firebase_cert_url)
    flask_app.extensions["firebase_verifier"] = make_verifier(fb_app)
