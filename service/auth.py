"""Who is calling: bearer-token verification, the current user, and per-organisation role checks.

Access tokens are short-lived HS256 JWTs; Firebase ID tokens are accepted when Firebase is
configured (``service.firebase_auth``). Views use ``@auth_required`` and ``current_user()``;
role checks always name the organisation, so an organiser of one organisation can do nothing in another.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar, cast

import jwt
from flask import current_app, g, has_request_context, request
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from service import consent
from service.clock import utcnow
from service.db import db
from service.errors import Forbidden, NotFound, Unauthenticated
from service.models import Membership, Role, User
from service.users import active_user

F = TypeVar("F", bound=Callable[..., Any])

ALGORITHM = "HS256"
ISSUER = "vcc-backend"


def issue_access_token(user: User) -> tuple[str, int]:
    settings = current_app.extensions["vcc_settings"]
    lifetime = timedelta(minutes=settings.access_token_minutes)
    now = utcnow()
    claims = {
        "sub": str(user.id),
        "iss": ISSUER,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    token = jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)
    return token, int(lifetime.total_seconds())


def _decode_access(token: str) -> dict[str, Any]:
    settings = current_app.extensions["vcc_settings"]
    try:
        claims = jwt.decode(token, settings.secret_key, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "sub", "iss"]},
                            leeway=5)
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("The access token has expired; refresh it.", code="token-expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("The access token is not valid.", code="invalid-token") from exc
    if claims.get("typ") != "access":
        raise Unauthenticated("This is not an access token.", code="invalid-token")
    return claims


def _user_from_bearer(token: str) -> User:
    if token.count(".") == 2:
        header = {}
        with contextlib.suppress(jwt.PyJWTError):
            header = jwt.get_unverified_header(token)
        if header.get("alg") == "RS256" and "firebase_verifier" in current_app.extensions:
            return current_app.extensions["firebase_verifier"](token)
    claims = _decode_access(token)
    user = active_user(db.session, int(claims["sub"]))
    if user is None:
        raise Unauthenticated("The account behind this token no longer exists.", code="invalid-token")
    return user


def load_user_from_request() -> User | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Use 'Authorization: Bearer <token>'.", code="invalid-token")
    return _user_from_bearer(token.strip())


_USER_KEY = "vcc.current_user"
_MISSING = object()


def _cached_user() -> Any:
    """The caller, cached on this request (not on ``g``: tests reuse one app context across requests)."""
    cached = request.environ.get(_USER_KEY, _MISSING)
    if cached is _MISSING:
        cached = load_user_from_request()
        request.environ[_USER_KEY] = cached
        g.current_user = cached
    return cached


def current_user() -> User:
    user = _cached_user()
    if user is None:
        raise Unauthenticated("Sign in: this endpoint needs 'Authorization: Bearer <token>'.")
    return cast(User, user)


def optional_user() -> User | None:
    return cast(User | None, _cached_user())


def auth_required(fn: F) -> F:
    """Require a signed-in user; the OpenAPI document marks the view as bearer-protected."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_user()
        return fn(*args, **kwargs)

    doc = getattr(wrapper, "_apidoc", {})
    wrapper._apidoc = {**doc, "manual_doc": {**doc.get("manual_doc", {}),  # type: ignore[attr-defined]
                                             "security": [{"bearerAuth": []}]}}
    return cast(F, wrapper)


_ROLES = "vcc.roles"


def role_in(session: Any, user: User, organisation_id: int) -> Role | None:
    """The user's role in one organisation. Within a request all of the user's roles are read once (a view
    often asks two or three times: may see, may manage, what to show); any flush that writes a membership or
    a user forgets them, so a change made earlier in the same request is always seen."""
    if not has_request_context():
        return session.scalar(select(Membership.role).where(Membership.user_id == user.id,
                                                            Membership.organisation_id == organisation_id))
    memo: dict[int, dict[int, Role]] = request.environ.setdefault(_ROLES, {})
    if user.id not in memo:
        memo[user.id] = {org: role for org, role in session.execute(
            select(Membership.organisation_id, Membership.role).where(Membership.user_id == user.id))}
    return memo[user.id].get(organisation_id)


@event.listens_for(Session, "after_flush")
def _forget_roles(session: Session, _context: Any) -> None:
    if has_request_context() and _ROLES in request.environ and any(
            isinstance(o, Membership | User) for o in (*session.new, *session.dirty, *session.deleted)):
        del request.environ[_ROLES]


def require_org_role(user: User, organisation_id: int, roles: Iterable[Role] = (Role.ADMIN, Role.ORGANISER),
                     *, hide: bool = False) -> Role:
    """Raise unless ``user`` holds one of ``roles`` in this very organisation.

    With ``hide`` the refusal is a 404 so outsiders cannot probe which private resources exist.
    """
    if user.is_superuser:
        return Role.ADMIN
    role = role_in(db.session, user, organisation_id)
    if role is None or role not in set(roles):
        if hide:
            raise NotFound("No such resource.")
        wanted = " or ".join(r.value for r in roles)
        raise Forbidden(f"This needs the {wanted} role in organisation {organisation_id}.")
    return role


def is_member(user: User, organisation_id: int) -> bool:
    return user.is_superuser or role_in(db.session, user, organisation_id) is not None


def consent_required(fn: F) -> F:
    """For views that take in activity; goes under ``auth_required`` (the user is known by then)."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        consent.require_health_data(current_user(), current_app.extensions["vcc_settings"].health_data_consent_required)
        return fn(*args, **kwargs)

    return cast(F, wrapper)
