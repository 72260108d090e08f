"""Account use cases: registration, password checks, organisations and memberships."""

from __future__ import annotations

import contextlib
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.errors import Conflict, Invalid
from service.models import Membership, Organisation, OrgKind, Role, User

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("timing-equaliser")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise Invalid("A password needs at least 8 characters.", code="weak-password")
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    """Verify in constant-ish time whether or not the user exists, and rehash when parameters change."""
    if user is None or not user.password_hash:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return False
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def register_user(session: Session, *, email: str, password: str | None, display_name: str,
                  timezone: str = "UTC", locale: str = "en") -> User:
    email = normalise_email(email)
    if find_user_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists.", code="email-taken")
    user = User(email=email, display_name=display_name.strip(), timezone=timezone, locale=locale,
                password_hash=hash_password(password) if password else None)
    session.add(user)
    session.flush()
    return user


def create_superuser(session: Session, *, email: str, password: str, display_name: str) -> User:
    user = find_user_by_email(session, email)
    if user is None:
        user = register_user(session, email=email, password=password, display_name=display_name)
    else:
        user.password_hash = hash_password(password)
    user.is_superuser = True
    session.flush()
    return user


_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    return _SLUG.sub("-", name.lower()).strip("-")[:60] or "org"


def unique_slug(session: Session, name: str) -> str:
    base = slugify(name)
    slug, n = base, 1
    while session.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_organisation(session: Session, *, creator: User | None, kind: OrgKind | str, name: str,
                        country: str | None = None, region: str | None = None,
                        timezone: str = "UTC") -> Organisation:
    org = Organisation(kind=OrgKind(kind), name=name.strip(), slug=unique_slug(session, name),
                       country=country.upper() if country else None, region=region, timezone=timezone)
    session.add(org)
    session.flush()
    if creator is not None:
        session.add(Membership(user_id=creator.id, organisation_id=org.id, role=Role.ADMIN))
        session.flush()
    return org


def set_membership(session: Session, *, user: User, organisation: Organisation, role: Role | str) -> Membership:
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id,
                                                         Membership.organisation_id == organisation.id))
    if membership is None:
        membership = Membership(user_id=user.id, organisation_id=organisation.id, role=Role(role))
        session.add(membership)
    else:
        membership.role = Role(role)
    session.flush()
    return membership
