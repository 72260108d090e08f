"""Rotating refresh tokens with reuse detection (OAuth 2.0 Security BCP, "refresh token rotation").

A refresh token is an opaque random string; only its SHA-256 is stored. Each login starts a *family*.
Using a token marks it used and issues its successor in the same family. If a used token is presented
again, someone holds a copy (a thief or a replaying client): the whole family is revoked, so the newest
token also stops working and the person has to sign in again. Logout revokes the family too.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.clock import utcnow
from service.errors import Unauthenticated
from service.models import AuditNote, RefreshToken, User
from service.users import active_user

TOKEN_BYTES = 32


@dataclass(frozen=True)
class IssuedRefresh:
    token: str
    family: str
    expires_in: int


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(session: Session, user: User, *, lifetime: timedelta, family: str | None = None) -> IssuedRefresh:
    """Add a new refresh token (a new family unless ``family`` is given); flushes, does not commit."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    now = utcnow()
    family = family or str(uuid.uuid4())
    session.add(RefreshToken(user_id=user.id, family=family, token_hash=hash_token(raw), issued_at=now,
                             expires_at=now + lifetime))
    session.flush()
    return IssuedRefresh(token=raw, family=family, expires_in=int(lifetime.total_seconds()))


def _invalid() -> Unauthenticated:
    return Unauthenticated("The refresh token is not valid; sign in again.", code="invalid-refresh-token")


def revoke_family(session: Session, family: str) -> int:
    now = utcnow()
    result = session.execute(update(RefreshToken).where(RefreshToken.family == family,
                                                        RefreshToken.revoked_at.is_(None))
                             .values(revoked_at=now))
    return int(getattr(result, "rowcount", 0) or 0)


def revoke_all_for_user(session: Session, user_id: int) -> int:
    result = session.execute(update(RefreshToken).where(RefreshToken.user_id == user_id,
                                                        RefreshToken.revoked_at.is_(None))
                             .values(revoked_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def rotate(session: Session, raw: str, *, lifetime: timedelta) -> tuple[User, IssuedRefresh]:
    """Exchange a refresh token for its successor; commits a family revocation before refusing a reuse."""
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_token(raw)))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise _invalid()
    family, user_id = row.family, row.user_id
    # Claim the token atomically: of two concurrent uses, exactly one sees rowcount 1.
    claimed = session.execute(update(RefreshToken).where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None),
                                                         RefreshToken.revoked_at.is_(None))
                              .values(used_at=now))
    if not getattr(claimed, "rowcount", 0):
        revoke_family(session, family)
        session.add(AuditNote(user_id=user_id, event="refresh-token-reuse", detail=f"family {family} revoked"))
        session.commit()
        raise Unauthenticated("This refresh token was already used; every session it started has been "
                              "signed out. Sign in again.", code="refresh-token-reused")
    user = active_user(session, user_id)
    if user is None:
        raise _invalid()
    return user, issue(session, user, lifetime=lifetime, family=family)


def revoke(session: Session, raw: str) -> bool:
    """Revoke the family of this token (logout). Unknown tokens are ignored: logout is idempotent."""
    family = session.scalar(select(RefreshToken.family).where(RefreshToken.token_hash == hash_token(raw)))
    if family is None:
        return False
    revoke_family(session, family)
    return True
