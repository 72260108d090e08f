"""Account use cases: registration, password checks, organisations and memberships."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.clock import utcnow
from service.errors import Conflict, Invalid, NotFound
from service.models import Membership, Organisation, OrgKind, Role, User
from service.tokens import revoke_all_for_user
from service.users import user_deleted

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
    """Also finds deleted users (their email is anonymised, so a real address never matches one)."""
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


ROLE_RANK = {Role.MEMBER: 0, Role.ORGANISER: 1, Role.ADMIN: 2}

def update_profile(session: Session, user: User, changes: dict[str, Any]) -> User:
    for name in ("display_name", "timezone", "locale", "hide_from_leaderboards", "alias", "show_full_name",
                 "weight_kg"):
        if name in changes:
            value = changes[name]
            if isinstance(value, str) and name in ("display_name", "alias"):
                value = value.strip() or None if name == "alias" else value.strip()
            setattr(user, name, value)
    session.flush()
    return user


def delete_user(session: Session, user: User) -> None:
    """Soft-delete: keep the row (ledger rows point at it) but make the person unrecognisable and inert.

    The email is anonymised (freeing the address for a new sign-up), credentials and refresh tokens are
    revoked, memberships end, and the user is hidden from leaderboards. ``user_deleted`` tells the rest
    (consent is withdrawn, boards and inboxes drop the person). The caller commits.
    """
    if user.deleted_at is not None:
        return
    user.deleted_at = utcnow()
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.display_name = "Deleted user"
    user.password_hash = None
    user.firebase_uid = None
    user.weight_kg = None
    user.hide_from_leaderboards = True
    user.is_superuser = False
    revoke_all_for_user(session, user.id)
    session.execute(delete(Membership).where(Membership.user_id == user.id))
    session.flush()
    user_deleted.send(session, user_id=user.id)


def update_organisation(session: Session, org: Organisation, changes: dict[str, Any]) -> Organisation:
    for name in ("kind", "name", "country", "region", "timezone"):
        if name in changes:
            value = changes[name]
            if name == "country" and value:
                value = value.upper()
            if name == "name":
                value = value.strip()
            setattr(org, name, value)
    session.flush()
    return org


def get_membership(session: Session, organisation_id: int, user_id: int) -> Membership:
    membership = session.scalar(select(Membership).where(Membership.organisation_id == organisation_id,
                                                         Membership.user_id == user_id))
    if membership is None:
        raise NotFound("This person is not a member of the organisation.", code="membership-not-found")
    return membership


def _admin_count(session: Session, organisation_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Membership).where(
        Membership.organisation_id == organisation_id, Membership.role == Role.ADMIN)) or 0


def change_role(session: Session, membership: Membership, role: Role) -> Membership:
    if membership.role == Role.ADMIN and role != Role.ADMIN and _admin_count(session, membership.organisation_id) <= 1:
        raise Conflict("An organisation needs at least one admin; make someone else admin first.",
                       code="last-admin")
    membership.role = role
    session.flush()
    return membership


def remove_membership(session: Session, membership: Membership) -> None:
    if membership.role == Role.ADMIN and _admin_count(session, membership.organisation_id) <= 1:
        raise Conflict("An organisation needs at least one admin; make someone else admin first.",
                       code="last-admin")
    session.delete(membership)
    session.flush()
