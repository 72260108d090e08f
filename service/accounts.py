"""Account use cases: registration, password checks, organisations and memberships, erasure."""

from __future__ import annotations

import contextlib
import re
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from service import login_throttle, membership
from service.clock import utcnow
from service.db_dialect import rows_affected
from service.errors import Conflict, Invalid, NotFound, Unprocessable
from service.models import (
    AuditEvent,
    AuditNote,
    IdempotencyRecord,
    Invitation,
    LoginThrottle,
    Membership,
    MembershipPolicy,
    Organisation,
    OrgKind,
    RefreshToken,
    Role,
    User,
)
from service.users import normalise_email, user_deleted

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("timing-equaliser")


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


def _check_policy(policy: MembershipPolicy, email_domains: list[str] | None) -> None:
    if policy == MembershipPolicy.EMAIL_DOMAIN and not email_domains:
        raise Unprocessable("Membership by e-mail domain needs at least one domain in email_domains.",
                            code="email-domains-required")


def create_organisation(session: Session, *, creator: User | None, kind: OrgKind | str, name: str,
                        country: str | None = None, region: str | None = None, timezone: str = "UTC",
                        membership_policy: MembershipPolicy | str = MembershipPolicy.INVITATION,
                        email_domains: list[str] | None = None, areas: list[str] | None = None) -> Organisation:
    org = Organisation(kind=OrgKind(kind), name=name.strip(), slug=unique_slug(session, name),
                       country=country.upper() if country else None, region=region, timezone=timezone,
                       membership_policy=MembershipPolicy(membership_policy),
                       email_domains=membership.clean_domains(email_domains or []) or None,
                       areas=membership.clean_areas(areas or []) or None)
    _check_policy(org.membership_policy, org.email_domains)
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


def delete_user(session: Session, user: User, *, secret: str | None = None) -> dict[str, int]:
    """Erasure (GDPR art. 17): what could lead back to the person goes, in the caller's transaction.

    The row stays as a tombstone, so ids never get reused (SQLite would hand a freed id to the next sign-up)
    and the enrolments that keep team and organisation sizes point at nobody in particular; everything else
    about the person is deleted or detached by ``user_deleted``'s receivers, each answering what it removed.
    ``secret`` is the key the sign-in throttle hashes addresses with (SECRET_KEY); without it the address's
    count is left to its hourly purge. Erasing a tombstone again changes nothing, and completes what an older
    release left behind. Returns the counts by kind (the admin command prints them). The caller commits.
    """
    now = utcnow()
    address = user.email
    counts = {
        "refresh_tokens": rows_affected(session, delete(RefreshToken).where(RefreshToken.user_id == user.id)),
        "idempotency_records": rows_affected(session, delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user.id)),
        "memberships": rows_affected(session, delete(Membership).where(Membership.user_id == user.id)),
        "audit_notes": rows_affected(session, update(AuditNote).where(AuditNote.user_id == user.id)
                                     .values(user_id=None, detail=None)),
        "invitations": rows_affected(session, update(Invitation).where(Invitation.email == address)
                                     .values(email=None, revoked_at=func.coalesce(Invitation.revoked_at, now))),
    }
    if secret is not None:
        counts["login_throttles"] = rows_affected(session, delete(LoginThrottle).where(
            LoginThrottle.account_key == login_throttle.account_key(address, secret)))
    rows_affected(session, update(Invitation).where(Invitation.created_by_id == user.id).values(created_by_id=None))
    rows_affected(session, update(AuditEvent).where(AuditEvent.actor_id == user.id).values(actor_id=None))
    if user.deleted_at is None:
        user.deleted_at = user.created_at = now
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.display_name = "Deleted user"
    user.alias = None
    user.show_full_name = False
    user.password_hash = user.firebase_uid = None
    user.weight_kg = None
    user.timezone, user.locale = "UTC", "en"
    user.health_data_consent_at = user.health_data_consent_version = None
    user.hide_from_leaderboards = True
    user.is_superuser = False
    session.flush()
    for _receiver, removed in user_deleted.send(session, user_id=user.id, address=address):
        counts.update(removed or {})
    return counts


def update_organisation(session: Session, org: Organisation, changes: dict[str, Any]) -> Organisation:
    """Taking a domain off ``email_domains`` ends the memberships it had made (service.membership)."""
    domains = (membership.clean_domains(changes["email_domains"] or []) or None if "email_domains" in changes
               else org.email_domains)
    _check_policy(MembershipPolicy(changes.get("membership_policy", org.membership_policy)), domains)
    for name in ("kind", "name", "country", "region", "timezone", "membership_policy"):
        if name in changes:
            value = changes[name]
            if name == "country" and value:
                value = value.upper()
            if name == "name":
                value = value.strip()
            setattr(org, name, value)
    if "email_domains" in changes:
        org.email_domains = domains
    if "areas" in changes:
        org.areas = membership.clean_areas(changes["areas"] or []) or None
    session.flush()
    if "email_domains" in changes:
        membership.end_lapsed(session, organisation_id=org.id)
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
